"""The polling fallback: the same payloads as the webhooks, read straight from the stream.

The cursor is a stream id. `next` is the last entry looked at, even one the vendor may not
see, so a vendor whose clinics are quiet still moves on through other clinics' traffic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from server.store import decoded, keys
from server.store.connection import Redis
from server.store.events import StreamEvent
from server.webhooks.payloads import published_clinic, vendor_payload, ydernumre

_MAX_PART = 2**64 - 1


def _at_most(limit: int) -> str:
    """A regular expression for the decimal numbers 0..limit, leading zeros allowed, up to
    as many digits as `limit` has: JSON Schema has no integer range for a string."""
    digits = str(limit)
    shorter = f"[0-9]{{1,{len(digits) - 1}}}"
    same_length = [
        f"{digits[:i]}[0-{int(d) - 1}][0-9]{{{len(digits) - i - 1}}}"
        for i, d in enumerate(digits)
        if d != "0"
    ]
    return "(?:" + "|".join([shorter, *same_length, digits]) + ")"


_PART = _at_most(_MAX_PART)
# A stream id Redis accepts, "ms-seq", each part an unsigned 64-bit number. The API's
# document states this very pattern (server.api.events).
CURSOR_PATTERN = f"^{_PART}-{_PART}$"
_CURSOR = re.compile(CURSOR_PATTERN)
START = "0-0"
SCAN_BATCH = 500
SCAN_MAX = 10_000  # entries looked at per request, so one request stays cheap


def cursor_ok(cursor: str) -> bool:
    """A stream id Redis accepts: two unsigned 64-bit numbers, "ms-seq"."""
    return _CURSOR.fullmatch(cursor) is not None


async def events_after(
    redis: Redis, clinic_ids: Iterable[str], after: str, limit: int
) -> tuple[list[dict[str, Any]], str]:
    """Up to `limit` payloads for these clinics after the cursor, oldest first, and the
    cursor to ask with next time."""
    numbers = await ydernumre(redis, clinic_ids)
    found: list[dict[str, Any]] = []
    cursor = after
    scanned = 0
    while len(found) < limit and scanned < SCAN_MAX and cursor != f"{_MAX_PART}-{_MAX_PART}":
        rows = decoded.entries(
            await redis.xrange(keys.EVENTS, min=f"({cursor}", max="+", count=SCAN_BATCH)
        )
        for entry_id, fields in rows:
            cursor = entry_id
            event = StreamEvent.parse(entry_id, fields)
            clinic_id = published_clinic(event) if event else None
            if event is not None and clinic_id in numbers:
                found.append(vendor_payload(event, numbers[clinic_id]))
                if len(found) == limit:
                    break
        scanned += len(rows)
        if len(rows) < SCAN_BATCH:
            break
    return found, cursor
