"""The waiting room over real sockets: what a GP's console and waiting patients are told as
the queue changes, and the GP's message, transfer, hold and remove, and chat in a call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientWebSocketResponse

from server.appkeys import ROOM
from server.store import keys
from server.store.absences import Substitute, add_absence
from server.store.clinics import create_clinic
from server.store.connection import Redis
from server.store.consultations import Consultation, Status, get_consultation, update_consultation
from server.store.events import read_events
from server.store.users import User, create_user
from server.waitingroom.eta import record_duration
from server.waitingroom.queue import waiting_ids
from tests.integration.helpers import (
    GP_PASSWORD,
    Booking,
    Client,
    another_booking,
    assert_silent,
    book,
    drain,
    join,
    media_flowed,
    patient_hello,
    receive,
    receive_error,
    receive_type,
    send,
)
from tests.integration.test_signalling import gp_browser, waiting_patient
from tests.unit.factories import PATIENT_NAME, make_drop_in, with_link


@dataclass
class Console:
    ws: ClientWebSocketResponse
    state: dict[str, Any]


async def console_hello(ws: ClientWebSocketResponse) -> dict[str, Any]:
    """Say hello as a GP; returns the first clinic.state.

    A queue delta published while the hello is handled can reach the socket before the
    welcome (the session subscribes to the clinic first), so this skips to the welcome."""
    await send(ws, "hello")
    welcome = await receive_type(ws, "welcome")
    assert (welcome["role"], welcome["state"]) == ("gp", "idle")
    return await receive_type(ws, "clinic.state")


@asynccontextmanager
async def console(client: Client, gp: User) -> AsyncIterator[Console]:
    """A GP logged in with the console's socket open; its first clinic.state is read."""
    async with gp_browser(client, gp.username) as session, session.ws_connect("/ws") as ws:
        yield Console(ws, await console_hello(ws))


async def receive_about(
    ws: ClientWebSocketResponse, kind: str, consultation_id: str
) -> dict[str, Any]:
    """The next message of this type about this consultation, skipping any others."""
    while True:
        message = await receive_type(ws, kind)
        if message.get("entry", message)["consultation_id"] == consultation_id:
            return message


async def joined_the_queue(gp: Console, consultation_id: str) -> dict[str, Any]:
    """Read the console's deltas for a patient's arrival; returns the queue entry."""
    entry = await receive_about(gp.ws, "queue.entry", consultation_id)
    day = await receive_about(gp.ws, "day.entry", consultation_id)
    assert day["entry"]["status"] == Status.WAITING
    return entry


@dataclass
class Call:
    gp: ClientWebSocketResponse
    patient: ClientWebSocketResponse
    gp_id: str
    patient_id: str


@asynccontextmanager
async def in_call(client: Client, b: Booking) -> AsyncIterator[Call]:
    """The GP's console open first, then the patient arrives and is admitted; both sockets
    have joined the call, and the patient's arrival deltas are read."""
    async with console(client, b.gp) as gp, waiting_patient(client, b) as p:
        await joined_the_queue(gp, b.consultation.id)
        await first_place(p.ws)
        await send(gp.ws, "admit", consultation_id=b.consultation.id)
        gp_joined = await receive_type(gp.ws, "call.joined")
        patient_joined = await receive_type(p.ws, "call.joined")
        assert [peer["participant_id"] for peer in patient_joined["peers"]] == [
            gp_joined["participant_id"]
        ]
        peer = await receive_type(gp.ws, "peer.joined")
        assert peer["peer"]["participant_id"] == p.participant_id
        yield Call(gp.ws, p.ws, gp_joined["participant_id"], p.participant_id)


async def colleague(redis: Redis, b: Booking, role: str = "gp") -> User:
    return await create_user(
        redis, f"dr-kollega-{role}", GP_PASSWORD, "Dr. Mads Kollega", role, b.clinic.id
    )


async def stranger(redis: Redis) -> User:
    """A GP of another clinic."""
    elsewhere = await create_clinic(redis, "Lægerne i Nørreby", "777777")
    return await create_user(redis, "dr-fremmed", GP_PASSWORD, "Dr. Fremmed", "gp", elsewhere.id)


