"""The live call: who is connected, ending it once, and the billing code it settles."""

from __future__ import annotations

import asyncio
from typing import Any

from server.clock import now
from server.consultations import call
from server.store import keys
from server.store.callattempts import current_attempt, record_report, start_attempt
from server.store.connection import Redis
from server.store.consultations import Consultation, Status, get_consultation
from server.store.events import read_events
from server.store.pilotevidence import held_counts
from server.waitingroom import queue
from tests.unit.factories import make_clinic, make_scheduled, no_seat, room_of, waiting_patient


async def in_call(redis: Redis) -> tuple[Consultation, str]:
    """A consultation admitted into a call; returns it and the patient participant id."""
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    assert await room_of(redis).admit(w.consultation, "gp-user", "gp-part", no_seat) is not None
    c = await get_consultation(redis, w.consultation.id)
    assert c is not None
    return c, w.patient.id


async def media_flowed(redis: Redis, c: Consultation, **report: Any) -> None:
    """A browser's `call.report`: media decoded between the GP and the patient."""
    if await current_attempt(redis, c.id) is None:
        await start_attempt(redis, c.id, c.clinic_id, now())
    await record_report(redis, c.id, "gp", {"phase": "media", "media": True, **report}, now())


async def test_connect_returns_the_others_already_there(redis: Redis) -> None:
    c, patient = await in_call(redis)
    assert await call.connect(redis, c.id, "gp-part") == []
    assert await call.connect(redis, c.id, patient) == ["gp-part"]
    assert await call.members(redis, c.id) == {"gp-part", patient}


async def test_reconnecting_does_not_list_yourself(redis: Redis) -> None:
    c, patient = await in_call(redis)
    await call.connect(redis, c.id, "gp-part")
    await call.connect(redis, c.id, patient)
    assert await call.connect(redis, c.id, patient) == ["gp-part"]


async def test_disconnect_returns_who_is_left(redis: Redis) -> None:
    c, patient = await in_call(redis)
    await call.connect(redis, c.id, "gp-part")
    await call.connect(redis, c.id, patient)
    assert await call.disconnect(redis, c.id, patient) == ["gp-part"]
    assert await call.disconnect(redis, c.id, "gp-part") == []
    assert await call.members(redis, c.id) == set()


async def test_end_settles_0125_for_two_parties(redis: Redis) -> None:
    c, patient = await in_call(redis)
    await call.connect(redis, c.id, "gp-part")
    await call.connect(redis, c.id, patient)
    await call.disconnect(redis, c.id, patient)
    await call.connect(redis, c.id, patient)  # a reconnect is not a third party
    await media_flowed(redis, c)
    ended = await room_of(redis).end(c)
    assert ended is not None
    assert (ended.status, ended.billing_code) == (Status.ENDED, "0125")
    assert await call.members(redis, c.id) == set()
    stored = await get_consultation(redis, c.id)
    assert stored is not None
    assert (stored.status, stored.billing_code) == (Status.ENDED, "0125")
    assert stored.ended_at is not None
    assert await call.members(redis, c.id) == set()


async def test_end_settles_0126_when_three_were_ever_connected(redis: Redis) -> None:
    c, patient = await in_call(redis)
    for pid in ("gp-part", patient, "interpreter"):
        await call.connect(redis, c.id, pid)
    await call.disconnect(redis, c.id, "interpreter")  # left before the end: still counts
    await media_flowed(redis, c)
    ended = await room_of(redis).end(c)
    assert ended is not None
    assert ended.billing_code == "0126"
    stored = await get_consultation(redis, c.id)
    assert stored is not None
    assert stored.billing_code == "0126"


async def test_continued_by_phone_is_0201_when_video_never_worked(redis: Redis) -> None:
    c, _patient = await in_call(redis)
    await call.connect(redis, c.id, "gp-part")
    ended = await room_of(redis).end(c, continued_by_phone=True)
    assert ended is not None
    assert ended.billing_code == "0201"


async def test_continued_by_phone_is_0201_when_a_browser_reported_the_failure(
    redis: Redis,
) -> None:
    c, patient = await in_call(redis)
    for pid in ("gp-part", patient):
        await call.connect(redis, c.id, pid)
    await media_flowed(redis, c)
    await media_flowed(redis, c, phase="update", ice_restarts=2)  # video broke down later
    ended = await room_of(redis).end(c, continued_by_phone=True)
    assert ended is not None and ended.billing_code == "0201"


async def test_a_phone_mark_that_the_telemetry_contradicts_keeps_the_video_code(
    redis: Redis,
) -> None:
    c, patient = await in_call(redis)
    for pid in ("gp-part", patient):
        await call.connect(redis, c.id, pid)
    await media_flowed(redis, c)  # media flowed, and nothing failed
    ended = await room_of(redis).end(c, continued_by_phone=True)
    assert ended is not None and ended.billing_code == "0125"


