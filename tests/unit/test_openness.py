"""Open now or not, why, and until when: opening hours in Copenhagen time, absences as
instants, and the Danish public holidays from the `holidays` package."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from server.directory.openness import openness
from server.directory.publicholidays import public_holidays
from server.store.absences import COURSE, HOLIDAY, Absence, Substitute
from server.store.clinics import Hours

CPH = ZoneInfo("Europe/Copenhagen")
UTC = ZoneInfo("UTC")
HOUR = 3600.0
DK = public_holidays()
NO_HOLIDAYS: dict[date, str] = {}

NORD = Substitute("Lægerne i Nørregade", "+45 33 12 34 56")
SYD = Substitute("Lægehuset Syd", "+45 86 00 11 22")
WEEKDAYS_8_16: Hours = {day: [("08:00", "16:00")] for day in ("mon", "tue", "wed", "thu", "fri")}


def at(*args: int, tz: ZoneInfo = CPH) -> float:
    return datetime(*args, tzinfo=tz).timestamp()  # type: ignore[misc]


def absence(
    start: float, end: float, substitute: Substitute = NORD, kind: str = HOLIDAY, id: str = "a1"
) -> Absence:
    return Absence(id, "clinic-1", kind, start, end, substitute)


# ---- hours ---------------------------------------------------------------------------------


def test_open_within_the_hours_until_they_end() -> None:
    state = openness(WEEKDAYS_8_16, [], at(2026, 11, 2, 9, 0), DK)  # a Monday
    assert state.open
    assert state.reason == "hours"
    assert state.next_change == at(2026, 11, 2, 16, 0)
    assert state.today == [("08:00", "16:00")]
    assert state.holiday is None
    assert state.current_absence is None and state.next_absence is None


def test_opening_is_inclusive_and_closing_exclusive() -> None:
    assert openness(WEEKDAYS_8_16, [], at(2026, 11, 2, 8, 0), DK).open
    closing = openness(WEEKDAYS_8_16, [], at(2026, 11, 2, 16, 0), DK)
    assert not closing.open
    assert closing.reason == "closed"
    assert closing.next_change == at(2026, 11, 3, 8, 0)


def test_closed_over_lunch_until_the_next_span() -> None:
    hours: Hours = {"mon": [("08:00", "12:00"), ("13:00", "16:00")]}
    state = openness(hours, [], at(2026, 11, 2, 12, 30), DK)
    assert (state.open, state.reason) == (False, "closed")
    assert state.next_change == at(2026, 11, 2, 13, 0)


def test_spans_that_touch_are_one_opening() -> None:
    hours: Hours = {"mon": [("08:00", "12:00"), ("12:00", "16:00")]}
    assert openness(hours, [], at(2026, 11, 2, 9, 0), DK).next_change == at(2026, 11, 2, 16, 0)
    night_and_day: Hours = {"mon": [("20:00", "24:00")], "tue": [("00:00", "06:00")]}
    state = openness(night_and_day, [], at(2026, 11, 2, 23, 0), DK)
    assert state.open
    assert state.next_change == at(2026, 11, 3, 6, 0)


def test_the_next_opening_skips_the_weekend() -> None:
    state = openness(WEEKDAYS_8_16, [], at(2026, 11, 6, 16, 30), DK)  # Friday afternoon
    assert not state.open
    assert state.next_change == at(2026, 11, 9, 8, 0)  # Monday
    assert state.today == [("08:00", "16:00")]
    sunday = openness(WEEKDAYS_8_16, [], at(2026, 11, 8, 12, 0), DK)
    assert sunday.reason == "closed"
    assert sunday.today == []


def test_no_hours_is_closed_with_no_next_opening() -> None:
    state = openness({}, [], at(2026, 11, 2, 9, 0), DK)
    assert (state.open, state.reason, state.next_change) == (False, "closed", None)


def test_always_open_closes_only_on_the_next_public_holiday() -> None:
    always: Hours = {
        day: [("00:00", "24:00")] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    assert openness(always, [], at(2026, 11, 2, 9, 0), DK).next_change == at(2026, 12, 25, 0, 0)
    # Without holidays it never closes within the horizon.
    state = openness(always, [], at(2026, 11, 2, 9, 0), NO_HOLIDAYS)
    assert state.open
    assert state.next_change is None


# ---- absences ------------------------------------------------------------------------------


def test_an_absence_across_midnight() -> None:
    night = absence(at(2026, 11, 2, 22, 0), at(2026, 11, 3, 10, 0))  # Monday 22 to Tuesday 10
    before = openness(WEEKDAYS_8_16, [night], at(2026, 11, 2, 15, 0), DK)
    assert before.open
    assert before.next_change == at(2026, 11, 2, 16, 0)
    assert before.next_absence == night
    evening = openness(WEEKDAYS_8_16, [night], at(2026, 11, 2, 21, 0), DK)
    assert (evening.reason, evening.next_absence) == ("closed", night)
    assert evening.next_change == at(2026, 11, 3, 10, 0)  # not at 08:00: still away then
    for moment in (at(2026, 11, 2, 23, 59, 59), at(2026, 11, 3, 0, 0), at(2026, 11, 3, 9, 59)):
        state = openness(WEEKDAYS_8_16, [night], moment, DK)
        assert (state.open, state.reason) == (False, "absence")
        assert state.current_absence == night
        assert state.current_absence.substitute == NORD
        assert state.next_absence is None
        assert state.next_change == at(2026, 11, 3, 10, 0)
    back = openness(WEEKDAYS_8_16, [night], at(2026, 11, 3, 10, 0), DK)
    assert (back.open, back.reason, back.current_absence) == (True, "hours", None)


def test_an_absence_that_starts_during_the_hours_closes_the_clinic_then() -> None:
    course = absence(at(2026, 11, 2, 12, 0), at(2026, 11, 2, 14, 0), SYD, COURSE)
    state = openness(WEEKDAYS_8_16, [course], at(2026, 11, 2, 9, 0), DK)
    assert state.open
    assert state.next_change == at(2026, 11, 2, 12, 0)
    assert state.next_absence == course
    during = openness(WEEKDAYS_8_16, [course], at(2026, 11, 2, 13, 0), DK)
    assert during.reason == "absence"
    assert during.next_change == at(2026, 11, 2, 14, 0)


def test_an_absence_applies_outside_the_hours_too() -> None:
    leave = absence(at(2026, 11, 7, 0, 0), at(2026, 11, 10, 0, 0))  # Saturday to Tuesday
    state = openness(WEEKDAYS_8_16, [leave], at(2026, 11, 8, 12, 0), DK)
    assert state.reason == "absence"
    assert state.next_change == at(2026, 11, 10, 8, 0)


def test_the_next_absence_is_the_earliest_to_come() -> None:
    now = at(2026, 11, 2, 9, 0)
    current = absence(now - HOUR, now + HOUR, id="current")
    later = absence(now + 10 * 24 * HOUR, now + 12 * 24 * HOUR, id="later")
    sooner = absence(now + 2 * 24 * HOUR, now + 3 * 24 * HOUR, SYD, COURSE, id="sooner")
    past = absence(now - 5 * 24 * HOUR, now - 4 * 24 * HOUR, id="past")
    state = openness(WEEKDAYS_8_16, [later, past, current, sooner], now, DK)
    assert state.current_absence == current
    assert state.next_absence == sooner


def test_an_absence_outranks_a_public_holiday() -> None:
    christmas = absence(at(2026, 12, 21, 0, 0), at(2027, 1, 4, 0, 0))
    state = openness(WEEKDAYS_8_16, [christmas], at(2026, 12, 25, 10, 0), DK)
    assert state.reason == "absence"
    assert state.holiday == "Juledag"
    assert state.next_change == at(2027, 1, 4, 8, 0)


# ---- daylight saving -------------------------------------------------------------------------


def test_spring_forward_a_span_over_the_skipped_hour_is_short() -> None:
    # 2026-03-29, the last Sunday of March: 02:00 CET jumps to 03:00 CEST.
    night: Hours = {"sun": [("02:00", "03:30")]}
    opens, closes = at(2026, 3, 29, 1, 0, tz=UTC), at(2026, 3, 29, 1, 30, tz=UTC)
    assert closes - opens == 0.5 * HOUR  # 03:00 to 03:30 CEST: 02:00 never happens
    before = openness(night, [], at(2026, 3, 29, 0, 59, tz=UTC), DK)  # 01:59 CET
    assert (before.open, before.next_change) == (False, opens)
    during = openness(night, [], opens, DK)
    assert (during.open, during.next_change) == (True, closes)
    assert not openness(night, [], closes, DK).open


def test_spring_forward_an_ordinary_day_is_eight_hours() -> None:
    sunday: Hours = {"sun": [("08:00", "16:00")]}
    saturday_night = openness(sunday, [], at(2026, 3, 28, 22, 0), DK)
    assert saturday_night.next_change == at(2026, 3, 29, 6, 0, tz=UTC)  # 08:00 CEST
    state = openness(sunday, [], at(2026, 3, 29, 6, 0, tz=UTC), DK)
    assert state.open
    assert state.next_change == at(2026, 3, 29, 14, 0, tz=UTC)  # 16:00 CEST
    assert not openness(sunday, [], at(2026, 3, 29, 5, 59, tz=UTC), DK).open  # 07:59 CEST


def test_fall_back_a_span_over_the_repeated_hour_is_long() -> None:
    # 2026-10-25, the last Sunday of October: 03:00 CEST falls back to 02:00 CET.
    night: Hours = {"sun": [("02:00", "03:30")]}
    opens, closes = at(2026, 10, 25, 0, 0, tz=UTC), at(2026, 10, 25, 2, 30, tz=UTC)
    assert closes - opens == 2.5 * HOUR
    first_0230 = openness(night, [], at(2026, 10, 25, 0, 30, tz=UTC), DK)  # 02:30 CEST
    second_0230 = openness(night, [], at(2026, 10, 25, 1, 30, tz=UTC), DK)  # 02:30 CET
    assert first_0230.open and second_0230.open
    assert first_0230.next_change == second_0230.next_change == closes
    saturday = openness(night, [], at(2026, 10, 24, 23, 0), DK)
    assert (saturday.open, saturday.next_change) == (False, opens)
    assert not openness(night, [], closes, DK).open


def test_fall_back_an_ordinary_day_is_eight_hours() -> None:
    sunday: Hours = {"sun": [("08:00", "16:00")]}
    state = openness(sunday, [], at(2026, 10, 25, 7, 0, tz=UTC), DK)  # 08:00 CET
    assert state.open
    assert state.next_change == at(2026, 10, 25, 15, 0, tz=UTC)  # 16:00 CET
    assert not openness(sunday, [], at(2026, 10, 25, 6, 59, tz=UTC), DK).open


def test_an_absence_across_the_autumn_night() -> None:
    night = absence(at(2026, 10, 24, 20, 0), at(2026, 10, 25, 9, 0))
    sunday: Hours = {"sun": [("08:00", "16:00")]}
    state = openness(sunday, [night], at(2026, 10, 25, 1, 30, tz=UTC), DK)  # second 02:30
    assert state.reason == "absence"
    assert state.next_change == at(2026, 10, 25, 8, 0, tz=UTC)  # 09:00 CET


# ---- public holidays -------------------------------------------------------------------------


def test_christmas_day_is_closed_and_the_next_opening_skips_the_holidays() -> None:
    state = openness(WEEKDAYS_8_16, [], at(2026, 12, 25, 10, 0), DK)  # a Friday
    assert (state.open, state.reason) == (False, "public_holiday")
    assert state.holiday == "Juledag"
    assert state.today == []
    # Boxing Day is a Saturday, then Sunday: back on Monday 28 December.
    assert state.next_change == at(2026, 12, 28, 8, 0)


def test_easter_is_closed_from_maundy_thursday_to_easter_monday() -> None:
    wednesday = openness(WEEKDAYS_8_16, [], at(2026, 4, 1, 12, 0), DK)
    assert wednesday.open
    assert wednesday.next_change == at(2026, 4, 1, 16, 0)
    evening = openness(WEEKDAYS_8_16, [], at(2026, 4, 1, 17, 0), DK)
    assert evening.next_change == at(2026, 4, 7, 8, 0)  # Tuesday after Easter Monday
    easter_monday = openness(WEEKDAYS_8_16, [], at(2026, 4, 6, 10, 0), DK)
    assert easter_monday.reason == "public_holiday"
    assert easter_monday.holiday == "Anden påskedag"


def test_ascension_day_is_closed() -> None:
    state = openness(WEEKDAYS_8_16, [], at(2026, 5, 14, 10, 0), DK)  # Kristi himmelfartsdag
    assert state.reason == "public_holiday"
    assert state.holiday == "Kristi himmelfartsdag"
    assert state.next_change == at(2026, 5, 15, 8, 0)


def test_christmas_eve_new_years_eve_and_constitution_day_are_working_days() -> None:
    # The `holidays` package files them as optional, not public: a clinic that closes
    # enters an absence.
    for day in ((2026, 12, 24), (2026, 12, 31), (2026, 6, 5)):
        state = openness(WEEKDAYS_8_16, [], at(*day, 10, 0), DK)
        assert (state.open, state.reason, state.holiday) == (True, "hours", None), day


def test_holiday_names_in_english() -> None:
    state = openness(WEEKDAYS_8_16, [], at(2026, 12, 25, 10, 0), public_holidays("en"))
    assert state.holiday == "Christmas Day"
