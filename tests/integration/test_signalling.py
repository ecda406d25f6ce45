"""The `/ws` protocol end to end over real sockets: patients, GPs, calls and their errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType, WSServerHandshakeError

from server.store.clinics import create_clinic
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation
from server.store.events import read_events
from server.store.users import create_user
from server.waitingroom.queue import waiting_ids
from tests.integration.helpers import (
    GP_PASSWORD,
    Booking,
    Client,
    another_patient,
    book,
    browser,
    gp_hello,
    join,
    login,
    media_flowed,
    patient_hello,
    receive,
    receive_type,
    send,
)
from tests.unit.factories import PATIENT_NAME


async def expect_error(ws: ClientWebSocketResponse, code: str) -> dict[str, Any]:
    message = await receive(ws)
    assert message["type"] == "error", message
    assert message["code"] == code, message
    return message


@asynccontextmanager
async def gp_browser(client: Client, username: str) -> AsyncIterator[ClientSession]:
    async with browser(client) as session:
        await login(session, username)
        yield session


@dataclass
class Waiting:
    booking: Booking
    resume: str
    ws: ClientWebSocketResponse
    participant_id: str


@asynccontextmanager
async def waiting_patient(client: Client, b: Booking) -> AsyncIterator[Waiting]:
    resume = await join(client, b.link)
    async with client.ws_connect("/ws") as ws:
        welcome = await patient_hello(ws, b.link, resume)
        yield Waiting(b, resume, ws, welcome["participant_id"])


# ---- the protocol's edges -------------------------------------------------------------------


async def test_garbage_gets_an_error_and_the_socket_stays_open(client: Client) -> None:
    async with client.ws_connect("/ws") as ws:
        for garbage in ("not json", "[]", '{"v":1,"type":[1]}', '{"v":9,"ref":"' + "r" * 99 + '"}'):
            await ws.send_str(garbage)
            error = await receive(ws)
            assert error["type"] == "error"
            assert error["code"] in ("malformed", "unknown_type", "unsupported_version")
        await ws.send_bytes(b"\x00\x01")
        await expect_error(ws, "malformed")
        await send(ws, "leave", ref="after-garbage")
        error = await expect_error(ws, "not_ready")
        assert error["ref"] == "after-garbage"
        assert not ws.closed


async def test_a_ping_from_the_browser_is_answered(client: Client) -> None:
    """The socket does not autoping (the keep-alive round hears every frame), so the
    session answers a client's ping itself."""
    async with client.ws_connect("/ws", autoping=False) as ws:
        await ws.ping(b"hi")
        pong = await ws.receive(timeout=5)
        assert (pong.type, pong.data) == (WSMsgType.PONG, b"hi")
        assert not ws.closed


async def test_garbage_code_is_malformed(client: Client) -> None:
    async with client.ws_connect("/ws") as ws:
        await ws.send_str("{nope")
        assert await receive(ws) == {
            "v": 1,
            "type": "error",
            "code": "malformed",
            "message": "not JSON",
        }


async def test_message_before_hello_is_not_ready(client: Client) -> None:
    async with client.ws_connect("/ws") as ws:
        await send(ws, "admit", consultation_id="c1", ref="a1")
        error = await expect_error(ws, "not_ready")
        assert error["ref"] == "a1"


async def test_wrong_version(client: Client) -> None:
    async with client.ws_connect("/ws") as ws:
        await ws.send_json({"v": 2, "type": "hello", "ref": "h"})
        error = await expect_error(ws, "unsupported_version")
        assert error["ref"] == "h"


async def test_anonymous_hello_is_unauthorised(client: Client) -> None:
    async with client.ws_connect("/ws") as ws:
        await send(ws, "hello")
        await expect_error(ws, "unauthorised")


async def test_cross_origin_upgrade_is_refused(client: Client) -> None:
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403


async def test_patient_without_a_valid_resume(client: Client, redis: Redis) -> None:
    b = await book(redis)
    old_resume = await join(client, b.link)
    await join(client, b.link)  # someone joined again with the link: only they can resume
    async with client.ws_connect("/ws") as ws:
        await send(ws, "hello", link=b.link, resume=old_resume)
        await expect_error(ws, "resume_invalid")
        await send(ws, "hello", link=b.link)
        await expect_error(ws, "resume_invalid")
    assert await waiting_ids(redis, b.clinic.id) == []


async def test_patient_with_an_unknown_link(client: Client, redis: Redis) -> None:
    async with client.ws_connect("/ws") as ws:
        token = "Zq3v8Yc1m0pWn4rTx7bLk2dHs9gFj6aE"
        await send(ws, "hello", link=token, resume=token)
        await expect_error(ws, "link_unknown")


