"""The event stream: one entry per domain change, carrying ids and codes, never names."""

from __future__ import annotations

import json

from server.consultations import call
from server.store.connection import Redis
from server.store.events import append_event, read_events
from server.waitingroom import queue
from tests.unit.factories import PATIENT_NAME, make_clinic, make_scheduled, waiting_patient


async def test_append_and_read_oldest_first(redis: Redis) -> None:
    first = await append_event(redis, "a.happened", n=1)
    second = await append_event(redis, "b.happened", n=2, ids=["x"])
    assert await read_events(redis) == [
        (first, "a.happened", {"n": 1}),
        (second, "b.happened", {"n": 2, "ids": ["x"]}),
    ]


async def test_read_returns_the_newest(redis: Redis) -> None:
    for n in range(5):
        await append_event(redis, "tick", n=n)
    assert [data["n"] for _, _, data in await read_events(redis, count=2)] == [3, 4]


async def test_a_consultation_logs_its_lifecycle_without_the_patients_name(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic, patient_ref="lps-ref-1")
    w = await waiting_patient(redis, c, name=PATIENT_NAME)
    assert w.consultation.patient_name == PATIENT_NAME
    assert await queue.admit(redis, w.consultation, "gp-user", "gp-part") is not None
    await call.connect(redis, c.id, "gp-part")
    await call.connect(redis, c.id, w.patient.id)
    assert await call.end(redis, w.consultation) is not None

    events = await read_events(redis)
    assert [kind for _, kind, _ in events] == ["patient.waiting", "call.started", "call.ended"]
    for _, _, data in events:
        assert data["consultation_id"] == c.id
        assert data["clinic_id"] == clinic.id
        text = json.dumps(data, ensure_ascii=False)
        for part in [PATIENT_NAME, *PATIENT_NAME.split()]:
            assert part not in text
