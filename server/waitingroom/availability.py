"""Can a patient reach the clinic by video at a given moment? Pure rules, no I/O.

Two things close the door:
- an **absence** (holiday, course, other) closes it for every link, scheduled or drop-in,
  and the patient is sent to the substitute clinic;
- outside the **open video hours** only the drop-in link is closed; booked patients keep their
  appointment.

Absences are UTC instants with an exclusive end, so one that spans midnight or a
daylight-saving change needs no special care; video hours are Copenhagen wall-clock times.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from server.clock import COPENHAGEN, local
from server.store.absences import Absence, Substitute
from server.store.clinics import Hours
from server.waitingroom.hours import WEEKDAYS, is_open

# How far ahead to look for the next opening: longer than any holiday or leave.
HORIZON_DAYS = 400

Reason = Literal["open", "closed", "absent"]


@dataclass(frozen=True)
class Availability:
    """`open` is about the drop-in hour; a scheduled link is refused only when `absent`."""

    open: bool
    reason: Reason
    absence: Absence | None = None  # the absence in force; the latest started if several
    absent_until: float | None = None  # when no absence covers the clinic any more
    next_open: float | None = None  # first moment the drop-in hour is open and no absence applies

    @property
    def absent(self) -> bool:
        return self.reason == "absent"

    @property
    def substitute(self) -> Substitute | None:
        return self.absence.substitute if self.absence else None


def absence_in_force(absences: list[Absence], at: float) -> Absence | None:
    """The absence that applies at `at`. A shorter arrangement inside a longer one (a course
    during a holiday) is the more specific, so the one that started last names the substitute."""
    covering = [a for a in absences if a.covers(at)]
    return max(covering, key=lambda a: (a.start, -a.end, a.id)) if covering else None


def availability(hours: Hours, absences: list[Absence], at: float) -> Availability:
    current = absence_in_force(absences, at)
    if current is not None:
        return Availability(
            open=False,
            reason="absent",
            absence=current,
            absent_until=clear_of_absences(absences, at),
            next_open=next_open(hours, absences, at),
        )
    if is_open(hours, at):
        return Availability(open=True, reason="open", next_open=at)
    return Availability(open=False, reason="closed", next_open=next_open(hours, absences, at))


def clear_of_absences(absences: list[Absence], at: float) -> float:
    """The first moment at or after `at` that no absence covers (back-to-back ones chain)."""
    moment = at
    while True:
        ends = [a.end for a in absences if a.covers(moment)]
        if not ends:
            return moment
        moment = max(ends)


def next_open(hours: Hours, absences: list[Absence], at: float) -> float | None:
    """The first moment at or after `at` when the drop-in hour is open and the clinic is not
    absent; None when there is none within the horizon (or no hours at all)."""
    return next((max(start, at) for start, _ in open_periods(hours, absences, at)), None)


def open_periods(
    hours: Hours, absences: list[Absence], at: float, closed_days: Container[date] = ()
) -> Iterator[tuple[float, float]]:
    """The periods, as (start, end) instants in time order, when `hours` are open, no absence
    applies and the Copenhagen day is not one of `closed_days`, from the one that includes `at`
    (or the next) up to HORIZON_DAYS ahead. Neighbouring periods may touch end to start."""
    if not any(hours.values()):
        return
    first_day = local(at).date()
    for offset in range(HORIZON_DAYS):
        day = first_day + timedelta(days=offset)
        if day in closed_days:
            continue
        for start, end in sorted(hours.get(WEEKDAYS[day.weekday()], [])):
            for period in _without_absences(wall_clock(day, start), wall_clock(day, end), absences):
                if period[1] > at:
                    yield period


def _without_absences(
    start: float, end: float, absences: list[Absence]
) -> Iterator[tuple[float, float]]:
    """What is left of [start, end) once every absence is taken out."""
    for a in sorted(absences, key=lambda a: a.start):
        if a.end <= start or a.start >= end:
            continue
        if a.start > start:
            yield start, a.start
        start = max(start, a.end)
        if start >= end:
            return
    yield start, end


def wall_clock(day: date, hhmm: str) -> float:
    """The instant of a Copenhagen wall-clock time on a day; "24:00" is the next midnight.
    A time skipped by the spring change counts as the hour after it; a repeated autumn time
    as its first occurrence."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    return local_instant(datetime.combine(day, time(hour, minute)))


def local_instant(wall: datetime) -> float:
    """A naive Copenhagen wall-clock datetime as UTC epoch seconds."""
    return wall.replace(tzinfo=COPENHAGEN).timestamp()
