"""The dates the system accepts: local (Copenhagen) days from 2000-01-01 to 2100-12-31.

Python's datetime ends at year 9999, so an instant near it (an absence ending
`9999-12-31T23:59:59-14:00`) can be stored as epoch seconds but not shown in Copenhagen
time: every page and answer that formatted it failed, for as long as it was kept. Nothing
in general practice is booked or planned outside this century, so every model that takes a
time from outside uses `SaneDatetime` (or `within` for form fields), and a time outside is
refused as a validation error before anything is stored.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

from server.clock import COPENHAGEN

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
EARLIEST = datetime(2000, 1, 1, tzinfo=COPENHAGEN).timestamp()
END = datetime(2101, 1, 1, tzinfo=COPENHAGEN).timestamp()  # exclusive

PROBLEM = f"a time from {FIRST_DAY} to {LAST_DAY} (Copenhagen time)"


def within(ts: float) -> bool:
    """Whether the instant falls on a local day in the range."""
    return math.isfinite(ts) and EARLIEST <= ts < END


def _sane_datetime(value: datetime) -> datetime:
    try:
        ts = value.timestamp()
    except (OverflowError, ValueError):
        ts = math.nan
    if not within(ts):
        raise PydanticCustomError("date_range", PROBLEM)
    return value


def _sane_date(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise PydanticCustomError("date_range", f"a day from {FIRST_DAY} to {LAST_DAY}")
    return value


SaneDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_sane_datetime),
    Field(description=f"ISO 8601 with offset; {PROBLEM}"),
]
SaneDate = Annotated[
    date, AfterValidator(_sane_date), Field(description=f"a day from {FIRST_DAY} to {LAST_DAY}")
]
