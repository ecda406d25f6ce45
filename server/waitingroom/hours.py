"""Is the clinic's open video hour open now? Hours are local Copenhagen wall-clock times.

The settings page writes a day's hours as text, "08:00-09:00, 13.00-14.30": Danes write
times with a dot as often as with a colon, and several spans fit in one field.
"""

from __future__ import annotations

import re

from server.clock import local
from server.store.clinics import Hours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_SPAN = re.compile(r"^(\d{1,2})[:.](\d{2})\s*[-–]\s*(\d{1,2})[:.](\d{2})$")


class HoursProblem(ValueError):
    """`code` names the problem for the form: "format", "order" or "overlap"."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def is_open(hours: Hours, at: float) -> bool:
    moment = local(at)
    clock = moment.strftime("%H:%M")
    spans = hours.get(WEEKDAYS[moment.weekday()], [])
    return any(start <= clock < end for start, end in spans)


def parse_spans(text: str) -> list[tuple[str, str]]:
    """One day's spans from text; empty text is a closed day."""
    spans = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _SPAN.match(part)
        if not match:
            raise HoursProblem("format")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise HoursProblem("format")
        start, end = f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"
        if not start < end:
            raise HoursProblem("order")
        spans.append((start, end))
    spans.sort()
    if any(spans[i][1] > spans[i + 1][0] for i in range(len(spans) - 1)):
        raise HoursProblem("overlap")
    return spans


def format_spans(spans: list[tuple[str, str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in spans)
