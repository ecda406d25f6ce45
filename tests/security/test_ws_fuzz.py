"""The signalling socket under generated input, for every role: thousands of frames, some
shaped like the protocol's messages (with the real ids and tokens of the people on the
line), some garbage. No handler may raise: no `internal` error comes back, the server logs
no traceback, and after every frame the socket still answers, or it was closed with a
clear code (and a new one is opened for what follows).

Each example is a few frames followed by a probe (an unknown type with a `ref`), which the
server answers only after it has handled everything sent before; so what came back in
between belongs to the example, and hypothesis shrinks a failure to the frames that cause
it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import types
import typing
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from server.auth.tokens import new_id, new_token
from server.signalling import messages as m
from server.signalling import session as session_module
from server.signalling.ratelimit import TokenBucket
from server.store.connection import Redis
from tests.integration.helpers import (
    Booking,
    Client,
    book,
    browser,
    join,
    login,
    receive_type,
    send,
)
from tests.integration.test_crosssector import invite, municipality, token_of

EXAMPLES_PER_ROLE = 700  # 1-4 frames each: some 1,700 frames per role
MIN_FRAMES_PER_ROLE = 1000
# What a server may close a socket with: normal, going away, not text, too big, superseded.
CLEAR_CLOSE_CODES = {1000, 1001, 1007, 1009, 4001}
PROBE_TIMEOUT = 20.0

MODELS: list[type[BaseModel]] = list(typing.get_args(typing.get_args(m.ClientMessage)[0]))


@dataclass
class Line:
    """One role's socket, reopened (with its hello) whenever the server closes it."""

    open_socket: Callable[[], Awaitable[ClientWebSocketResponse]]
    ws: ClientWebSocketResponse | None = None
    frames: int = 0
    reopened: int = 0
    probes: int = 0
    closes: list[int] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)  # reply type, or error code


# ---- what is sent ---------------------------------------------------------------------------

JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FRAME_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
SPECIAL_FRAMES = [
    "", "null", "[]", "{}", "1e999", "NaN", '{"v":1}', '{"v":"1","type":"hello"}',
    '{"v":1,"type":"hello","link":null}', '{"v":1,"type":"signal","to":"x","description":{}}',
    "[" * 30_000 + "]" * 30_000, '{"a":' * 10_000 + "1" + "}" * 10_000,
    '{"v":1,"type":"chat","text":"\\ud800"}', "x" * 70_000, '{"v":1,"type":"' + "t" * 5000 + '"}',
]  # fmt: skip


def _plain(annotation: Any) -> list[Any]:
    """The alternatives of a field's annotation, without None and Annotated."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _plain(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for arg in typing.get_args(annotation) for a in _plain(arg)]
    return [] if annotation is type(None) else [annotation]


def _value(name: str, annotation: Any, pools: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """A plausible value for a field (often a real id or token), or anything at all."""
    options: list[st.SearchStrategy[Any]] = [JSON_VALUES]
    for kind in _plain(annotation):
        if typing.get_origin(kind) is Literal:
            options.append(st.sampled_from(typing.get_args(kind)))
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            options.append(_model(kind, pools))
        elif kind is bool:
            options.append(st.booleans())
        elif kind is int:
            options.append(st.integers(-10, 4_000_000))
        elif kind is str:
            pool = pools["tokens"] if name in ("link", "resume", "invitation") else pools["ids"]
            options.extend([st.sampled_from(pool), FRAME_TEXT])
    return st.one_of(options)


def _model(model: type[BaseModel], pools: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    fields = {
        name: _value(name, info.annotation, pools)
        for name, info in model.model_fields.items()
        if name != "v"
    }
    return st.fixed_dictionaries({}, optional=fields)


def _typed(model: type[BaseModel], pools: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    kind = typing.get_args(model.model_fields["type"].annotation)[0]
    return _model(model, pools).map(lambda body: {**body, "v": 1, "type": kind})


def _message(pools: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """A protocol-shaped message: a real type, its fields (some missing, some wrong), v=1."""
    shaped = st.one_of([_typed(model, pools) for model in MODELS])
    extra = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=2)
    return st.tuples(shaped, extra, st.booleans()).map(
        lambda parts: json.dumps({**parts[1], **parts[0]} if parts[2] else parts[0])
    )


def frames(pools: dict[str, list[str]]) -> st.SearchStrategy[list[str | bytes]]:
    one: st.SearchStrategy[str | bytes] = st.one_of(
        _message(pools),
        _message(pools),
        _message(pools),
        JSON_VALUES.map(json.dumps),
        FRAME_TEXT,
        st.binary(max_size=64),
        st.sampled_from(SPECIAL_FRAMES),
    )
    return st.lists(one, min_size=1, max_size=4)


# ---- the exchange -----------------------------------------------------------------------------


async def _exchange(line: Line, batch: list[str | bytes], caplog: pytest.LogCaptureFixture) -> None:
    """Send the frames, then a probe; check everything that came back meanwhile."""
    logged = len(caplog.records)
    if line.ws is None or line.ws.closed:
        line.ws = await line.open_socket()
        line.reopened += 1
    ws = line.ws
    for frame in batch:
        try:
            await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_str(frame))
        except ConnectionError:
            break
        line.frames += 1
    line.probes += 1
    probe = f"probe-{line.probes}"
    try:
        if not ws.closed:
            await ws.send_str(json.dumps({"v": 1, "type": "probe", "ref": probe}))
    except ConnectionError:
        pass
    while True:
        reply = await ws.receive(timeout=PROBE_TIMEOUT)
        if reply.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            code = ws.close_code
            assert code in CLEAR_CLOSE_CODES, f"closed with {code} after {batch!r}"
            line.closes.append(code)
            break
        assert reply.type == WSMsgType.TEXT, reply
        message = json.loads(reply.data)
        assert message.get("code") != "internal", (message, batch)
        if message.get("type") == "error" and message.get("ref") == probe:
            assert message["code"] == "unknown_type", message
            break
        line.answers[message.get("code") or message["type"]] += 1
    raised = [r for r in caplog.records[logged:] if r.exc_info or r.levelno >= logging.ERROR]
    assert not raised, ([r.getMessage() for r in raised], batch)


async def fuzz(line: Line, pools: dict[str, list[str]], caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()

    @settings(
        max_examples=EXAMPLES_PER_ROLE, deadline=None, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(batch=frames(pools))
    def check(batch: list[str | bytes]) -> None:
        asyncio.run_coroutine_threadsafe(_exchange(line, batch, caplog), loop).result(
            timeout=2 * PROBE_TIMEOUT
        )

    await asyncio.to_thread(check)
    assert line.frames >= MIN_FRAMES_PER_ROLE, line
    # The frames reached every stage: parsing, validation and the role's own rules.
    print(f"{line.frames} frames, {line.reopened} sockets reopened: {dict(line.answers)}")
    assert {"malformed", "invalid_message"} <= set(line.answers), line.answers
    if line.ws is not None:
        await line.ws.close()


# ---- the roles --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _generous_rate(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The per-socket rate limit would turn most frames into `rate_limited`; it has its own
    tests, and here every frame is to reach the handlers."""
    monkeypatch.setattr(
        session_module, "TokenBucket", lambda rate, burst: TokenBucket(1_000_000, 1_000_000)
    )
    caplog.set_level(logging.INFO)


