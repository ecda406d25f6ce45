"""Relaying signals under overload (server/signalling/relay.py): every signal is delivered
or its sender is told `overloaded`; none is lost, none answered `internal`, and the order
a sender sent them in survives the refusals."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType
from pytest_aiohttp import AiohttpClient
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError

from server.app import create_app
from server.appkeys import REDIS
from server.settings import Settings
from server.signalling import relay
from server.store.connection import Redis
from server.store.sessions import close_user_sessions
from tests.integration.helpers import book, drain, receive_type, send
from tests.integration.test_signalling import in_call

SDP_SIZE = 60_000  # the largest description the protocol takes: fills buffers fast


def description(n: int) -> dict[str, str]:
    """An offer that says which one it is."""
    head = f"v=0\r\ns={n}\r\n"
    return {"type": "offer", "sdp": head + "a" * (SDP_SIZE - len(head))}


def number(relayed: dict[str, Any]) -> int:
    return int(relayed["description"]["sdp"].split("\r\n")[1][2:])


async def signal(ws: ClientWebSocketResponse, to: str, n: int) -> None:
    await send(ws, "signal", to=to, description=description(n), ref=f"s{n}")


def signals(messages: list[dict[str, Any]]) -> list[int]:
    return [number(message) for message in messages if message["type"] == "signal"]


def errors(messages: list[dict[str, Any]]) -> dict[str, str]:
    return {m["ref"]: m["code"] for m in messages if m["type"] == "error"}


async def test_a_stalled_receiver_pushes_back_and_no_signal_is_lost(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patient's browser stops reading: its socket's buffers fill, then its outbox. The
    GP's signals beyond that are refused `overloaded`, and every later one too until the
    first refused comes back, so resending the refused in order delivers all, in order."""
    monkeypatch.setattr(relay, "OUTBOX_LIMIT", 4)
    client = await aiohttp_client(create_app(settings))
    b = await book(redis)
    async with in_call(client, b) as call:
        sent = 150  # 9 MB: more than loopback and the client hold unread (under the burst)
        for n in range(sent):
            await signal(call.gp, call.patient_id, n)
        answered = errors(await drain(call.gp, quiet=1.0))
        delivered = signals(await drain(call.patient, quiet=1.0))

        assert set(answered.values()) == {"overloaded"}
        refused = sorted(int(ref[1:]) for ref in answered)
        assert delivered == list(range(len(delivered)))
        assert refused == list(range(len(delivered), sent)), "delivered, or told; in order"

        for n in refused:  # the browser sends them again, in the order refused
            await signal(call.gp, call.patient_id, n)
            assert number(await receive_type(call.patient, "signal")) == n
        assert errors(await drain(call.gp, quiet=0.3)) == {}


async def hold_every_connection(redis: Redis) -> list[AbstractConnection]:
    """Take all the app's pooled Redis connections, as a backlog of requests would."""
    pool = redis.connection_pool
    pool.timeout = 0.2  # type: ignore[attr-defined]
    held = []
    while True:
        try:
            held.append(await pool.get_connection())
        except RedisConnectionError:
            return held


async def test_an_exhausted_redis_pool_answers_overloaded_and_keeps_the_order(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    client = await aiohttp_client(create_app(settings.with_(redis_max_connections=4)))
    app_redis = client.app[REDIS]
    b = await book(redis)
    async with in_call(client, b) as call:
        await signal(call.gp, call.patient_id, 0)  # taken in turn: the admit is done
        assert number(await receive_type(call.patient, "signal")) == 0
        held = await hold_every_connection(app_redis)
        await signal(call.gp, call.patient_id, 1)
        await signal(call.gp, call.patient_id, 2)
        answered = await drain(call.gp, quiet=1.0)
        assert [(m["ref"], m["code"]) for m in answered if m["type"] == "error"] == [
            ("s1", "overloaded"),
            ("s2", "overloaded"),  # held back behind s1: it must not overtake it
        ]
        assert all(m["retry_after_ms"] > 0 for m in answered if m["type"] == "error")
        for connection in held:
            await app_redis.connection_pool.release(connection)

        await signal(call.gp, call.patient_id, 2)  # out of order: still held back
        assert (await receive_type(call.gp, "error"))["code"] == "overloaded"
        await signal(call.gp, call.patient_id, 1)
        await signal(call.gp, call.patient_id, 2)
        assert signals(await drain(call.patient, quiet=0.5)) == [1, 2]


async def test_any_message_meeting_an_exhausted_redis_pool_is_answered_overloaded(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    """Not only signals: whatever a socket sends while Redis cannot be reached is answered
    with its ref and `overloaded` (try again), never `internal`."""
    client = await aiohttp_client(create_app(settings.with_(redis_max_connections=4)))
    app_redis = client.app[REDIS]
    b = await book(redis)
    async with in_call(client, b) as call:
        await send(call.gp, "chat", text="hej", ref="c0")  # taken in turn: the admit is done
        assert (await receive_type(call.patient, "chat"))["text"] == "hej"
        held = await hold_every_connection(app_redis)
        await send(call.gp, "chat", text="hej", ref="c1")
        refused = await receive_type(call.gp, "error")
        for connection in held:
            await app_redis.connection_pool.release(connection)
        assert (refused.get("ref"), refused["code"]) == ("c1", "overloaded")
        assert refused["retry_after_ms"] > 0


async def test_a_signal_is_not_relayed_with_a_login_that_ended_unheard(
    client: Any, redis: Redis
) -> None:
    """The login is looked at in the relay's one round trip, as before any other message."""
    b = await book(redis)
    async with in_call(client, b) as call:
        await close_user_sessions(redis, b.gp.id)  # gone, and nobody told the socket
        await signal(call.gp, call.patient_id, 1)
        codes = []
        while (frame := await call.gp.receive(timeout=5)).type == WSMsgType.TEXT:
            message = frame.json()
            codes += [message["code"]] if message["type"] == "error" else []
        assert (codes, frame.data) == (["session_ended"], 4003)
        heard = [m["type"] for m in await drain(call.patient, quiet=0.5)]
        assert heard == ["peer.left"]  # the GP's seat let go; the signal never came
