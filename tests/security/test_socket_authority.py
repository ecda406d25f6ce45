"""Issue 15, sessions and authority: a GP's open WebSocket kept its authority after logout.
It could still act, and still heard new patients' names. Logout, password reset and account
removal must reach live sockets at once, on whichever instance holds them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse
from pytest_aiohttp import AiohttpClient

from server.accounts import remove_account, reset_password
from server.app import create_app
from server.auth.tokens import token_hash
from server.auth.web import SESSION_COOKIE
from server.settings import Settings
from server.signalling import session as session_module
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation
from server.store.users import get_user
from tests.integration.helpers import (
    Client,
    book,
    browser,
    gp_hello,
    join,
    login,
    patient_hello,
    receive_type,
    send,
)
from tests.security.helpers import SESSION_ENDED, until_closed


async def two_instances(aiohttp_client: AiohttpClient, settings: Settings) -> tuple[Client, Client]:
    a = await aiohttp_client(create_app(settings.with_(instance_id="instance-a")))
    b = await aiohttp_client(create_app(settings.with_(instance_id="instance-b")))
    return a, b


@asynccontextmanager
async def socket_with(client: Client, cookie: str) -> AsyncIterator[ClientWebSocketResponse]:
    """A GP's console socket on `client`'s instance, opened with this login cookie."""
    async with (
        ClientSession(headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}) as session,
        session.ws_connect(client.make_url("/ws")) as ws,
    ):
        yield ws


def cookie_of(session: ClientSession, client: Client) -> str:
    return session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value


async def test_logout_closes_the_gps_socket_on_another_instance(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    a, b = await two_instances(aiohttp_client, settings)
    booking = await book(redis)
    async with browser(a) as gp_browser:
        await login(gp_browser, booking.gp.username)
        async with socket_with(b, cookie_of(gp_browser, a)) as ws:
            await gp_hello(ws)
            assert (await gp_browser.post("/logout", allow_redirects=False)).status == 303
            closed = await until_closed(ws)
            assert closed.code == SESSION_ENDED
            errors = [m["code"] for m in closed.messages if m["type"] == "error"]
            assert errors == ["session_ended"]
            # A patient who arrives now is not announced to the logged-out console.
            await join(a, booking.link, name="Karen Efterlogud")
            assert all("Karen" not in str(m) for m in closed.messages)


async def test_a_socket_cannot_act_after_logout(client: Client, redis: Redis) -> None:
    booking = await book(redis)
    resume = await join(client, booking.link)
    async with browser(client) as gp_browser:
        await login(gp_browser, booking.gp.username)
        async with (
            socket_with(client, cookie_of(gp_browser, client)) as gp,
            client.ws_connect("/ws") as patient,
        ):
            await gp_hello(gp)
            await send(patient, "hello", link=booking.link, resume=resume)
            await receive_type(patient, "waiting")
            await gp_browser.post("/logout", allow_redirects=False)
            await send(gp, "admit", consultation_id=booking.consultation.id)
            assert (await until_closed(gp)).code == SESSION_ENDED
            c = await get_consultation(redis, booking.consultation.id)
            assert c is not None and c.status == Status.WAITING  # not admitted


async def test_logging_out_one_browser_leaves_the_gps_other_browser_alone(
    client: Client, redis: Redis
) -> None:
    booking = await book(redis)
    async with browser(client) as first, browser(client) as second:
        await login(first, booking.gp.username)
        await login(second, booking.gp.username)
        async with (
            socket_with(client, cookie_of(first, client)) as leaving,
            socket_with(client, cookie_of(second, client)) as staying,
        ):
            await gp_hello(leaving)
            await gp_hello(staying)
            await first.post("/logout", allow_redirects=False)
            await until_closed(leaving)
            resume = await join(client, booking.link, name="Ole Stadig")
            async with client.ws_connect("/ws") as patient:
                await patient_hello(patient, booking.link, resume)
                entry = await receive_type(staying, "queue.entry")
            assert "Ole Stadig" in str(entry)


async def test_a_password_reset_closes_every_socket_of_the_user_on_every_instance(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    a, b = await two_instances(aiohttp_client, settings)
    booking = await book(redis)
    async with browser(a) as gp_browser:
        await login(gp_browser, booking.gp.username)
        cookie = cookie_of(gp_browser, a)
        async with socket_with(a, cookie) as on_a, socket_with(b, cookie) as on_b:
            await gp_hello(on_a)
            await gp_hello(on_b)
            await reset_password(redis, "cli", booking.gp)
            closed = await asyncio.gather(until_closed(on_a), until_closed(on_b))
            assert [c.code for c in closed] == [SESSION_ENDED, SESSION_ENDED]


async def test_removing_the_account_closes_its_sockets(client: Client, redis: Redis) -> None:
    booking = await book(redis)
    async with browser(client) as gp_browser:
        await login(gp_browser, booking.gp.username)
        async with socket_with(client, cookie_of(gp_browser, client)) as ws:
            await gp_hello(ws)
            await remove_account(redis, "cli", booking.gp)
            assert (await until_closed(ws)).code == SESSION_ENDED
    assert await get_user(redis, booking.gp.id) is None


async def test_a_login_that_ended_unheard_is_never_acted_on(client: Client, redis: Redis) -> None:
    """Pub/sub is at most once: the news of a logout can be missed (a subscriber
    reconnecting), and a login can simply run out. The socket looks before it acts."""
    booking = await book(redis)
    resume = await join(client, booking.link)
    async with browser(client) as gp_browser:
        await login(gp_browser, booking.gp.username)
        cookie = cookie_of(gp_browser, client)
        async with (
            socket_with(client, cookie) as gp,
            client.ws_connect("/ws") as patient,
        ):
            await gp_hello(gp)
            await send(patient, "hello", link=booking.link, resume=resume)
            await receive_type(patient, "waiting")
            await redis.delete(keys.session(token_hash(cookie)))  # gone, and nobody told
            await send(gp, "admit", consultation_id=booking.consultation.id)
            assert (await until_closed(gp)).code == SESSION_ENDED
    c = await get_consultation(redis, booking.consultation.id)
    assert c is not None and c.status == Status.WAITING


async def test_a_login_that_runs_out_closes_its_quiet_socket(
    client: Client, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "LOGIN_CHECK_SECONDS", 0.2)
    booking = await book(redis)
    async with browser(client) as gp_browser:
        await login(gp_browser, booking.gp.username)
        cookie = cookie_of(gp_browser, client)
        async with socket_with(client, cookie) as gp:
            await gp_hello(gp)
            await redis.delete(keys.session(token_hash(cookie)))
            assert (await until_closed(gp)).code == SESSION_ENDED