def _pools(b: Booking, *ids: str, tokens: tuple[str, ...] = ()) -> dict[str, list[str]]:
    return {
        "ids": [b.consultation.id, b.gp.id, b.clinic.id, new_id(), *ids],
        "tokens": [b.link, new_token(), *tokens],
    }


@asynccontextmanager
async def _opener(
    session: ClientSession, hello: dict[str, str] | None, welcome: str | None
) -> AsyncIterator[Callable[[], Awaitable[ClientWebSocketResponse]]]:
    """Opens a socket and says hello (when the role has one), closing them all at the end."""
    async with AsyncExitStack() as sockets:

        async def open_socket() -> ClientWebSocketResponse:
            ws = await sockets.enter_async_context(session.ws_connect("/ws"))
            if hello is not None:
                await send(ws, "hello", **hello)
                if welcome is not None:
                    await receive_type(ws, welcome)
            return ws

        yield open_socket


async def test_fuzz_an_anonymous_socket(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    b = await book(redis)
    async with browser(client) as session, _opener(session, None, None) as open_socket:
        await fuzz(Line(open_socket), _pools(b), caplog)


async def test_fuzz_a_patients_socket(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    b = await book(redis)
    resume = await join(client, b.link)
    hello = {"link": b.link, "resume": resume}
    async with browser(client) as session, _opener(session, hello, None) as open_socket:
        ws = await open_socket()
        welcome = await receive_type(ws, "welcome")
        line = Line(open_socket, ws)
        await fuzz(line, _pools(b, welcome["participant_id"], tokens=(resume,)), caplog)


async def test_fuzz_a_gps_socket(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    b = await book(redis)
    resume = await join(client, b.link)
    async with browser(client) as patient, patient.ws_connect("/ws") as patient_ws:
        await send(patient_ws, "hello", link=b.link, resume=resume)
        waiting = await receive_type(patient_ws, "welcome")
        async with browser(client) as session:
            await login(session, b.gp.username)
            async with _opener(session, {}, "clinic.state") as open_socket:
                pools = _pools(b, waiting["participant_id"], tokens=(resume,))
                await fuzz(Line(open_socket), pools, caplog)


async def test_fuzz_an_invited_professionals_socket(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    b = await book(redis)
    kommune = await municipality(redis, "Fuzz Kommune", "851")
    async with browser(client) as gp:
        await login(gp, b.gp.username)
        status, body = await invite(gp, b, kommune.org, kommune.nurse)
        assert status == 201, body
    token = token_of(body["url"])
    async with browser(client) as session:
        await login(session, kommune.nurse.username)
        async with _opener(session, {"invitation": token}, "welcome") as open_socket:
            pools = _pools(b, kommune.nurse.id, kommune.org.id, tokens=(token,))
            await fuzz(Line(open_socket), pools, caplog)
