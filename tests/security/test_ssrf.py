"""Issue 15, "Server-side request forgery": a vendor's key must not aim our webhook requests
inside our network, whatever spelling of an address it registers, whatever its DNS answers
later, and whatever its endpoint redirects to."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from aiohttp import ClientConnectorError, ClientSession, TCPConnector, web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.settings import Settings
from server.store import keys
from server.store.connection import Redis
from server.store.events import EventType, append_event
from server.store.vendors import create_vendor
from server.store.webhooks import register_webhook
from server.webhooks.destination import RefusedAddress, guard_socket, parse_address
from tests.integration.webhookreceiver import (
    FAST,
    Client,
    Receiver,
    bearer,
    eventually,
    vendor_with_key,
)
from tests.unit.factories import make_clinic

# Every one reaches 127.0.0.1, the metadata service, or another inside address through the C
# resolver (inet_aton reads decimal, hex, octal and short forms).
INSIDE = [
    "https://0x7f000001:8443/hook",
    "https://2130706433/hook",
    "https://0xa9fea9fe/latest/meta-data",
    "https://0251.0376.0251.0376/latest/meta-data",
    "https://169.254.169.254/latest/meta-data",
    "https://0177.1/hook",
    "https://127.1/hook",
    "https://0x7f.0.0.1/hook",
    "https://017700000001/hook",
    "https://0/hook",
    "https://10.1/hook",
    "https://[::ffff:7f00:1]/hook",
    "https://[::ffff:169.254.169.254]/hook",
    "https://[fe80::1]/hook",
    "https://[::]/hook",
    "https://100.64.0.1/hook",
    "https://224.0.0.1/hook",
    "https://127.0.0.1./hook",
    "https://localhost/hook",
]


async def start(aiohttp_client: AiohttpClient, settings: Settings, **changes: Any) -> Client:
    return await aiohttp_client(create_app(settings.with_(webhook_policy=FAST, **changes)))


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("0x7f000001", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("0177.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("lps.example.dk", None),
        ("08", None),
    ],
)
def test_addresses_are_read_the_way_the_resolver_reads_them(host: str, address: str) -> None:
    found = parse_address(host)
    assert (str(found) if found else None) == address
    if address is not None:  # the C library agrees
        assert socket.inet_ntoa(socket.inet_aton(host)) == address


@pytest.mark.parametrize("url", INSIDE)
async def test_no_spelling_of_an_inside_address_can_be_registered(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis, url: str
) -> None:
    api = await start(aiohttp_client, settings)
    key = await vendor_with_key(redis, [(await make_clinic(redis)).id])
    response = await api.put("/api/v1/webhook", json={"url": url}, headers=bearer(key))
    assert response.status == 422, url
    assert (await response.json())["code"] == "invalid_body"
    assert not await redis.exists(keys.WEBHOOK_VENDORS)


@pytest.mark.parametrize(
    "url", ["http://localhost:9000/hook", "http://127.0.0.1:9000/hook", "https://[::1]/hook"]
)
async def test_this_machine_only_under_the_explicit_development_setting(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis, url: str
) -> None:
    key = await vendor_with_key(redis, [(await make_clinic(redis)).id])
    production = await start(aiohttp_client, settings)
    refused = await production.put("/api/v1/webhook", json={"url": url}, headers=bearer(key))
    assert refused.status == 422

    development = await start(aiohttp_client, settings, webhook_allow_local=True)
    allowed = await development.put("/api/v1/webhook", json={"url": url}, headers=bearer(key))
    assert allowed.status == 200


async def _last_error(redis: Redis, vendor_id: str, message_id: str) -> str:
    raw = await redis.hget(keys.webhook_messages(vendor_id), message_id)
    return str(json.loads(raw)["last_error"]) if raw else ""


async def test_a_url_registered_under_older_rules_is_refused_at_delivery(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    """A hex spelling of 127.0.0.1, as stored before the rule, reaches a real receiver here
    if anything connects to it; nothing may."""
    await start(aiohttp_client, settings)
    clinic = await make_clinic(redis)
    vendor_id = (await create_vendor(redis, "Journal A/S", [clinic.id])).id
    async with Receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        await register_webhook(redis, vendor_id, f"http://0x7f000001:{port}/hook")
        event_id = await append_event(
            redis, EventType.CALL_STARTED, consultation_id="c1", clinic_id=clinic.id
        )

        async def refused() -> bool:
            return "not allowed" in await _last_error(redis, vendor_id, event_id)

        await eventually(refused)
    assert receiver.arrived == []


class PretendDns(AbstractResolver):
    """A name whose DNS answer changed after registration (rebinding): it now says 127.0.0.1."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET,
                          proto=0, flags=socket.AI_NUMERICHOST)
        ]  # fmt: skip

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("host", ["lps.example.dk", "127.0.0.1", "localhost"])
async def test_the_address_actually_connected_to_is_checked(host: str) -> None:
    """By name (through DNS that now points inside) or by literal address (which aiohttp
    connects to without asking any resolver), a loopback address is never connected to."""
    async with Receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        url = f"http://{host}:{port}/hook"
        resolver = PretendDns() if host == "lps.example.dk" else None
        connector = TCPConnector(socket_factory=guard_socket(), resolver=resolver)
        async with ClientSession(connector=connector) as http:
            with pytest.raises(ClientConnectorError) as refused:
                await http.post(url, data=b"{}")
        assert isinstance(refused.value.os_error, RefusedAddress)

        local = TCPConnector(socket_factory=guard_socket(allow_loopback=True), resolver=resolver)
        async with ClientSession(connector=local) as http, http.post(url, data=b"{}") as answer:
            assert answer.status == 200
    assert len(receiver.arrived) == 1  # only the development setting's request arrived


async def test_redirects_are_not_followed(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    api = await start(aiohttp_client, settings, webhook_allow_local=True)
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])
    async with Receiver() as inside:

        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPTemporaryRedirect(inside.url)

        app = web.Application()
        app.router.add_post("/hook", redirect)
        async with TestServer(app) as outside:
            url = str(outside.make_url("/hook"))
            response = await api.put("/api/v1/webhook", json={"url": url}, headers=bearer(key))
            assert response.status == 200
            vendor_id = str((await redis.smembers(keys.WEBHOOK_VENDORS)).pop())
            event_id = await append_event(
                redis, EventType.CALL_STARTED, consultation_id="c1", clinic_id=clinic.id
            )

            async def answered_307() -> bool:
                return await _last_error(redis, vendor_id, event_id) == "HTTP 307"

            await eventually(answered_307)
    assert inside.arrived == []
