"""The audit stream: who looked at or changed what, and when.

Kept apart from the domain events (`av:events`): those feed integrations, this answers
"who saw this clinic's back-door number" and "who created this account". Entries name
people by user id (or API key owner), never carry secrets, and are never edited.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from server.store import decoded, keys
from server.store.connection import Redis

STREAM_MAXLEN = 5_000_000


@dataclass(frozen=True)
class AuditEntry:
    id: str
    at: float  # unix seconds
    action: str  # e.g. directory.viewed, organisation.created
    actor: str  # "user:<id>", "organisation:<id>" (its API key) or "cli"
    data: dict[str, object]


async def audit(redis: Redis, action: str, actor: str, **data: object) -> str:
    fields = decoded.writable(
        {"action": action, "actor": actor, "at": f"{time.time():.3f}", "data": json.dumps(data)}
    )
    return str(await redis.xadd(keys.AUDIT, fields, maxlen=STREAM_MAXLEN, approximate=True))


async def read_audit(redis: Redis, count: int = 1000) -> list[AuditEntry]:
    """The newest entries, oldest first."""
    rows = decoded.entries(await redis.xrevrange(keys.AUDIT, count=count))
    return [
        AuditEntry(eid, float(f["at"]), f["action"], f["actor"], json.loads(f["data"]))
        for eid, f in reversed(rows)
    ]
