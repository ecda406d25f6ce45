"""The domain event stream: every change appends one entry; consumers read with groups."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from redis.exceptions import ResponseError

from server.store import decoded, keys
from server.store.connection import Redis

STREAM_MAXLEN = 1_000_000


class EventType(StrEnum):
    """Every type of event the stream carries. The values are on the wire (webhooks and the
    polling feed show them to vendors), so they never change."""

    CONSULTATION_CREATED = "consultation.created"
    CONSULTATION_UPDATED = "consultation.updated"
    CONSULTATION_CANCELLED = "consultation.cancelled"
    PATIENT_WAITING = "patient.waiting"
    PATIENT_LEFT = "patient.left"
    PATIENT_HELD = "patient.held"
    PATIENT_TRANSFERRED = "patient.transferred"
    PRECALL_TESTED = "precall.tested"
    CALL_STARTED = "call.started"
    CALL_ENDED = "call.ended"
    PARTICIPANT_INVITED = "participant.invited"
    PARTICIPANT_REMOVED = "participant.removed"
    NOTE_DRAFT_READY = "note.draft_ready"
    NOTE_APPROVED = "note.approved"
    NOTE_DISCARDED = "note.discarded"
    NOTE_ACKED = "note.acked"
    CLINIC_UPDATED = "clinic.updated"
    ABSENCE_ADDED = "absence.added"
    ABSENCE_REMOVED = "absence.removed"
    HONORARIUM_ENROLLED = "honorarium.enrolled"
    HONORARIUM_QUESTIONNAIRE_COMPLETED = "honorarium.questionnaire_completed"
    HONORARIUM_ACCRUED = "honorarium.accrued"
    HONORARIUM_REVERSED = "honorarium.reversed"
    HONORARIUM_PAID = "honorarium.paid"
    BUDGET_SPENDING_RECORDED = "budget.spending_recorded"
    SUBSCRIPTION_PRICE_SET = "subscription.price_set"
    SUBSCRIPTION_CAPACITIES_SET = "subscription.capacities_set"
    SUBSCRIPTION_VENDOR_SET = "subscription.vendor_set"
    INVOICES_ISSUED = "invoices.issued"


@dataclass(frozen=True)
class StreamEvent:
    """One entry of the `av:events` stream. `type` is kept as read: an entry written by
    another version may carry a type this one does not know."""

    id: str
    type: str
    at_ms: int
    data: dict[str, Any]

    @classmethod
    def parse(cls, entry_id: str, fields: dict[str, str]) -> StreamEvent | None:
        """None for an entry that is not a well-formed event (skipped, never fatal)."""
        try:
            data = json.loads(fields.get("data", "{}"))
            at_ms = int(fields.get("at") or entry_id.partition("-")[0])
        except ValueError:
            return None
        if not isinstance(data, dict) or "type" not in fields:
            return None
        return cls(entry_id, fields["type"], at_ms, data)

    @property
    def clinic_id(self) -> str | None:
        clinic_id = self.data.get("clinic_id")
        return clinic_id if isinstance(clinic_id, str) else None


async def append_event(redis: Redis, event_type: EventType, **data: object) -> str:
    """Append an event. Payloads carry ids and codes only, never CPR numbers or free text."""
    fields = decoded.writable(
        {"type": event_type, "at": str(int(time.time() * 1000)), "data": json.dumps(data)}
    )
    return str(await redis.xadd(keys.EVENTS, fields, maxlen=STREAM_MAXLEN, approximate=True))


async def read_events(redis: Redis, count: int = 1000) -> list[tuple[str, str, dict[str, object]]]:
    """The newest events, oldest first, as (id, type, data). For audit views and tests."""
    rows = decoded.entries(await redis.xrevrange(keys.EVENTS, count=count))
    return [(eid, f["type"], json.loads(f["data"])) for eid, f in reversed(rows)]


async def join_events(redis: Redis, group: str, start: str) -> None:
    """Make sure consumer group `group` reads the event stream, from `start` ("0": every
    event there is, "$": those from now on) when it is new; an existing group keeps its place."""
    try:
        await redis.xgroup_create(keys.EVENTS, group, id=start, mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise
