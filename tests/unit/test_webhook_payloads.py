"""What vendors see of an event: a fixed shape per type, and only the published types."""

from __future__ import annotations

import json

from server.store import keys
from server.store.connection import Redis
from server.store.events import EventType, StreamEvent, append_event
from server.webhooks.payloads import (
    PUBLISHED,
    payload_body,
    published_clinic,
    vendor_payload,
    ydernumre,
)
from tests.unit.factories import make_clinic


def event(kind: str, **data: object) -> StreamEvent:
    fields = {"type": kind, "at": "1780000000123", "data": json.dumps(data)}
    parsed = StreamEvent.parse("1780000000123-0", fields)
    assert parsed is not None
    return parsed


def test_call_ended_names_participants_duration_and_billing_code() -> None:
    ended = event(
        "call.ended", consultation_id="c1", clinic_id="k1", billing_code="0126",
        duration_seconds=612, parties=3, internal_note="x",
    )  # fmt: skip
    assert vendor_payload(ended, "123456") == {
        "id": "1780000000123-0",
        "type": "call.ended",
        "timestamp": "2026-05-28T20:26:40.123Z",
        "data": {
            "consultation_id": "c1",
            "clinic": "123456",
            "duration_seconds": 612,
            "participants": 3,
            "billing_code": "0126",
        },
    }


def test_fields_outside_the_public_shape_never_leak() -> None:
    waiting = event("patient.waiting", consultation_id="c1", clinic_id="k1", vendor_id="v9")
    assert vendor_payload(waiting, "123456")["data"] == {
        "consultation_id": "c1",
        "clinic": "123456",
    }
    left = event("patient.left", consultation_id="c1", clinic_id="k1", reason="vanished")
    assert vendor_payload(left, "123456")["data"]["reason"] == "vanished"


def test_only_the_issues_types_are_published() -> None:
    issue_5 = {
        "consultation.created", "consultation.updated", "consultation.cancelled",
        "patient.waiting", "patient.left", "call.started", "call.ended",
        "note.draft_ready", "note.approved",
    }  # fmt: skip
    assert issue_5 == PUBLISHED
    assert published_clinic(event("call.started", clinic_id="k1")) == "k1"
    for internal in ["patient.held", "absence.added", "participant.invited", "clinic.updated"]:
        assert published_clinic(event(internal, clinic_id="k1")) is None


def test_malformed_entries_are_skipped_not_fatal() -> None:
    assert StreamEvent.parse("1-0", {"type": "x", "data": "{not json"}) is None
    assert StreamEvent.parse("1-0", {"type": "x", "data": "[1]"}) is None
    assert StreamEvent.parse("1-0", {"data": "{}"}) is None
    no_time = StreamEvent.parse("1780000000000-5", {"type": "x", "data": "{}"})
    assert no_time is not None and no_time.at_ms == 1780000000000


def test_the_body_is_compact_utf8_json() -> None:
    body = payload_body({"id": "1-0", "data": {"clinic": "Åbyhøj"}})
    assert body == '{"id":"1-0","data":{"clinic":"Åbyhøj"}}'


async def test_stream_entries_parse_and_clinics_resolve_to_ydernumre(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    entry_id = await append_event(
        redis, EventType.PATIENT_WAITING, consultation_id="c1", clinic_id=clinic.id
    )
    [(read_id, fields)] = await redis.xrange(keys.EVENTS)
    parsed = StreamEvent.parse(read_id, fields)
    assert parsed is not None and parsed.id == entry_id and parsed.clinic_id == clinic.id
    assert await ydernumre(redis, [clinic.id, "gone", clinic.id]) == {clinic.id: clinic.ydernummer}
