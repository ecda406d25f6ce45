"""The room's queue moves against a real Redis: entering, leaving, admitting, holding, order
and sweeping."""

from __future__ import annotations

import asyncio

from server.clock import now
from server.consultations import call
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation
from server.store.consultations import update_consultation as update
from server.store.events import read_events
from server.waitingroom import queue
from server.waitingroom.queue import waiting_ids
from server.waitingroom.room import CancelOutcome, LeaveReason
from tests.unit.factories import (
    make_clinic,
    make_drop_in,
    make_scheduled,
    no_seat,
    room_of,
    waiting_patient,
)


async def status(redis: Redis, consultation_id: str) -> str:
    c = await get_consultation(redis, consultation_id)
    assert c is not None
    return c.status


async def test_enter_puts_the_patient_in_the_queue(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic)
    assert await room_of(redis).enter(c) is not None
    fresh = await get_consultation(redis, c.id)
    assert fresh is not None
    assert fresh.status == Status.WAITING
    assert fresh.waiting_since is not None
    assert await waiting_ids(redis, clinic.id) == [c.id]


async def test_enter_is_idempotent_and_logs_one_event(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic)
    assert await room_of(redis).enter(c) is not None
    assert await room_of(redis).enter(c) is not None
    assert await waiting_ids(redis, clinic.id) == [c.id]
    events = [e for e in await read_events(redis) if e[1] == "patient.waiting"]
    assert len(events) == 1
    assert events[0][2] == {"consultation_id": c.id, "clinic_id": clinic.id}


