"""Time: UTC epoch seconds in storage, Europe/Copenhagen on screen and for "today"."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def now() -> float:
    return time.time()


def local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, COPENHAGEN)


def local_day(ts: float) -> str:
    return local(ts).date().isoformat()


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def iso_local(ts: float) -> str:
    """ISO 8601 in Copenhagen time with its offset: "2026-07-01T08:00:00+02:00"."""
    return local(ts).isoformat(timespec="seconds")
