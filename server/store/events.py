"""The domain event stream: every change appends one entry; consumers read with groups."""

from __future__ import annotations

import json
import time

from redis.exceptions import ResponseError

from server.store import keys
from server.store.connection import Redis

STREAM_MAXLEN = 1_000_000


async def append_event(redis: Redis, event_type: str, **data: object) -> str:
    """Append an event. Payloads carry ids and codes only, never CPR numbers or free text."""
    fields = {"type": event_type, "at": str(int(time.time() * 1000)), "data": json.dumps(data)}
    return str(await redis.xadd(keys.EVENTS, fields, maxlen=STREAM_MAXLEN, approximate=True))


async def read_events(redis: Redis, count: int = 1000) -> list[tuple[str, str, dict[str, object]]]:
    """The newest events, oldest first, as (id, type, data). For audit views and tests."""
    rows = await redis.xrevrange(keys.EVENTS, count=count)
    return [(eid, f["type"], json.loads(f["data"])) for eid, f in reversed(rows)]


async def join_events(redis: Redis, group: str, start: str) -> None:
    """Make sure consumer group `group` reads the event stream, from `start` ("0": every
    event there is, "$": those from now on) when it is new; an existing group keeps its place."""
    try:
        await redis.xgroup_create(keys.EVENTS, group, id=start, mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise
