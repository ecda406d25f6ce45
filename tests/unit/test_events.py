"""The event stream: one entry per domain change, carrying ids and codes, never names."""

from __future__ import annotations

import json

from server.consultations import call
from server.store.connection import Redis
from server.store.events import EventType, append_event, read_events
from tests.unit.factories import (
    PATIENT_NAME,
    make_clinic,
    make_scheduled,
    no_seat,
    room_of,
    waiting_patient,
)


async def test_append_and_read_oldest_first(redis: Redis) -> None:
    first = await append_event(redis, EventType.CLINIC_UPDATED, n=1)
    second = await append_event(redis, EventType.ABSENCE_ADDED, n=2, ids=["x"])
    assert await read_events(redis) == [
        (first, "clinic.updated", {"n": 1}),
        (second, "absence.added", {"n": 2, "ids": ["x"]}),
    ]


async def test_read_returns_the_newest(redis: Redis) -> None:
    for n in range(5):
        await append_event(redis, EventType.CLINIC_UPDATED, n=n)
    assert [data["n"] for _, _, data in await read_events(redis, count=2)] == [3, 4]


async def test_a_consultation_logs_its_lifecycle_without_the_patients_name(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic, patient_ref="lps-ref-1")
    w = await waiting_patient(redis, c, name=PATIENT_NAME)
    assert w.consultation.patient_name == PATIENT_NAME
    assert await room_of(redis).admit(w.consultation, "gp-user", "gp-part", no_seat) is not None
    await call.connect(redis, c.id, "gp-part")
    await call.connect(redis, c.id, w.patient.id)
    assert await room_of(redis).end(w.consultation) is not None

    events = await read_events(redis)
    assert [kind for _, kind, _ in events] == ["patient.waiting", "call.started", "call.ended"]
    for _, _, data in events:
        assert data["consultation_id"] == c.id
        assert data["clinic_id"] == clinic.id
        text = json.dumps(data, ensure_ascii=False)
        for part in [PATIENT_NAME, *PATIENT_NAME.split()]:
            assert part not in text