async def fresh(redis: Redis, consultation_id: str) -> Consultation:
    c = await get_consultation(redis, consultation_id)
    assert c is not None
    return c


async def first_place(ws: ClientWebSocketResponse) -> dict[str, Any]:
    """The `waiting` a patient gets right after hello."""
    return await receive_type(ws, "waiting")


def assert_eta(waiting: dict[str, Any], scheduled_start: float | None) -> None:
    eta = waiting["eta_minutes"]
    assert isinstance(eta, int)
    assert eta >= 0
    if scheduled_start is not None:
        # The server computed this at or before now, so it may only be longer.
        assert eta * 60 >= scheduled_start - time.time(), waiting


async def redis_values(redis: Redis) -> list[str]:
    """Every value stored in Redis, as text: strings, hash fields, lists, sets, streams."""
    found: list[str] = []
    async for key in redis.scan_iter(count=500):
        kind = await redis.type(key)
        if kind == "string":
            found.append(str(await redis.get(key)))
        elif kind == "hash":
            found.extend(f"{k}={v}" for k, v in (await redis.hgetall(key)).items())
        elif kind == "list":
            found.extend(await redis.lrange(key, 0, -1))
        elif kind == "set":
            found.extend(await redis.smembers(key))
        elif kind == "zset":
            found.extend(await redis.zrange(key, 0, -1))
        elif kind == "stream":
            found.extend(str(fields) for _, fields in await redis.xrange(key))
    return found


# ---- the GP's console: a snapshot, then deltas ----------------------------------------------


async def test_console_starts_with_the_clinic_state(client: Client, redis: Redis) -> None:
    b = await book(redis, minutes_from_now=20)
    early = await another_booking(redis, b, minutes_from_now=10)
    not_here = await another_booking(redis, b, minutes_from_now=30)
    await update_consultation(
        redis, b.consultation, practitioner_id=b.gp.id, precall_verdict="may_struggle"
    )
    async with (
        waiting_patient(client, b),
        waiting_patient(client, early),
        console(client, b.gp) as gp,
    ):
        state = gp.state
        assert state["type"] == "clinic.state"
        assert isinstance(state["server_time"], float)
        assert [e["consultation_id"] for e in state["waiting"]] == [
            early.consultation.id,
            b.consultation.id,
        ]
        entry = state["waiting"][1]
        assert entry["patient_name"] == PATIENT_NAME
        assert entry["kind"] == "scheduled"
        assert entry["scheduled_start"] == b.consultation.scheduled_start
        assert entry["waiting_since"] == (await fresh(redis, b.consultation.id)).waiting_since
        assert entry["connected"] is True
        assert entry["practitioner_id"] == b.gp.id
        assert entry["precall_verdict"] == "may_struggle"
        assert state["waiting"][0]["practitioner_id"] == ""
        assert state["waiting"][0]["precall_verdict"] == ""
        today = {e["consultation_id"]: e["status"] for e in state["today"]}
        assert today == {
            early.consultation.id: Status.WAITING,
            b.consultation.id: Status.WAITING,
            not_here.consultation.id: Status.BOOKED,
        }


async def test_console_is_told_of_a_joining_patient(client: Client, redis: Redis) -> None:
    b = await book(redis)
    await update_consultation(
        redis, b.consultation, practitioner_id=b.gp.id, precall_verdict="good"
    )
    async with console(client, b.gp) as gp:
        assert gp.state["waiting"] == []
        async with waiting_patient(client, b) as p:
            joined = await receive_type(gp.ws, "queue.entry")
            assert joined["entry"] == {
                "consultation_id": b.consultation.id,
                "patient_name": PATIENT_NAME,
                "kind": "scheduled",
                "scheduled_start": b.consultation.scheduled_start,
                "waiting_since": (await fresh(redis, b.consultation.id)).waiting_since,
                "connected": True,
                "practitioner_id": b.gp.id,
                "precall_verdict": "good",
            }
            day = await receive_type(gp.ws, "day.entry")
            assert day["entry"]["consultation_id"] == b.consultation.id
            assert day["entry"]["status"] == Status.WAITING
            assert day["entry"]["billing_code"] == ""

            await p.ws.close()  # the browser went away: still queued, but offline
            offline = await receive_type(gp.ws, "queue.entry")
            assert offline["entry"]["consultation_id"] == b.consultation.id
            assert offline["entry"]["connected"] is False


