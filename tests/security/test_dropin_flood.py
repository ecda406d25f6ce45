"""Issue 15, availability: the public drop-in link could be flooded; 30 anonymous joins gave
30 entries in the GP's list. Joins are limited per client address and per clinic, and a
person over the limit gets a clear page (Danish and English) and a 429."""

from __future__ import annotations

from server.clock import local_day, now
from server.demo import ALL_DAY
from server.pages.patient import TERMS_VERSION
from server.store.clinics import Clinic, create_clinic, issue_dropin_link
from server.store.connection import Redis
from server.store.consultations import Kind, consultations_on_day
from server.waitingroom.dropinlimit import PER_ADDRESS, PER_CLINIC
from tests.integration.helpers import Client
from tests.security.helpers import from_address

JOIN = {"name": "Karen Jensen", "accepted_terms": TERMS_VERSION}


async def open_hour(redis: Redis, ydernummer: str = "200001") -> tuple[Clinic, str]:
    clinic = await create_clinic(redis, "Lægehuset Åbyhøj", ydernummer, "+45 86 00 00 00", ALL_DAY)
    return clinic, await issue_dropin_link(redis, clinic.id)


async def drop_ins(redis: Redis, clinic: Clinic) -> int:
    today = await consultations_on_day(redis, clinic.id, local_day(now()))
    return sum(1 for c in today if c.kind == Kind.DROP_IN)


async def test_thirty_joins_from_one_address_make_only_a_few_entries(
    client: Client, redis: Redis
) -> None:
    clinic, token = await open_hour(redis)
    statuses = []
    for i in range(30):
        # A forged X-Forwarded-For changes nothing: this app trusts no proxy.
        response = await client.post(
            f"/d/{token}/join", json=JOIN, headers=from_address(f"203.0.113.{i}")
        )
        statuses.append(response.status)
    assert statuses == [200] * PER_ADDRESS + [429] * (30 - PER_ADDRESS)
    assert await drop_ins(redis, clinic) == PER_ADDRESS
    refused = await client.post(f"/d/{token}/join", json=JOIN)
    assert (await refused.json())["code"] == "dropin_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 600


async def test_a_flood_from_many_addresses_stops_at_the_clinics_limit(
    proxied: Client, redis: Redis
) -> None:
    clinic, token = await open_hour(redis)
    other, other_token = await open_hour(redis, "200002")
    for i in range(PER_CLINIC + 10):
        await proxied.post(f"/d/{token}/join", json=JOIN, headers=from_address(f"198.51.100.{i}"))
    assert await drop_ins(redis, clinic) == PER_CLINIC
    # Another clinic's open hour, and a visitor elsewhere, are not held back.
    fine = await proxied.post(
        f"/d/{other_token}/join", json=JOIN, headers=from_address("192.0.2.200")
    )
    assert fine.status == 200
    assert await drop_ins(redis, other) == 1


async def test_a_person_over_the_limit_gets_a_clear_page(client: Client, redis: Redis) -> None:
    _, token = await open_hour(redis)
    assert (await client.get(f"/d/{token}")).status == 200
    for _ in range(PER_ADDRESS):
        assert (await client.post(f"/d/{token}/join", json=JOIN)).status == 200
    danish = await client.get(f"/d/{token}")
    assert danish.status == 429
    assert "Retry-After" in danish.headers
    body = await danish.text()
    assert "Der er mange i kø lige nu" in body
    assert "+45 86 00 00 00" in body
    english = await client.get(f"/d/{token}?lang=en")
    assert english.status == 429
    assert "The queue is busy right now" in await english.text()