async def test_no_code_when_the_patient_never_had_media(redis: Redis) -> None:
    c, patient = await in_call(redis)
    for pid in ("gp-part", patient, "nurse"):
        await call.connect(redis, c.id, pid)  # connected to the call, but no picture or sound
    ended = await room_of(redis).end(c)
    assert ended is not None and ended.billing_code == ""
    stored = await get_consultation(redis, c.id)
    assert stored is not None and stored.billing_code == ""


async def test_end_only_once(redis: Redis) -> None:
    c, patient = await in_call(redis)
    await call.connect(redis, c.id, "gp-part")
    await call.connect(redis, c.id, patient)
    await media_flowed(redis, c)
    first = await room_of(redis).end(c)
    assert first is not None
    assert await room_of(redis).end(c, continued_by_phone=True) is None
    stored = await get_consultation(redis, c.id)
    assert stored is not None
    assert stored.billing_code == "0125"
    ended_events = [e for e in await read_events(redis) if e[1] == "call.ended"]
    assert len(ended_events) == 1


async def test_concurrent_ends_end_once(redis: Redis) -> None:
    c, _patient = await in_call(redis)
    await call.connect(redis, c.id, "gp-part")
    results = await asyncio.gather(*(room_of(redis).end(c) for _ in range(5)))
    assert sum(r is not None for r in results) == 1
    assert len([e for e in await read_events(redis) if e[1] == "call.ended"]) == 1


async def test_a_consultation_that_is_not_in_a_call_cannot_end(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic)
    assert await room_of(redis).end(c) is None
    stored = await get_consultation(redis, c.id)
    assert stored is not None
    assert stored.status == Status.BOOKED
    assert stored.billing_code == ""


async def test_a_call_without_the_patient_ends_with_no_code_and_takes_the_patient_out(
    redis: Redis,
) -> None:
    """The GP talked with a professional first while the patient waited, then ended."""
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic)
    assert await room_of(redis).enter(c) is not None
    assert await room_of(redis).open_call(c, "gp-user", "gp-part") is not None
    for pid in ("gp-part", "nurse"):
        await call.connect(redis, c.id, pid)
    ended = await room_of(redis).end(c)
    assert ended is not None
    assert ended.billing_code == ""  # the patient never connected: no code at all
    assert await queue.waiting_ids(redis, clinic.id) == []
    stored = await get_consultation(redis, c.id)
    assert stored is not None
    assert (stored.status, stored.gp_participant, stored.practitioner_id) == (
        Status.ENDED, "gp-part", "gp-user",
    )  # fmt: skip
    assert stored.started_at is not None


async def test_an_open_call_with_three_parties_is_0126(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic)
    assert await room_of(redis).open_call(c, "gp-user", "gp-part") is not None
    for pid in ("gp-part", "nurse", "patient"):
        await call.connect(redis, c.id, pid)
    await media_flowed(redis, c)
    ended = await room_of(redis).end(c)
    assert ended is not None
    assert ended.billing_code == "0126"


async def test_a_booked_consultation_with_nobody_connected_cannot_end(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic)
    assert await room_of(redis).open_call(c, "gp-user", "gp-part") is not None
    assert await room_of(redis).end(c) is None  # opened, but nobody ever connected


async def test_an_ended_consultation_cannot_open_a_call_again(redis: Redis) -> None:
    c, patient = await in_call(redis)
    await call.connect(redis, c.id, patient)
    assert await room_of(redis).end(c) is not None
    assert await room_of(redis).open_call(c, "gp-user", "gp-part") is None


async def test_call_ended_event(redis: Redis) -> None:
    c, patient = await in_call(redis)
    await call.connect(redis, c.id, "gp-part")
    await call.connect(redis, c.id, patient)
    await media_flowed(redis, c)
    await room_of(redis).end(c)
    ended = [data for _, kind, data in await read_events(redis) if kind == "call.ended"]
    assert len(ended) == 1
    assert ended[0]["consultation_id"] == c.id
    assert ended[0]["clinic_id"] == c.clinic_id
    assert ended[0]["billing_code"] == "0125"
    assert ended[0]["parties"] == 2
    duration = ended[0]["duration_seconds"]
    assert isinstance(duration, int) and duration >= 0
    assert not await redis.exists(keys.call_members(c.id))


async def test_a_call_with_a_code_counts_as_held_for_the_pilots_denominator(
    redis: Redis,
) -> None:
    c, patient = await in_call(redis)
    for pid in ("gp-part", patient):
        await call.connect(redis, c.id, pid)
    await media_flowed(redis, c)
    await room_of(redis).end(c)
    other, _ = await in_call(redis)  # the patient never had media: no code, not held
    await call.connect(redis, other.id, "gp-part")
    await room_of(redis).end(other)
    assert await held_counts(redis, ["gp-user"]) == {"gp-user": 1}
