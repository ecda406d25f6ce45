"""Open, closed or absent: video hours in Copenhagen wall-clock time, absences as instants."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from server.store.absences import COURSE, HOLIDAY, Absence, Substitute
from server.waitingroom.availability import availability, next_open, wall_clock

CPH = ZoneInfo("Europe/Copenhagen")
UTC = ZoneInfo("UTC")
HOUR = 3600.0

NORD = Substitute("Lægerne i Nørregade", "+45 33 12 34 56")
SYD = Substitute("Lægehuset Syd", "+45 86 00 11 22")
WEEKDAY_MORNINGS = {day: [("08:00", "12:00")] for day in ("mon", "tue", "wed", "thu", "fri")}


def at(*args: int, tz: ZoneInfo = CPH) -> float:
    return datetime(*args, tzinfo=tz).timestamp()  # type: ignore[misc]


def absence(
    start: float, end: float, substitute: Substitute = NORD, kind: str = HOLIDAY, id: str = "a1"
) -> Absence:
    return Absence(id, "clinic-1", kind, start, end, substitute)


def test_open_inside_the_video_hour() -> None:
    # 2026-11-02 is a Monday.
    state = availability(WEEKDAY_MORNINGS, [], at(2026, 11, 2, 9, 0))
    assert state.open
    assert state.reason == "open"
    assert not state.absent
    assert state.absence is None and state.substitute is None
    assert state.next_open == at(2026, 11, 2, 9, 0)


def test_closed_outside_the_video_hour_says_when_it_opens() -> None:
    state = availability(WEEKDAY_MORNINGS, [], at(2026, 11, 2, 12, 0))  # Monday noon
    assert not state.open
    assert state.reason == "closed"
    assert not state.absent
    assert state.next_open == at(2026, 11, 3, 8, 0)  # Tuesday morning


def test_absence_wins_over_open_hours_and_names_the_substitute() -> None:
    leave = absence(at(2026, 11, 2, 0, 0), at(2026, 11, 4, 0, 0))
    state = availability(WEEKDAY_MORNINGS, [leave], at(2026, 11, 2, 9, 0))
    assert not state.open
    assert state.reason == "absent"
    assert state.absent
    assert state.absence == leave
    assert state.substitute == NORD
    assert state.absent_until == at(2026, 11, 4, 0, 0)
    assert state.next_open == at(2026, 11, 4, 8, 0)  # Wednesday, the first morning back


def test_absence_applies_outside_hours_too() -> None:
    # A booked patient may come at any time; during an absence they are sent on all the same.
    leave = absence(at(2026, 11, 2, 0, 0), at(2026, 11, 4, 0, 0))
    state = availability({}, [leave], at(2026, 11, 2, 20, 0))
    assert state.reason == "absent"
    assert state.next_open is None  # no video hours at all


def test_absence_across_midnight() -> None:
    night = absence(at(2026, 11, 2, 22, 0), at(2026, 11, 3, 6, 0))
    assert availability({}, [night], at(2026, 11, 2, 23, 59, 59)).absent
    assert availability({}, [night], at(2026, 11, 3, 0, 0)).absent
    assert availability({}, [night], at(2026, 11, 3, 5, 59, 59)).absent
    assert not availability({}, [night], at(2026, 11, 3, 6, 0)).absent
    assert not availability({}, [night], at(2026, 11, 2, 21, 59, 59)).absent


def test_start_inclusive_end_exclusive() -> None:
    course = absence(at(2026, 11, 2, 8, 0), at(2026, 11, 2, 10, 0), kind=COURSE)
    assert availability(WEEKDAY_MORNINGS, [course], at(2026, 11, 2, 8, 0)).absent
    back = availability(WEEKDAY_MORNINGS, [course], at(2026, 11, 2, 10, 0))
    assert back.open
    assert back.absence is None


def test_absence_across_the_spring_change() -> None:
    # 2026-03-29: clocks jump from 02:00 CET to 03:00 CEST; the night is one hour short.
    start = wall_clock(date(2026, 3, 28), "20:00")
    end = wall_clock(date(2026, 3, 29), "08:00")
    assert end - start == 11 * HOUR
    assert start == at(2026, 3, 28, 19, 0, tz=UTC)
    assert end == at(2026, 3, 29, 6, 0, tz=UTC)
    night = absence(start, end)
    assert availability({}, [night], at(2026, 3, 29, 1, 30, tz=UTC)).absent  # 03:30 CEST
    assert availability({}, [night], at(2026, 3, 29, 5, 59, tz=UTC)).absent  # 07:59 CEST
    assert not availability({}, [night], at(2026, 3, 29, 6, 0, tz=UTC)).absent  # 08:00 CEST
    # Sunday's video hour starts at 08:00 summer time, right when the clinic is back.
    sunday = {"sun": [("08:00", "09:00")]}
    state = availability(sunday, [night], at(2026, 3, 29, 1, 0, tz=UTC))
    assert state.absent_until == end
    assert state.next_open == at(2026, 3, 29, 6, 0, tz=UTC)


def test_absence_across_the_autumn_change() -> None:
    # 2026-10-25: clocks go back from 03:00 CEST to 02:00 CET; the night is one hour long.
    start = wall_clock(date(2026, 10, 24), "20:00")
    end = wall_clock(date(2026, 10, 25), "08:00")
    assert end - start == 13 * HOUR
    night = absence(start, end)
    assert availability({}, [night], at(2026, 10, 25, 0, 30, tz=UTC)).absent  # 02:30 CEST
    assert availability({}, [night], at(2026, 10, 25, 1, 30, tz=UTC)).absent  # 02:30 CET
    assert availability({}, [night], at(2026, 10, 25, 6, 59, tz=UTC)).absent  # 07:59 CET
    assert not availability({}, [night], at(2026, 10, 25, 7, 0, tz=UTC)).absent  # 08:00 CET


def test_a_wall_clock_time_the_spring_change_skips_counts_as_the_hour_after() -> None:
    assert wall_clock(date(2026, 3, 29), "02:30") == at(2026, 3, 29, 3, 30)


def test_overlapping_absences_the_latest_started_names_the_substitute() -> None:
    holiday = absence(at(2026, 7, 1, 0, 0), at(2026, 7, 15, 0, 0), NORD, HOLIDAY, "holiday")
    course = absence(at(2026, 7, 6, 8, 0), at(2026, 7, 6, 16, 0), SYD, COURSE, "course")
    both = [holiday, course]
    assert availability({}, both, at(2026, 7, 3, 9, 0)).substitute == NORD
    during_course = availability({}, both, at(2026, 7, 6, 9, 0))
    assert during_course.absence == course
    assert during_course.substitute == SYD
    assert during_course.absent_until == at(2026, 7, 15, 0, 0)  # back only after the holiday
    assert availability({}, both, at(2026, 7, 6, 16, 0)).substitute == NORD


def test_back_to_back_absences_chain() -> None:
    first = absence(at(2026, 7, 1, 0, 0), at(2026, 7, 8, 0, 0), NORD, HOLIDAY, "first")
    second = absence(at(2026, 7, 8, 0, 0), at(2026, 7, 10, 12, 0), SYD, COURSE, "second")
    state = availability(WEEKDAY_MORNINGS, [first, second], at(2026, 7, 2, 9, 0))
    assert state.substitute == NORD
    assert state.absent_until == at(2026, 7, 10, 12, 0)
    assert state.next_open == at(2026, 7, 13, 8, 0)  # Friday afternoon is back, Monday opens


def test_next_opening_can_be_in_the_middle_of_a_span() -> None:
    course = absence(at(2026, 11, 2, 7, 0), at(2026, 11, 2, 10, 30), kind=COURSE)
    state = availability(WEEKDAY_MORNINGS, [course], at(2026, 11, 2, 7, 30))
    assert state.next_open == at(2026, 11, 2, 10, 30)


def test_next_opening_skips_spans_an_absence_covers_completely() -> None:
    course = absence(at(2026, 11, 2, 7, 0), at(2026, 11, 2, 12, 0), kind=COURSE)
    assert next_open(WEEKDAY_MORNINGS, [course], at(2026, 11, 2, 7, 30)) == at(2026, 11, 3, 8, 0)


def test_next_opening_across_a_weekend_and_between_spans() -> None:
    split = {"mon": [("08:00", "09:00"), ("13:00", "14:00")]}
    friday_evening = at(2026, 10, 30, 18, 0)
    assert next_open(split, [], friday_evening) == at(2026, 11, 2, 8, 0)
    assert next_open(split, [], at(2026, 11, 2, 10, 0)) == at(2026, 11, 2, 13, 0)
    assert next_open(split, [], at(2026, 11, 2, 13, 30)) == at(2026, 11, 2, 13, 30)


def test_no_hours_never_open() -> None:
    state = availability({}, [], at(2026, 11, 2, 9, 0))
    assert state.reason == "closed"
    assert state.next_open is None
    assert next_open({"mon": []}, [], at(2026, 11, 2, 9, 0)) is None


def test_an_ended_absence_does_not_count() -> None:
    past = absence(at(2026, 1, 1, 0, 0), at(2026, 1, 2, 0, 0))
    assert availability(WEEKDAY_MORNINGS, [past], at(2026, 11, 2, 9, 0)).open
