"""Time: UTC epoch seconds in storage, Europe/Copenhagen on screen and for "today"."""

from __future__ import annotations

import time
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def now() -> float:
    return time.time()


def local(ts: float) -> datetime:
    """Copenhagen wall clock. An instant Python's datetime cannot hold (past year 9999, or
    not finite) comes out as the nearest one it can, so formatting a stored value never
    fails; `server.daterange` keeps such values out in the first place."""
    return _at(ts, COPENHAGEN)


def _at(ts: float, zone: tzinfo) -> datetime:
    try:
        return datetime.fromtimestamp(ts, zone)
    except (OverflowError, ValueError, OSError):
        edge = datetime.max if ts > 0 else datetime.min
        return edge.replace(tzinfo=zone)


def local_day(ts: float) -> str:
    return local(ts).date().isoformat()


def iso_utc(ts: float) -> str:
    return _at(ts, UTC).isoformat().replace("+00:00", "Z")


def iso_local(ts: float) -> str:
    """ISO 8601 in Copenhagen time with its offset: "2026-07-01T08:00:00+02:00"."""
    return local(ts).isoformat(timespec="seconds")
