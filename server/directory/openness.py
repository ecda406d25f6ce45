"""Is a clinic open now, why, and until when? Pure rules, no I/O.

A clinic is open within its opening hours (Copenhagen wall-clock times) on a day that is not a
Danish public holiday, unless one of its absences applies. The reason, first match wins:
- "absence": an absence applies, whatever the hours say (it names the substitute);
- "public_holiday": today is a public holiday (see `publicholidays`);
- "hours": within today's opening hours;
- "closed": outside them.

Hours are wall-clock times, so daylight-saving days follow the waiting room's rule
(`wall_clock`): a time the spring change skips counts as the hour after it, and a span over
the repeated autumn hour lasts an hour longer. Absences are instants, so one across midnight
or a clock change needs no care at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from server.clock import local
from server.store.absences import Absence
from server.store.clinics import Hours
from server.waitingroom.availability import absence_in_force, open_periods
from server.waitingroom.hours import WEEKDAYS

Reason = Literal["hours", "closed", "public_holiday", "absence"]


@dataclass(frozen=True)
class Openness:
    open: bool
    reason: Reason
    # When it next closes (if open) or opens (if closed); None if not within a year or so.
    next_change: float | None
    today: list[tuple[str, str]] = field(default_factory=list)  # none on a public holiday
    holiday: str | None = None  # today's public holiday, by name
    current_absence: Absence | None = None
    next_absence: Absence | None = None  # the first to start after now


def openness(
    hours: Hours, absences: list[Absence], at: float, public_holidays: Mapping[date, str]
) -> Openness:
    day = local(at).date()
    holiday = public_holidays.get(day)
    current = absence_in_force(absences, at)
    is_open, next_change = _next_change(open_periods(hours, absences, at, public_holidays), at)
    reason: Reason
    if current is not None:
        reason = "absence"
    elif holiday is not None:
        reason = "public_holiday"
    else:
        reason = "hours" if is_open else "closed"
    return Openness(
        open=is_open,
        reason=reason,
        next_change=next_change,
        today=[] if holiday else hours.get(WEEKDAYS[day.weekday()], []),
        holiday=holiday,
        current_absence=current,
        next_absence=min(
            (a for a in absences if a.start > at), key=lambda a: (a.start, a.end), default=None
        ),
    )


def _next_change(periods: Iterator[tuple[float, float]], at: float) -> tuple[bool, float | None]:
    """Whether `at` is within the open periods, and when that changes. Periods that touch
    (08:00-12:00 and 12:00-16:00, or Monday 24:00 and Tuesday 00:00) make one opening."""
    first = next(periods, None)
    if first is None:
        return False, None
    start, end = first
    if start > at:
        return False, start
    for following_start, following_end in periods:
        if following_start > end:
            return True, end
        end = max(end, following_end)
    return True, None