async def test_console_is_told_when_a_patient_leaves(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with console(client, b.gp) as gp, waiting_patient(client, b) as p:
        await joined_the_queue(gp, b.consultation.id)
        await send(p.ws, "leave")
        await receive_type(p.ws, "left")
        removed = await receive_type(gp.ws, "queue.removed")
        assert removed == {
            "v": 1,
            "type": "queue.removed",
            "consultation_id": b.consultation.id,
            "reason": "left",
        }
        day = await receive_type(gp.ws, "day.entry")
        assert (day["entry"]["consultation_id"], day["entry"]["status"]) == (
            b.consultation.id,
            Status.BOOKED,
        )


async def test_console_follows_an_admitted_patient_to_the_end(client: Client, redis: Redis) -> None:
    b = await book(redis)
    watcher = await colleague(redis, b)
    async with console(client, watcher) as other, in_call(client, b) as call:
        await joined_the_queue(other, b.consultation.id)
        removed = await receive_type(other.ws, "queue.removed")
        assert (removed["consultation_id"], removed["reason"]) == (b.consultation.id, "admitted")
        day = await receive_type(other.ws, "day.entry")
        assert (day["entry"]["consultation_id"], day["entry"]["status"]) == (
            b.consultation.id,
            Status.IN_CALL,
        )
        await media_flowed(call.gp, call.patient_id)
        await send(call.gp, "end", consultation_id=b.consultation.id)
        ended = await receive(other.ws)  # strictly the next message
        assert ended["type"] == "day.entry", ended
        assert (ended["entry"]["status"], ended["entry"]["billing_code"]) == (Status.ENDED, "0125")
        assert await drain(other.ws) == []  # an ended call is no queue entry


# ---- patients' places -----------------------------------------------------------------------


async def test_only_patients_behind_someone_who_leaves_move_up(
    client: Client, redis: Redis
) -> None:
    a = await book(redis, minutes_from_now=10)
    b = await another_booking(redis, a, minutes_from_now=20)
    c = await another_booking(redis, a, minutes_from_now=30)
    async with waiting_patient(client, a) as pa:
        first = await first_place(pa.ws)
        assert first["position"] == 1
        assert_eta(first, a.consultation.scheduled_start)
        async with waiting_patient(client, b) as pb:
            assert (await first_place(pb.ws))["position"] == 2
            async with waiting_patient(client, c) as pc:
                third = await first_place(pc.ws)
                assert third["position"] == 3
                assert_eta(third, c.consultation.scheduled_start)
                await assert_silent(pa.ws)  # people joining behind A do not concern A
                await assert_silent(pb.ws)

                await send(pb.ws, "leave")
                await receive_type(pb.ws, "left")
                moved = await receive_type(pc.ws, "waiting")
                assert moved["position"] == 2
                assert_eta(moved, c.consultation.scheduled_start)
                await assert_silent(pa.ws)
                assert await waiting_ids(redis, a.clinic.id) == [
                    a.consultation.id,
                    c.consultation.id,
                ]


async def test_an_earlier_appointment_moves_everyone_behind_back(
    client: Client, redis: Redis
) -> None:
    a = await book(redis, minutes_from_now=10)
    c = await another_booking(redis, a, minutes_from_now=30)
    d = await another_booking(redis, a, minutes_from_now=2)
    async with waiting_patient(client, a) as pa, waiting_patient(client, c) as pc:
        assert (await first_place(pa.ws))["position"] == 1
        assert (await first_place(pc.ws))["position"] == 2
        async with waiting_patient(client, d) as pd:
            assert (await first_place(pd.ws))["position"] == 1
            behind_a = await receive_type(pa.ws, "waiting")
            behind_c = await receive_type(pc.ws, "waiting")
            assert (behind_a["position"], behind_c["position"]) == (2, 3)
            assert_eta(behind_a, a.consultation.scheduled_start)
            assert_eta(behind_c, c.consultation.scheduled_start)
            await assert_silent(pd.ws)
            await assert_silent(pa.ws)  # one move, one message


async def test_eta_follows_the_clinics_pace(client: Client, redis: Redis) -> None:
    # Appointments already past, so only the queue ahead decides the wait.
    a = await book(redis, minutes_from_now=-30)
    b = await another_booking(redis, a, minutes_from_now=-20)
    c = await another_booking(redis, a, minutes_from_now=-10)
    for seconds in (240, 300, 360):  # median five minutes; no GP has the console open
        await record_duration(redis, a.clinic.id, seconds)
    async with (
        waiting_patient(client, a) as pa,
        waiting_patient(client, b) as pb,
        waiting_patient(client, c) as pc,
    ):
        places = [await first_place(p.ws) for p in (pa, pb, pc)]
        assert [(w["position"], w["eta_minutes"]) for w in places] == [(1, 0), (2, 5), (3, 10)]
        await send(pa.ws, "leave")
        moved = [await receive_type(p.ws, "waiting") for p in (pb, pc)]
        assert [(w["position"], w["eta_minutes"]) for w in moved] == [(1, 0), (2, 5)]


# ---- what the patient is told on arrival ----------------------------------------------------


async def test_patient_welcome_carries_the_waiting_screen(client: Client, redis: Redis) -> None:
    clinic = await create_clinic(
        redis, "Lægehuset Viby", "424242", "+45 70 20 30 40", wait_limit_minutes=25
    )
    b = await book(redis, clinic, minutes_from_now=15)
    async with waiting_patient(client, b) as p:
        c = await fresh(redis, b.consultation.id)
        resume = p.resume
        await p.ws.close()
    async with client.ws_connect("/ws") as ws:
        welcome = await patient_hello(ws, b.link, resume)
        assert welcome["state"] == "waiting"
        assert welcome["clinic_phone"] == "+45 70 20 30 40"
        assert welcome["wait_limit_minutes"] == 25
        assert welcome["scheduled_start"] == b.consultation.scheduled_start
        assert welcome["waiting_since"] == c.waiting_since  # the place was kept, not renewed
        assert isinstance(welcome["waiting_since"], float)
        assert welcome["messages"] == []


async def test_drop_in_welcome_has_no_appointment(client: Client, redis: Redis) -> None:
    b = await book(redis)
    link, c = await with_link(redis, await make_drop_in(redis, b.clinic))
    resume = await join(client, link)
    async with client.ws_connect("/ws") as ws:
        welcome = await patient_hello(ws, link, resume)
        assert "scheduled_start" not in welcome
        assert welcome["waiting_since"] == (await fresh(redis, c.id)).waiting_since
        assert welcome["clinic_phone"] == b.clinic.phone
        assert welcome["wait_limit_minutes"] == 0
        waiting = await first_place(ws)
        assert (waiting["position"], waiting["eta_minutes"]) == (1, 0)


# ---- message --------------------------------------------------------------------------------


async def test_message_reaches_the_patient_and_survives_a_reload(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    text = "Lægen er lidt forsinket – ca. 10 minutter. Bliv endelig på siden."
    async with console(client, b.gp) as gp, waiting_patient(client, b) as p:
        await send(gp.ws, "message", consultation_id=b.consultation.id, text=text)
        note = await receive_type(p.ws, "clinic.message")
        assert note["text"] == text
        assert isinstance(note["at"], float)
        longest = "x" * 500
        await send(gp.ws, "message", consultation_id=b.consultation.id, text=longest)
        assert (await receive_type(p.ws, "clinic.message"))["text"] == longest

        await p.ws.close()
        async with client.ws_connect("/ws") as again:
            welcome = await patient_hello(again, b.link, p.resume)
            assert welcome["state"] == "waiting"
            notes = welcome["messages"]
            assert [n["text"] for n in notes] == [text, longest]
            assert notes[0]["at"] == note["at"]


async def test_a_sent_message_leaves_a_trace_on_every_gps_card(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    mads = await colleague(redis, b)
    async with (
        console(client, b.gp) as gp,
        console(client, mads) as other,
        waiting_patient(client, b) as p,
    ):
        await joined_the_queue(gp, b.consultation.id)
        await send(gp.ws, "message", consultation_id=b.consultation.id, text="Vi kommer om lidt")
        note = await receive_type(p.ws, "clinic.message")
        for ws in (gp.ws, other.ws):
            while True:
                entry = (await receive_about(ws, "queue.entry", b.consultation.id))["entry"]
                if entry.get("last_message"):
                    break
            assert entry["last_message"] == {"text": "Vi kommer om lidt", "at": note["at"]}
    # A console opened later sees it too.
    async with console(client, mads) as late:
        [entry] = [e for e in late.state["waiting"] if e["consultation_id"] == b.consultation.id]
        assert entry["last_message"]["text"] == "Vi kommer om lidt"


async def test_message_refusals(client: Client, redis: Redis) -> None:
    b = await book(redis)
    not_joined = await another_booking(redis, b, minutes_from_now=30)
    outsider = await stranger(redis)
    async with (
        waiting_patient(client, b) as p,
        console(client, b.gp) as gp,
        console(client, outsider) as other,
    ):
        await send(other.ws, "message", consultation_id=b.consultation.id, text="Hej", ref="m1")
        await receive_error(other.ws, "forbidden", ref="m1")
        await send(other.ws, "message", consultation_id="no-such-consultation", text="Hej")
        await receive_error(other.ws, "forbidden")

        await send(gp.ws, "message", consultation_id=not_joined.consultation.id, text="Hej")
        await receive_error(gp.ws, "not_waiting")
        for bad in ("", "x" * 501):
            await send(gp.ws, "message", consultation_id=b.consultation.id, text=bad, ref="m2")
            await receive_error(gp.ws, "invalid_message", ref="m2")

        await send(p.ws, "message", consultation_id=b.consultation.id, text="Hej")
        await receive_error(p.ws, "forbidden")  # patients cannot message the queue
        assert all(m["type"] != "clinic.message" for m in await drain(p.ws))
        assert await redis.exists(keys.consultation_messages(b.consultation.id)) == 0


async def test_no_message_to_a_patient_in_a_call(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with in_call(client, b) as call:
        await send(call.gp, "message", consultation_id=b.consultation.id, text="Hej")
        await receive_error(call.gp, "not_waiting")


# ---- transfer -------------------------------------------------------------------------------


async def test_transfer_to_a_colleague(client: Client, redis: Redis) -> None:
    b = await book(redis)
    mads = await colleague(redis, b)
    async with console(client, b.gp) as gp, waiting_patient(client, b) as p:
        assert (await joined_the_queue(gp, b.consultation.id))["entry"]["practitioner_id"] == ""
        assert (await first_place(p.ws))["position"] == 1
        await send(gp.ws, "transfer", consultation_id=b.consultation.id, to_user=mads.id)
        moved = await receive_about(gp.ws, "queue.entry", b.consultation.id)
        assert moved["entry"]["consultation_id"] == b.consultation.id
        assert moved["entry"]["practitioner_id"] == mads.id
        assert moved["entry"]["connected"] is True
        assert (await fresh(redis, b.consultation.id)).practitioner_id == mads.id
        assert (await fresh(redis, b.consultation.id)).status == Status.WAITING
        await assert_silent(p.ws)  # the patient's place does not change
    transfers = [
        data for _, kind, data in await read_events(redis) if kind == "patient.transferred"
    ]
    assert transfers == [
        {
            "consultation_id": b.consultation.id,
            "clinic_id": b.clinic.id,
            "to_practitioner_id": mads.id,
        }
    ]


async def test_transfer_from_the_call_is_a_hold_then_a_transfer(
    client: Client, redis: Redis
) -> None:
    """The call panel's transfer sends a hold and a transfer back to back on one socket: the
    server takes them in order, so the patient, held, lands in the colleague's list."""
    b = await book(redis)
    mads = await colleague(redis, b)
    async with in_call(client, b) as call:
        await send(call.gp, "hold", consultation_id=b.consultation.id)
        await send(call.gp, "transfer", consultation_id=b.consultation.id, to_user=mads.id)
        await receive_type(call.patient, "held")
        while True:
            entry = (await receive_about(call.gp, "queue.entry", b.consultation.id))["entry"]
            if entry["practitioner_id"] == mads.id:
                break
        assert entry["connected"] is True
        moved = await fresh(redis, b.consultation.id)
        assert (moved.status, moved.practitioner_id) == (Status.WAITING, mads.id)


async def test_transfer_only_to_a_gp_of_the_same_clinic(client: Client, redis: Redis) -> None:
    b = await book(redis)
    outsider = await stranger(redis)
    staff = await colleague(redis, b, role="admin")
    async with waiting_patient(client, b), console(client, b.gp) as gp:
        for to_user in (outsider.id, "no-such-user", staff.id):
            await send(
                gp.ws, "transfer", consultation_id=b.consultation.id, to_user=to_user, ref="t"
            )
            await receive_error(gp.ws, "unknown_colleague", ref="t")
        assert (await fresh(redis, b.consultation.id)).practitioner_id == ""


async def test_a_gp_of_another_clinic_cannot_transfer(client: Client, redis: Redis) -> None:
    b = await book(redis)
    outsider = await stranger(redis)
    async with waiting_patient(client, b), console(client, outsider) as other:
        await send(other.ws, "transfer", consultation_id=b.consultation.id, to_user=outsider.id)
        await receive_error(other.ws, "forbidden")
        assert (await fresh(redis, b.consultation.id)).practitioner_id == ""


# ---- hold -----------------------------------------------------------------------------------


async def test_hold_puts_the_patient_first_and_the_gp_can_admit_again(
    client: Client, redis: Redis
) -> None:
    b = await book(redis, minutes_from_now=5)
    # Someone whose appointment has already passed is waiting ahead of everyone.
    late = await another_booking(redis, b, minutes_from_now=-10)
    async with waiting_patient(client, late) as other:
        assert (await first_place(other.ws))["position"] == 1
        async with in_call(client, b) as call:
            await assert_silent(other.ws)  # admitting someone behind does not move them
            await send(call.gp, "hold", consultation_id=b.consultation.id)
            await receive_type(call.patient, "held")
            back = await receive_type(call.patient, "waiting")
            assert back["position"] == 1
            assert_eta(back, b.consultation.scheduled_start)
            assert (await receive_type(other.ws, "waiting"))["position"] == 2
            assert await waiting_ids(redis, b.clinic.id) == [
                b.consultation.id,
                late.consultation.id,
            ]
            held = await fresh(redis, b.consultation.id)
            assert held.status == Status.WAITING
            entry = await receive_about(call.gp, "queue.entry", b.consultation.id)
            assert entry["entry"]["practitioner_id"] == b.gp.id  # admitting assigned them
            assert entry["entry"]["connected"] is True

            await send(call.gp, "admit", consultation_id=b.consultation.id)
            again = await receive_type(call.gp, "call.joined")
            assert again["participant_id"] == call.gp_id  # the same seat as before
            rejoined = await receive_type(call.patient, "call.joined")
            assert [peer["participant_id"] for peer in rejoined["peers"]] == [call.gp_id]
            await receive_type(call.gp, "peer.joined")

            await media_flowed(call.gp, call.patient_id)
            await send(call.gp, "end", consultation_id=b.consultation.id)
            for ws in (call.gp, call.patient):
                assert (await receive_type(ws, "call.ended"))["billing_code"] == "0125"
            ended = await fresh(redis, b.consultation.id)
            assert (ended.status, ended.billing_code, ended.peak_parties) == (
                Status.ENDED,
                "0125",
                2,
            )
            assert await waiting_ids(redis, b.clinic.id) == [late.consultation.id]


async def test_a_patient_held_after_a_long_call_is_shown_connected(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    async with in_call(client, b) as call:
        # A call longer than the presence lifetime: nobody beats for a seat in a call.
        await redis.delete(keys.presence(call.patient_id))
        await send(call.gp, "hold", consultation_id=b.consultation.id)
        await receive_type(call.patient, "held")
        await receive_type(call.patient, "waiting")
        await asyncio.sleep(0.3)
        entries = [
            m["entry"]
            for m in await drain(call.gp)
            if m["type"] == "queue.entry" and m["entry"]["consultation_id"] == b.consultation.id
        ]
        assert entries, "the GP was not told the patient is back"
        assert entries[-1]["connected"] is True  # what the console shows last
        assert await redis.exists(keys.presence(call.patient_id))


async def test_only_the_gp_in_the_call_can_hold_it(client: Client, redis: Redis) -> None:
    b = await book(redis)
    mads = await colleague(redis, b)
    async with in_call(client, b) as call, console(client, mads) as other:
        await send(other.ws, "hold", consultation_id=b.consultation.id, ref="h1")
        await receive_error(other.ws, "not_your_call", ref="h1")
        await send(call.patient, "hold", consultation_id=b.consultation.id)
        await receive_error(call.patient, "forbidden")
        assert (await fresh(redis, b.consultation.id)).status == Status.IN_CALL
        assert all(m["type"] != "held" for m in await drain(call.patient))


async def test_hold_of_a_waiting_patient_is_refused(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with waiting_patient(client, b) as p, console(client, b.gp) as gp:
        await send(gp.ws, "hold", consultation_id=b.consultation.id)
        await receive_error(gp.ws, "not_your_call")
        assert all(m["type"] != "held" for m in await drain(p.ws))
        assert (await fresh(redis, b.consultation.id)).status == Status.WAITING


async def until_offline(gp: ClientWebSocketResponse, consultation_id: str) -> None:
    """Read the console until it shows this waiting patient's browser as gone."""
    while (await receive_about(gp, "queue.entry", consultation_id))["entry"]["connected"]:
        pass


async def test_a_waiting_patient_who_closes_the_browser_is_swept(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    async with console(client, b.gp) as gp, waiting_patient(client, b) as p:
        await joined_the_queue(gp, b.consultation.id)
        await p.ws.close()
        await until_offline(gp.ws, b.consultation.id)
    await client.app[ROOM].sweep(grace_seconds=0)
    assert await waiting_ids(redis, b.clinic.id) == []
    assert (await fresh(redis, b.consultation.id)).status == Status.BOOKED


async def test_a_held_patient_who_closes_the_browser_is_swept(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with in_call(client, b) as call:
        await send(call.gp, "hold", consultation_id=b.consultation.id)
        await receive_type(call.patient, "held")
        await receive_type(call.patient, "waiting")
        await drain(call.gp)  # the patient's side has finished going back to waiting
        await call.patient.close()
        await until_offline(call.gp, b.consultation.id)
    await client.app[ROOM].sweep(grace_seconds=0)
    assert await waiting_ids(redis, b.clinic.id) == []
    assert (await fresh(redis, b.consultation.id)).status == Status.BOOKED


async def test_a_patient_held_after_their_browser_closed_is_swept(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    async with in_call(client, b) as call:
        await call.patient.close()
        left = await receive_type(call.gp, "peer.left")
        assert left["participant_id"] == call.patient_id
        await send(call.gp, "hold", consultation_id=b.consultation.id)
        entry = await receive_about(call.gp, "queue.entry", b.consultation.id)
        assert entry["entry"]["connected"] is False
    await client.app[ROOM].sweep(grace_seconds=0)
    assert await waiting_ids(redis, b.clinic.id) == []
    assert (await fresh(redis, b.consultation.id)).status == Status.BOOKED


# ---- remove ---------------------------------------------------------------------------------


async def test_remove_tells_the_patient_who_may_come_back(client: Client, redis: Redis) -> None:
    b = await book(redis, minutes_from_now=5)
    behind = await another_booking(redis, b, minutes_from_now=20)
    text = "Vi ringer dig op i stedet for på 86 15 00 00."
    async with (
        console(client, b.gp) as gp,
        waiting_patient(client, b) as p,
        waiting_patient(client, behind) as q,
    ):
        await joined_the_queue(gp, b.consultation.id)
        await joined_the_queue(gp, behind.consultation.id)
        assert (await first_place(q.ws))["position"] == 2
        await send(gp.ws, "remove", consultation_id=b.consultation.id, text=text)
        assert (await receive_type(p.ws, "removed"))["text"] == text
        removed = await receive_type(gp.ws, "queue.removed")
        assert (removed["consultation_id"], removed["reason"]) == (b.consultation.id, "removed")
        day = await receive_about(gp.ws, "day.entry", b.consultation.id)
        assert (day["entry"]["consultation_id"], day["entry"]["status"]) == (
            b.consultation.id,
            Status.BOOKED,
        )
        assert (await receive_type(q.ws, "waiting"))["position"] == 1
        assert (await fresh(redis, b.consultation.id)).status == Status.BOOKED
        assert await waiting_ids(redis, b.clinic.id) == [behind.consultation.id]

        await send(gp.ws, "remove", consultation_id=b.consultation.id)
        await receive_error(gp.ws, "not_waiting")

        async with client.ws_connect("/ws") as again:
            welcome = await patient_hello(again, b.link, p.resume)
            assert welcome["state"] == "waiting"
            assert (await first_place(again))["position"] == 1
            assert (await receive_type(q.ws, "waiting"))["position"] == 2
            entry = await receive_about(gp.ws, "queue.entry", b.consultation.id)
            assert entry["entry"]["connected"] is True
            assert (await fresh(redis, b.consultation.id)).status == Status.WAITING
            assert await waiting_ids(redis, b.clinic.id) == [
                b.consultation.id,
                behind.consultation.id,
            ]


async def test_a_gp_of_another_clinic_cannot_remove(client: Client, redis: Redis) -> None:
    b = await book(redis)
    outsider = await stranger(redis)
    async with waiting_patient(client, b) as p, console(client, outsider) as other:
        await send(other.ws, "remove", consultation_id=b.consultation.id, text="Væk")
        await receive_error(other.ws, "forbidden")
        assert all(m["type"] != "removed" for m in await drain(p.ws))
        assert await waiting_ids(redis, b.clinic.id) == [b.consultation.id]


# ---- chat -----------------------------------------------------------------------------------


async def test_chat_is_relayed_to_the_other_side_only(client: Client, redis: Redis) -> None:
    b = await book(redis)
    from_gp = "Kan du vippe kameraet lidt ned? zq-7f3a"
    from_patient = "Ja, et øjeblik – nu? zq-91bc"
    async with in_call(client, b) as call:
        await send(call.gp, "chat", text=from_gp)
        line = await receive_type(call.patient, "chat")
        assert {k: v for k, v in line.items() if k != "at"} == {
            "v": 1,
            "type": "chat",
            "from": call.gp_id,
            "display_name": b.gp.display_name,
            "text": from_gp,
        }
        assert isinstance(line["at"], float)

        await send(call.patient, "chat", text=from_patient)
        back = await receive_type(call.gp, "chat")
        assert (back["from"], back["display_name"], back["text"]) == (
            call.patient_id,
            PATIENT_NAME,
            from_patient,
        )
        # Neither sender hears their own line back.
        assert all(m["type"] != "chat" for m in await drain(call.gp))
        assert all(m["type"] != "chat" for m in await drain(call.patient))

        await send(call.gp, "chat", text="", ref="c0")
        await receive_error(call.gp, "invalid_message", ref="c0")

    stored = await redis_values(redis)
    assert stored, "the scan found nothing at all; it is not looking at the app's Redis"
    assert b.consultation.id in " ".join(stored)
    for value in stored:
        assert "zq-7f3a" not in value and "zq-91bc" not in value, value


async def test_chat_outside_a_call(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with waiting_patient(client, b) as p, console(client, b.gp) as gp:
        await send(p.ws, "chat", text="Hallo?", ref="c1")
        await receive_error(p.ws, "not_in_call", ref="c1")
        await send(gp.ws, "chat", text="Hallo?", ref="c2")
        await receive_error(gp.ws, "not_in_call", ref="c2")


async def test_no_chat_once_the_call_is_on_hold(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with in_call(client, b) as call:
        await send(call.gp, "hold", consultation_id=b.consultation.id)
        await receive_type(call.patient, "held")
        await send(call.patient, "chat", text="Er du der?")
        await receive_error(call.patient, "not_in_call")
        await send(call.gp, "chat", text="Et øjeblik")
        await receive_error(call.gp, "not_in_call")


async def test_a_patient_cannot_queue_while_the_clinic_is_away(
    client: Client, redis: Redis
) -> None:
    """The join page already says so; a page left open from before gets the same answer."""
    b = await book(redis)
    resume = await join(client, b.link)
    at = time.time()
    cover = Substitute(name="Lægerne i Vestby", phone="+45 11 22 33 44")
    await add_absence(redis, b.clinic.id, "holiday", at - 60, at + 3600, cover, at)
    async with client.ws_connect("/ws") as ws:
        await send(ws, "hello", link=b.link, resume=resume)
        await receive_error(ws, "clinic_absent")
    assert await waiting_ids(redis, b.clinic.id) == []