# ---- the waiting room -----------------------------------------------------------------------


async def test_patient_hello_puts_them_in_the_queue(client: Client, redis: Redis) -> None:
    b = await book(redis)
    resume = await join(client, b.link)
    async with client.ws_connect("/ws") as ws:
        welcome = await patient_hello(ws, b.link, resume)
        assert welcome["role"] == "patient"
        assert welcome["state"] == "waiting"
        assert welcome["participant_id"]
        waiting = await receive_type(ws, "waiting")
        assert waiting["position"] == 1
        assert waiting["eta_minutes"] >= 0
        c = await get_consultation(redis, b.consultation.id)
        assert c is not None
        assert c.status == Status.WAITING
        assert await waiting_ids(redis, b.clinic.id) == [b.consultation.id]


async def test_gp_sees_the_waiting_patient(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with (
        waiting_patient(client, b),
        gp_browser(client, b.gp.username) as gp,
        gp.ws_connect("/ws") as ws,
    ):
        state = await gp_hello(ws)
        assert [e["consultation_id"] for e in state["waiting"]] == [b.consultation.id]
        entry = state["waiting"][0]
        assert entry["patient_name"] == PATIENT_NAME
        assert entry["kind"] == "scheduled"
        assert entry["connected"] is True
        assert b.consultation.id in [e["consultation_id"] for e in state["today"]]


async def test_gp_is_told_when_a_patient_arrives(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with gp_browser(client, b.gp.username) as gp, gp.ws_connect("/ws") as gp_ws:
        assert (await gp_hello(gp_ws))["waiting"] == []
        async with waiting_patient(client, b):
            change = await receive_type(gp_ws, "queue.entry")
            assert change["entry"]["consultation_id"] == b.consultation.id
            assert change["entry"]["patient_name"] == PATIENT_NAME


async def test_queue_positions_follow_appointment_times(client: Client, redis: Redis) -> None:
    b = await book(redis, minutes_from_now=30)
    earlier_link = await another_patient(redis, b.clinic, minutes_from_now=10)
    async with waiting_patient(client, b) as later:
        assert (await receive_type(later.ws, "waiting"))["position"] == 1
        resume = await join(client, earlier_link, name="Ole Hansen")
        async with client.ws_connect("/ws") as earlier:
            await patient_hello(earlier, earlier_link, resume)
            assert (await receive_type(earlier, "waiting"))["position"] == 1
            moved = await receive_type(later.ws, "waiting")
            assert moved["position"] == 2


async def test_patient_leave(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with waiting_patient(client, b) as p:
        await send(p.ws, "leave")
        await receive_type(p.ws, "left")
    assert await waiting_ids(redis, b.clinic.id) == []


async def test_a_second_tab_supersedes_the_first(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with waiting_patient(client, b) as first, client.ws_connect("/ws") as second:
        welcome = await patient_hello(second, b.link, first.resume)
        assert welcome["state"] == "waiting"
        assert welcome["participant_id"] == first.participant_id
        await receive_type(first.ws, "superseded")
        closing = await first.ws.receive(timeout=5)
        assert (closing.type, closing.data, closing.extra) == (
            WSMsgType.CLOSE,
            4001,
            "superseded",
        )
        assert first.ws.closed
        # The new tab holds the place in the queue.
        assert await waiting_ids(redis, b.clinic.id) == [b.consultation.id]
        await send(second, "leave")
        await receive_type(second, "left")


async def test_one_patients_garbage_does_not_disturb_another(client: Client, redis: Redis) -> None:
    b = await book(redis, minutes_from_now=10)
    other_link = await another_patient(redis, b.clinic, minutes_from_now=20)
    async with waiting_patient(client, b) as noisy:
        resume = await join(client, other_link, name="Ole Hansen")
        async with client.ws_connect("/ws") as calm:
            await patient_hello(calm, other_link, resume)
            assert (await receive_type(calm, "waiting"))["position"] == 2
            for garbage in ("x", "{}", '{"v":1,"type":{}}', '{"v":1,"type":"admit"}'):
                await noisy.ws.send_str(garbage)
                assert (await receive_type(noisy.ws, "error"))["type"] == "error"
            await send(noisy.ws, "leave")
            await receive_type(noisy.ws, "left")
            moved = await receive_type(calm, "waiting")
            assert moved["position"] == 1
            assert not calm.closed


# ---- calls ----------------------------------------------------------------------------------


@dataclass
class InCall:
    patient: ClientWebSocketResponse
    gp: ClientWebSocketResponse
    patient_id: str
    gp_id: str
    patient_resume: str


@asynccontextmanager
async def in_call(client: Client, b: Booking) -> AsyncIterator[InCall]:
    """A waiting patient admitted by their GP; both sockets have joined the call."""
    async with (
        waiting_patient(client, b) as p,
        gp_browser(client, b.gp.username) as gp,
        gp.ws_connect("/ws") as gp_ws,
    ):
        await gp_hello(gp_ws)
        await send(gp_ws, "admit", consultation_id=b.consultation.id)
        gp_joined = await receive_type(gp_ws, "call.joined")
        assert gp_joined["consultation_id"] == b.consultation.id
        assert gp_joined["peers"] == []
        assert gp_joined["ice_servers"] == []
        patient_joined = await receive_type(p.ws, "call.joined")
        assert patient_joined["participant_id"] == p.participant_id
        assert patient_joined["peers"] == [
            {
                "participant_id": gp_joined["participant_id"],
                "role": "gp",
                "display_name": b.gp.display_name,
            }
        ]
        peer = await receive_type(gp_ws, "peer.joined")
        assert peer["peer"] == {
            "participant_id": p.participant_id,
            "role": "patient",
            "display_name": PATIENT_NAME,
        }
        yield InCall(p.ws, gp_ws, p.participant_id, gp_joined["participant_id"], p.resume)


async def test_admit_signal_and_end(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with in_call(client, b) as call:
        offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
        await send(call.gp, "signal", to=call.patient_id, description=offer)
        relayed = await receive_type(call.patient, "signal")
        assert relayed == {"v": 1, "type": "signal", "from": call.gp_id, "description": offer}

        candidate = {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"}
        await send(call.patient, "signal", to=call.gp_id, candidate=candidate)
        back = await receive_type(call.gp, "signal")
        assert back["from"] == call.patient_id
        assert back["candidate"] == candidate

        await send(call.gp, "media.state", audio=False, video=True)
        muted = await receive_type(call.patient, "media.state")
        assert muted == {
            "v": 1,
            "type": "media.state",
            "participant_id": call.gp_id,
            "audio": False,
            "video": True,
        }

        await media_flowed(call.gp, call.patient_id)
        await send(call.gp, "end", consultation_id=b.consultation.id)
        for ws in (call.gp, call.patient):
            ended = await receive_type(ws, "call.ended")
            assert ended["consultation_id"] == b.consultation.id
            assert ended["billing_code"] == "0125"
        c = await get_consultation(redis, b.consultation.id)
        assert c is not None
        assert (c.status, c.billing_code) == (Status.ENDED, "0125")

        await send(call.gp, "end", consultation_id=b.consultation.id)
        await receive_type(call.gp, "error")


async def test_camera_off_reaches_the_others_and_a_half_media_state_is_refused(
    client: Client, redis: Redis
) -> None:
    """The call screen shows initials for a camera that is off: `media.state` carries it. A
    state without both fields is refused, and the socket goes on."""
    b = await book(redis)
    async with in_call(client, b) as call:
        await send(call.patient, "media.state", audio=True, video=False)
        camera_off = await receive_type(call.gp, "media.state")
        assert (camera_off["participant_id"], camera_off["video"]) == (call.patient_id, False)
        await send(call.patient, "media.state", audio=False, ref="half")
        error = await receive_type(call.patient, "error")
        assert (error["code"], error["ref"]) == ("invalid_message", "half")
        await send(call.patient, "media.state", audio=False, video=False)
        assert (await receive_type(call.gp, "media.state"))["audio"] is False


async def test_signal_to_an_unknown_participant(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with in_call(client, b) as call:
        offer = {"type": "offer", "sdp": "v=0"}
        await send(call.gp, "signal", to="someone-else", description=offer, ref="s1")
        error = await receive_type(call.gp, "error")
        assert (error["code"], error["ref"]) == ("unknown_peer", "s1")
        await send(call.gp, "signal", to=call.patient_id, ref="s2")
        error = await receive_type(call.gp, "error")
        assert (error["code"], error["ref"]) == ("invalid_message", "s2")


async def test_signal_outside_a_call(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with waiting_patient(client, b) as p:
        await send(p.ws, "signal", to="abc", description={"type": "offer", "sdp": "v=0"})
        assert (await receive_type(p.ws, "error"))["code"] == "not_in_call"


async def test_a_patient_cannot_admit_or_end(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with waiting_patient(client, b) as p:
        await send(p.ws, "admit", consultation_id=b.consultation.id)
        assert (await receive_type(p.ws, "error"))["code"] == "forbidden"
        await send(p.ws, "end", consultation_id=b.consultation.id)
        assert (await receive_type(p.ws, "error"))["code"] == "forbidden"
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None
    assert c.status == Status.WAITING


async def test_a_gp_of_another_clinic_cannot_admit(client: Client, redis: Redis) -> None:
    b = await book(redis)
    elsewhere = await create_clinic(redis, "Lægerne i Nørreby", "777777")
    stranger = await create_user(
        redis, "dr-stranger", GP_PASSWORD, "Dr. Fremmed", "gp", elsewhere.id
    )
    async with (
        waiting_patient(client, b) as p,
        gp_browser(client, stranger.username) as gp,
        gp.ws_connect("/ws") as ws,
    ):
        state = await gp_hello(ws)
        assert state["waiting"] == []  # they do not even see the patient
        await send(ws, "admit", consultation_id=b.consultation.id, ref="x")
        error = await receive_type(ws, "error")
        assert (error["code"], error["ref"]) == ("forbidden", "x")
        await send(ws, "end", consultation_id=b.consultation.id)
        assert (await receive_type(ws, "error"))["code"] == "forbidden"
        c = await get_consultation(redis, b.consultation.id)
        assert c is not None
        assert c.status == Status.WAITING
        assert c.gp_participant == ""
        assert await waiting_ids(redis, b.clinic.id) == [b.consultation.id]
        assert not p.ws.closed


async def test_two_gps_admit_the_same_patient(client: Client, redis: Redis) -> None:
    b = await book(redis)
    colleague = await create_user(
        redis, "dr-colleague", GP_PASSWORD, "Dr. Kollega", "gp", b.clinic.id
    )
    async with (
        waiting_patient(client, b),
        gp_browser(client, b.gp.username) as gp1,
        gp_browser(client, colleague.username) as gp2,
        gp1.ws_connect("/ws") as ws1,
        gp2.ws_connect("/ws") as ws2,
    ):
        await gp_hello(ws1)
        await gp_hello(ws2)
        await send(ws1, "admit", consultation_id=b.consultation.id)
        await receive_type(ws1, "call.joined")
        await send(ws2, "admit", consultation_id=b.consultation.id)
        error = await receive(ws2)
        while error["type"] != "error":
            error = await receive(ws2)
        assert error["code"] == "not_waiting"
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None
    assert c.practitioner_id == b.gp.id


async def test_events_never_carry_the_patients_name(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with in_call(client, b) as call:
        await send(call.gp, "end", consultation_id=b.consultation.id)
        await receive_type(call.patient, "call.ended")
    events = await read_events(redis)
    kinds = [kind for _, kind, _ in events]
    assert {"patient.waiting", "call.started", "call.ended"} <= set(kinds)
    for _, _, data in events:
        assert "Karen" not in str(data) and "Jensen" not in str(data)


async def test_patient_returning_after_the_end_is_told_it_ended(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    async with in_call(client, b) as call:
        await send(call.gp, "end", consultation_id=b.consultation.id, continued_by_phone=True)
        await receive_type(call.patient, "call.ended")
        resume = call.patient_resume
    async with client.ws_connect("/ws") as ws:
        welcome = await patient_hello(ws, b.link, resume)
        assert welcome["state"] == "ended"
        ended = await receive_type(ws, "call.ended")
        assert ended["billing_code"] == "0201"


async def test_gp_reload_rejoins_the_call(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with (
        waiting_patient(client, b) as p,
        gp_browser(client, b.gp.username) as gp,
    ):
        async with gp.ws_connect("/ws") as first:
            await gp_hello(first)
            await send(first, "admit", consultation_id=b.consultation.id)
            gp_id = (await receive_type(first, "call.joined"))["participant_id"]
            await receive_type(p.ws, "call.joined")
        left = await receive_type(p.ws, "peer.left")
        assert left == {
            "v": 1,
            "type": "peer.left",
            "participant_id": gp_id,
            "reason": "disconnected",
        }
        async with gp.ws_connect("/ws") as again:
            await send(again, "hello")
            welcome = await receive_type(again, "welcome")
            assert welcome["active_call"] == b.consultation.id
            await send(again, "rejoin", consultation_id=b.consultation.id)
            joined = await receive_type(again, "call.joined")
            assert joined["participant_id"] == gp_id
            assert [peer["participant_id"] for peer in joined["peers"]] == [p.participant_id]
            assert (await receive_type(p.ws, "peer.joined"))["peer"]["participant_id"] == gp_id