async def test_a_cancelled_or_running_consultation_cannot_queue(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    cancelled = await update(redis, await make_scheduled(redis, clinic), status=Status.CANCELLED)
    running = await update(redis, await make_scheduled(redis, clinic), status=Status.IN_CALL)
    assert not await room_of(redis).enter(cancelled) is not None
    assert not await room_of(redis).enter(running) is not None
    assert await waiting_ids(redis, clinic.id) == []
    assert await status(redis, running.id) == Status.IN_CALL


async def test_leave_returns_to_booked(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    assert await room_of(redis).leave(w.consultation, LeaveReason.LEFT)
    assert await status(redis, w.consultation.id) == Status.BOOKED
    assert await waiting_ids(redis, clinic.id) == []
    assert not await room_of(redis).leave(w.consultation, LeaveReason.LEFT)
    left = [e for e in await read_events(redis) if e[1] == "patient.left"]
    assert [e[2]["reason"] for e in left] == ["left"]


async def test_a_patient_who_left_can_enter_again(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    await room_of(redis).leave(w.consultation, LeaveReason.LEFT)
    assert await room_of(redis).enter(w.consultation) is not None
    assert await waiting_ids(redis, clinic.id) == [w.consultation.id]


async def test_admit_moves_the_patient_into_a_call(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    assert await room_of(redis).admit(w.consultation, "gp-user", "gp-part", no_seat) is not None
    c = await get_consultation(redis, w.consultation.id)
    assert c is not None
    assert c.status == Status.IN_CALL
    assert c.practitioner_id == "gp-user"
    assert c.gp_participant == "gp-part"
    assert c.started_at is not None
    assert await waiting_ids(redis, clinic.id) == []


async def test_admit_succeeds_only_once(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    assert await room_of(redis).admit(w.consultation, "gp-1", "part-1", no_seat) is not None
    assert await room_of(redis).admit(w.consultation, "gp-2", "part-2", no_seat) is None
    c = await get_consultation(redis, w.consultation.id)
    assert c is not None
    assert (c.practitioner_id, c.gp_participant) == ("gp-1", "part-1")
    started = [e for e in await read_events(redis) if e[1] == "call.started"]
    assert len(started) == 1


async def test_concurrent_admits_let_exactly_one_win(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    results = await asyncio.gather(
        *(room_of(redis).admit(w.consultation, f"gp-{i}", f"part-{i}", no_seat) for i in range(8))
    )
    won = [r is not None for r in results]
    assert sorted(won) == [False] * 7 + [True]
    winner = won.index(True)
    c = await get_consultation(redis, w.consultation.id)
    assert c is not None
    assert (c.practitioner_id, c.gp_participant) == (f"gp-{winner}", f"part-{winner}")
    started = [e for e in await read_events(redis) if e[1] == "call.started"]
    assert len(started) == 1
    assert started[0][2]["practitioner_id"] == f"gp-{winner}"


async def test_admit_of_a_patient_who_is_not_waiting_fails(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic)
    assert await room_of(redis).admit(c, "gp", "part", no_seat) is None
    assert await status(redis, c.id) == Status.BOOKED


async def test_scheduled_patients_queue_by_appointment_time(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    late = await make_scheduled(redis, clinic, minutes_from_now=30)
    early = await make_scheduled(redis, clinic, minutes_from_now=10)
    middle = await make_scheduled(redis, clinic, minutes_from_now=20)
    for c in (late, early, middle):  # arrival order is not queue order
        assert await room_of(redis).enter(c) is not None
    assert await waiting_ids(redis, clinic.id) == [early.id, middle.id, late.id]


async def test_drop_ins_queue_by_arrival(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    first_made = await make_drop_in(redis, clinic)
    second_made = await make_drop_in(redis, clinic)
    assert await room_of(redis).enter(second_made) is not None
    assert await room_of(redis).enter(first_made) is not None
    assert await waiting_ids(redis, clinic.id) == [second_made.id, first_made.id]


async def test_queues_are_per_clinic(redis: Redis) -> None:
    a, b = await make_clinic(redis), await make_clinic(redis, "Lægerne i Nørreby")
    ca = await make_scheduled(redis, a)
    cb = await make_scheduled(redis, b)
    await room_of(redis).enter(ca)
    await room_of(redis).enter(cb)
    assert await waiting_ids(redis, a.id) == [ca.id]
    assert await waiting_ids(redis, b.id) == [cb.id]


async def test_enter_returns_the_new_state_also_when_already_waiting(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic)
    first = await room_of(redis).enter(c)
    assert first is not None and first.status == Status.WAITING and first.waiting_since is not None
    assert await room_of(redis).enter(c) == first


async def test_hold_puts_the_patient_back_at_the_front(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    first = await waiting_patient(redis, await make_scheduled(redis, clinic, minutes_from_now=5))
    second = await waiting_patient(redis, await make_scheduled(redis, clinic, minutes_from_now=9))
    assert await room_of(redis).admit(second.consultation, "gp", "part", no_seat) is not None
    assert await room_of(redis).hold(second.consultation) is not None
    place = await queue.place_of(redis, second.consultation)
    assert place is not None and first.consultation.scheduled_start is not None
    (score, _), rank, moves = place
    assert score < first.consultation.scheduled_start
    assert await waiting_ids(redis, clinic.id) == [second.consultation.id, first.consultation.id]
    assert await status(redis, second.consultation.id) == Status.WAITING
    assert rank == 0
    assert moves == 4  # two joins, the admit's leave, the hold's join
    assert await room_of(redis).hold(second.consultation) is None  # not in a call any more
    held = [e for e in await read_events(redis) if e[1] == "patient.held"]
    assert len(held) == 1


async def test_readmitting_a_held_patient_keeps_the_first_start_time(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    await room_of(redis).admit(w.consultation, "gp", "part-1", no_seat)
    started = (await get_consultation(redis, w.consultation.id)).started_at  # type: ignore[union-attr]
    await room_of(redis).hold(w.consultation)
    await asyncio.sleep(0.01)
    await room_of(redis).admit(w.consultation, "gp", "part-2", no_seat)
    again = await get_consultation(redis, w.consultation.id)
    assert again is not None and again.started_at == started


async def test_sweep_removes_a_vanished_patient(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    await queue.heartbeat(redis, w.patient.id, presence_ttl=25, instance="i")
    # The browser went silent: its presence expired and its last beat is old.
    await redis.delete(keys.presence(w.patient.id))
    await redis.zadd(keys.WAITING_LAST_SEEN, {w.patient.id: now() - 120})
    assert await room_of(redis).sweep(grace_seconds=60) == 1
    assert await status(redis, w.consultation.id) == Status.BOOKED
    assert await waiting_ids(redis, clinic.id) == []
    assert await redis.zscore(keys.WAITING_LAST_SEEN, w.patient.id) is None
    left = [e for e in await read_events(redis) if e[1] == "patient.left"]
    assert [e[2]["reason"] for e in left] == ["vanished"]


async def test_sweep_keeps_a_patient_with_presence(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    await queue.heartbeat(redis, w.patient.id, presence_ttl=25, instance="i")
    await redis.zadd(keys.WAITING_LAST_SEEN, {w.patient.id: now() - 120})
    assert await room_of(redis).sweep(grace_seconds=60) == 0
    assert await status(redis, w.consultation.id) == Status.WAITING
    assert await waiting_ids(redis, clinic.id) == [w.consultation.id]


async def test_sweep_waits_for_the_grace_period(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    await queue.heartbeat(redis, w.patient.id, presence_ttl=25, instance="i")
    await redis.delete(keys.presence(w.patient.id))  # silent, but only just
    assert await room_of(redis).sweep(grace_seconds=60) == 0
    assert await status(redis, w.consultation.id) == Status.WAITING
    assert await redis.zscore(keys.WAITING_LAST_SEEN, w.patient.id) is not None


async def test_after_an_outage_nobody_is_swept_until_the_hold_ends(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    # Nobody could refresh anything while Redis was down: presence gone, last beat old.
    await redis.zadd(keys.WAITING_LAST_SEEN, {w.patient.id: now() - 120})
    room = room_of(redis)
    await room.hold_sweeps(40)
    await room.hold_sweeps(5)  # a later, shorter hold does not cut the first one short
    assert await room.sweep(grace_seconds=30) == 0
    assert await status(redis, w.consultation.id) == Status.WAITING
    assert await redis.zscore(keys.WAITING_LAST_SEEN, w.patient.id) is not None

    await redis.set(keys.SWEEP_HELD_UNTIL, now() - 1)  # the hold is over, still silent
    assert await room.sweep(grace_seconds=30) == 1
    assert await status(redis, w.consultation.id) == Status.BOOKED


async def test_sweep_leaves_a_patient_in_a_call_alone(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    await room_of(redis).admit(w.consultation, "gp", "part", no_seat)
    await redis.zadd(keys.WAITING_LAST_SEEN, {w.patient.id: now() - 120})
    assert await room_of(redis).sweep(grace_seconds=60) == 0
    assert await status(redis, w.consultation.id) == Status.IN_CALL


async def test_forget_presence(redis: Redis) -> None:
    await queue.heartbeat(redis, "p1", presence_ttl=25, instance="i")
    assert await redis.exists(keys.presence("p1"))
    assert 0 < await redis.ttl(keys.presence("p1")) <= 25
    await queue.forget_presence(redis, "p1")
    assert await redis.zscore(keys.WAITING_LAST_SEEN, "p1") is None


# ---- cancel ---------------------------------------------------------------------------------


async def test_cancel_takes_a_waiting_patient_out_and_tells_why(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    assert await room_of(redis).cancel(w.consultation, "vendor-1") is CancelOutcome.CANCELLED
    assert await status(redis, w.consultation.id) == Status.CANCELLED
    assert await waiting_ids(redis, clinic.id) == []
    kinds = [(kind, data.get("reason")) for _, kind, data in await read_events(redis)]
    assert kinds[-2:] == [("patient.left", "cancelled"), ("consultation.cancelled", None)]
    assert await room_of(redis).cancel(w.consultation, "vendor-1") is CancelOutcome.ALREADY


async def test_cancel_leaves_a_consultation_in_a_call_or_over_alone(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    w = await waiting_patient(redis, await make_scheduled(redis, clinic))
    assert await room_of(redis).admit(w.consultation, "gp", "part", no_seat) is not None
    assert await room_of(redis).cancel(w.consultation, "vendor-1") is CancelOutcome.IN_CALL
    assert await status(redis, w.consultation.id) == Status.IN_CALL
    await call.connect(redis, w.consultation.id, "part")
    assert await room_of(redis).end(w.consultation) is not None
    assert await room_of(redis).cancel(w.consultation, "vendor-1") is CancelOutcome.ENDED
    assert await status(redis, w.consultation.id) == Status.ENDED


async def test_cancel_racing_admit_never_ends_in_a_cancelled_call(redis: Redis) -> None:
    """The LPS cancels just as the GP admits: one of them wins, whole, every time."""
    clinic = await make_clinic(redis)
    room = room_of(redis)
    outcomes = set()
    for i in range(60):
        w = await waiting_patient(redis, await make_scheduled(redis, clinic, minutes_from_now=i))
        racers = [
            room.admit(w.consultation, "gp", "part", no_seat),
            room.cancel(w.consultation, "v"),
        ]
        if i % 2:
            racers.reverse()
        results = await asyncio.gather(*racers)
        admitted, cancelled = results if i % 2 == 0 else results[::-1]
        c = await get_consultation(redis, w.consultation.id)
        assert c is not None
        if admitted is not None:
            assert (c.status, cancelled) == (Status.IN_CALL, CancelOutcome.IN_CALL)
        else:
            assert (c.status, cancelled) == (Status.CANCELLED, CancelOutcome.CANCELLED)
        outcomes.add(c.status)
    assert await waiting_ids(redis, clinic.id) == []
    assert outcomes == {Status.IN_CALL, Status.CANCELLED}  # both orders really happened
