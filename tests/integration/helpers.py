"""Short ways to set up a clinic, a GP and a booked patient, and to talk to the app."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse, CookieJar, WSMsgType, web
from aiohttp.test_utils import TestClient

from server.pages.patient import TERMS_VERSION
from server.store.clinics import Clinic
from server.store.connection import Redis
from server.store.consultations import Consultation
from server.store.users import User, create_user
from tests.unit.factories import PATIENT_NAME, make_clinic, make_scheduled, with_link

Client = TestClient[web.Request, web.Application]

GP_PASSWORD = "rugbrød-og-kaffe-42"
RECEIVE_TIMEOUT = 5.0

_usernames = itertools.count(1)


@dataclass(frozen=True)
class Booking:
    clinic: Clinic
    gp: User
    consultation: Consultation
    link: str


async def make_gp(redis: Redis, clinic: Clinic, display_name: str = "Dr. Lise Holm") -> User:
    return await create_user(
        redis, f"gp-{next(_usernames)}", GP_PASSWORD, display_name, "gp", clinic.id
    )


async def book(redis: Redis, clinic: Clinic | None = None, minutes_from_now: float = 5) -> Booking:
    """A clinic with a GP, and a consultation a few minutes from now with a patient link."""
    clinic = clinic or await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    c = await make_scheduled(redis, clinic, minutes_from_now=minutes_from_now)
    link, c = await with_link(redis, c)
    return Booking(clinic, gp, c, link)


async def another_patient(redis: Redis, clinic: Clinic, minutes_from_now: float) -> str:
    """A second booked consultation in the same clinic; returns its link."""
    c = await make_scheduled(redis, clinic, minutes_from_now=minutes_from_now)
    link, _ = await with_link(redis, c)
    return link


def origin(client: Client) -> str:
    return str(client.make_url("/").origin())


async def join(client: Client, link: str, name: str = PATIENT_NAME) -> str:
    """Accept the terms and give a name on the link page; returns the resume token."""
    response = await client.post(
        f"/j/{link}/join", json={"name": name, "accepted_terms": TERMS_VERSION}
    )
    assert response.status == 200, await response.text()
    return str((await response.json())["resume"])


@asynccontextmanager
async def browser(client: Client) -> AsyncIterator[ClientSession]:
    """A separate browser (own cookie jar) against the same server."""
    async with ClientSession(
        base_url=client.make_url("/"), cookie_jar=CookieJar(unsafe=True)
    ) as session:
        yield session


async def login(session: ClientSession, username: str, password: str = GP_PASSWORD) -> None:
    response = await session.post(
        "/login", data={"username": username, "password": password}, allow_redirects=False
    )
    assert response.status == 303, await response.text()


async def receive(ws: ClientWebSocketResponse) -> dict[str, Any]:
    """The next message; fails if the socket closes or stays silent."""
    frame = await ws.receive(timeout=RECEIVE_TIMEOUT)
    assert frame.type == WSMsgType.TEXT, f"expected a message, got {frame}"
    message: dict[str, Any] = frame.json()
    return message


async def receive_type(ws: ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next message of this type, skipping others (queue updates arrive at any time)."""
    while True:
        message = await receive(ws)
        if message["type"] == kind:
            return message
        assert message["type"] != "error", message


async def send(ws: ClientWebSocketResponse, kind: str, **fields: Any) -> None:
    await ws.send_json({"v": 1, "type": kind, **fields})


async def media_flowed(ws: ClientWebSocketResponse, peer: str) -> None:
    """The browser on `ws` reports decoded media from `peer` (the other of GP and patient),
    as it does at the first frame: without it, a call ends with no billing code."""
    await send(ws, "call.report", peer=peer, phase="media", media=True)


async def patient_hello(ws: ClientWebSocketResponse, link: str, resume: str) -> dict[str, Any]:
    await send(ws, "hello", link=link, resume=resume)
    welcome = await receive(ws)
    assert welcome["type"] == "welcome", welcome
    return welcome


async def gp_hello(ws: ClientWebSocketResponse) -> dict[str, Any]:
    """Say hello as a logged-in GP; returns the first clinic.state."""
    await send(ws, "hello")
    welcome = await receive(ws)
    assert welcome["type"] == "welcome", welcome
    assert welcome["role"] == "gp"
    return await receive_type(ws, "clinic.state")


async def another_booking(
    redis: Redis, b: Booking, minutes_from_now: float, **fields: object
) -> Booking:
    """Another consultation in the same clinic (same GP), with its own patient link."""
    c = await make_scheduled(redis, b.clinic, minutes_from_now=minutes_from_now, **fields)
    link, c = await with_link(redis, c)
    return Booking(b.clinic, b.gp, c, link)


async def receive_error(
    ws: ClientWebSocketResponse, code: str, ref: str | None = None
) -> dict[str, Any]:
    """The next error, skipping other messages; it must carry this code (and ref)."""
    while True:
        message = await receive(ws)
        if message["type"] == "error":
            assert message["code"] == code, message
            if ref is not None:
                assert message.get("ref") == ref, message
            return message


async def drain(ws: ClientWebSocketResponse, quiet: float = 0.5) -> list[dict[str, Any]]:
    """Everything that arrives until the socket has stayed quiet for `quiet` seconds."""
    messages: list[dict[str, Any]] = []
    while True:
        try:
            frame = await ws.receive(timeout=quiet)
        except TimeoutError:
            return messages
        assert frame.type == WSMsgType.TEXT, f"expected a message, got {frame}"
        messages.append(frame.json())


async def assert_silent(ws: ClientWebSocketResponse, quiet: float = 0.5) -> None:
    """Nothing at all arrives for `quiet` seconds: the server chose to send nothing."""
    try:
        frame = await ws.receive(timeout=quiet)
    except TimeoutError:
        return
    raise AssertionError(f"expected no message, got {frame}")
