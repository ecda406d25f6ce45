"""Is the clinic's open video hour open now? Hours are local Copenhagen wall-clock times."""

from __future__ import annotations

from server.clock import local
from server.store.clinics import Hours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_open(hours: Hours, at: float) -> bool:
    moment = local(at)
    clock = moment.strftime("%H:%M")
    spans = hours.get(WEEKDAYS[moment.weekday()], [])
    return any(start <= clock < end for start, end in spans)
