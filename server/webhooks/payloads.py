"""What vendors see of an event, by webhook and by polling alike:

    {"id": "1718000000000-0", "type": "call.ended", "timestamp": "2026-06-10T08:13:20.000Z",
     "data": {"consultation_id": "...", "clinic": "123456", "duration_seconds": 612,
              "participants": 2, "billing_code": "0125"}}

`id` is the event's stream id (also the polling cursor and the `webhook-id`). `data` names the
clinic by its ydernummer, the number the API takes, and carries a fixed set of fields per
type, so an internal field added to an event never leaks to vendors. Only the types in
`PUBLISHED` are shown, and a vendor sees an event when its clinic is one the vendor serves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from server.store import keys
from server.store.connection import Redis
from server.store.events import EventType, StreamEvent

PUBLISHED = frozenset(
    {
        EventType.CONSULTATION_CREATED,
        EventType.CONSULTATION_UPDATED,
        EventType.CONSULTATION_CANCELLED,
        EventType.PATIENT_WAITING,
        EventType.PATIENT_LEFT,
        EventType.CALL_STARTED,
        EventType.CALL_ENDED,
        EventType.NOTE_DRAFT_READY,
        EventType.NOTE_APPROVED,
    }
)

# Public name -> name in the stream entry, beyond consultation_id and clinic.
_EXTRA_FIELDS: dict[str, dict[str, str]] = {
    EventType.PATIENT_LEFT: {"reason": "reason"},
    EventType.CALL_ENDED: {
        "duration_seconds": "duration_seconds",
        "participants": "parties",
        "billing_code": "billing_code",
    },
}


def published_clinic(event: StreamEvent) -> str | None:
    """The clinic whose vendors see this event; None if vendors never see it."""
    return event.clinic_id if event.type in PUBLISHED else None


def vendor_payload(event: StreamEvent, ydernummer: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "consultation_id": event.data.get("consultation_id"),
        "clinic": ydernummer,
    }
    for public, internal in _EXTRA_FIELDS.get(event.type, {}).items():
        data[public] = event.data.get(internal)
    timestamp = datetime.fromtimestamp(event.at_ms / 1000, UTC)
    return {
        "id": event.id,
        "type": event.type,
        "timestamp": timestamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": data,
    }


def payload_body(payload: dict[str, Any]) -> str:
    """The exact text that is signed and sent, kept as is for every retry."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


async def ydernumre(redis: Redis, clinic_ids: Iterable[str]) -> dict[str, str]:
    """clinic id -> ydernummer, for the clinics that exist."""
    ids = list(dict.fromkeys(clinic_ids))
    async with redis.pipeline(transaction=False) as pipe:
        for clinic_id in ids:
            pipe.hget(keys.clinic(clinic_id), "ydernummer")
        numbers = await pipe.execute()
    return {cid: number for cid, number in zip(ids, numbers, strict=True) if number}
