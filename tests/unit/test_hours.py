"""Open video hours are Copenhagen wall-clock times, across daylight-saving changes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server.waitingroom.hours import HoursProblem, format_spans, is_open, parse_spans

CPH = ZoneInfo("Europe/Copenhagen")
UTC = ZoneInfo("UTC")


def at(*args: int, tz: ZoneInfo = CPH) -> float:
    return datetime(*args, tzinfo=tz).timestamp()  # type: ignore[misc]


MORNINGS = {"mon": [("08:00", "09:00")], "sun": [("08:00", "09:00")]}


def test_open_inside_a_span_and_closed_outside() -> None:
    # 2026-11-02 is a Monday.
    assert is_open(MORNINGS, at(2026, 11, 2, 8, 0))
    assert is_open(MORNINGS, at(2026, 11, 2, 8, 59, 59))
    assert not is_open(MORNINGS, at(2026, 11, 2, 9, 0))
    assert not is_open(MORNINGS, at(2026, 11, 2, 7, 59, 59))


def test_other_weekdays_are_closed() -> None:
    assert not is_open(MORNINGS, at(2026, 11, 3, 8, 30))  # Tuesday


def test_no_hours_means_closed() -> None:
    assert not is_open({}, at(2026, 11, 2, 8, 30))


def test_several_spans_on_one_day() -> None:
    hours = {"mon": [("08:00", "09:00"), ("13:00", "14:30")]}
    assert is_open(hours, at(2026, 11, 2, 14, 0))
    assert not is_open(hours, at(2026, 11, 2, 11, 0))


def test_hours_are_local_time_on_the_day_summer_time_starts() -> None:
    # 2026-03-29: Copenhagen moves from CET (UTC+1) to CEST (UTC+2) at 02:00.
    # 06:30 UTC is 08:30 local summer time: open.
    assert is_open(MORNINGS, at(2026, 3, 29, 6, 30, tz=UTC))
    # The Sunday before, 06:30 UTC is 07:30 local winter time: still closed.
    assert not is_open(MORNINGS, at(2026, 3, 22, 6, 30, tz=UTC))
    assert is_open(MORNINGS, at(2026, 3, 22, 7, 30, tz=UTC))


def test_hours_are_local_time_on_the_day_summer_time_ends() -> None:
    # 2026-10-25: back to CET. 07:30 UTC is 08:30 local; 06:30 UTC is 07:30 local.
    assert is_open(MORNINGS, at(2026, 10, 25, 7, 30, tz=UTC))
    assert not is_open(MORNINGS, at(2026, 10, 25, 6, 30, tz=UTC))


def test_24_00_end_covers_the_last_minute_of_the_day() -> None:
    all_day = {"mon": [("00:00", "24:00")]}
    assert is_open(all_day, at(2026, 11, 2, 0, 0))
    assert is_open(all_day, at(2026, 11, 2, 12, 0))
    assert is_open(all_day, at(2026, 11, 2, 23, 59, 59))
    assert not is_open(all_day, at(2026, 11, 3, 0, 0))  # Tuesday


def test_evening_span_to_midnight() -> None:
    hours = {"sun": [("20:00", "24:00")]}
    assert is_open(hours, at(2026, 3, 29, 23, 30))
    assert not is_open(hours, at(2026, 3, 29, 19, 59))


def test_parse_spans_from_the_settings_form() -> None:
    assert parse_spans("") == []
    assert parse_spans("8.00-9.30") == [("08:00", "09:30")]
    assert parse_spans(" 13:00 – 14:00 , 08:00-09:00 ") == [("08:00", "09:00"), ("13:00", "14:00")]
    assert parse_spans("20:00-24:00") == [("20:00", "24:00")]
    assert format_spans(parse_spans("13:00-14:00,8:00-9:00")) == "08:00-09:00, 13:00-14:00"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("morgen", "format"),
        ("08-09", "format"),
        ("25:00-26:00", "format"),
        ("08:60-09:00", "format"),
        ("23:00-24:30", "format"),
        ("09:00-08:00", "order"),
        ("09:00-09:00", "order"),
        ("08:00-10:00, 09:00-11:00", "overlap"),
    ],
)
def test_parse_spans_names_the_problem(text: str, code: str) -> None:
    with pytest.raises(HoursProblem) as problem:
        parse_spans(text)
    assert problem.value.code == code
