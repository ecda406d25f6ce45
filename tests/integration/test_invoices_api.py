"""GET /api/v1/invoices: a vendor fetches its own issued invoices, never another's, with
amounts excl. VAT and the VAT beside them; the OpenAPI document describes it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from server.pilots.issuing import Period
from server.store.connection import Redis
from server.store.invoices import issue
from server.store.subscriptions import propose_price, set_capacities, set_price, set_vendor
from server.store.vendors import create_vendor, issue_api_key
from tests.integration.webhookreceiver import Client, bearer
from tests.unit.factories import make_clinic

START = date(2023, 1, 1)


async def fetch(client: Client, key: str, **query: str) -> Any:
    response = await client.get("/api/v1/invoices", params=query, headers=bearer(key))
    assert response.status == 200, await response.text()
    return (await response.json())["invoices"]


async def test_each_vendor_sees_only_its_own_invoices_with_credits(
    client: Client, redis: Redis
) -> None:
    x, y = await create_vendor(redis, "X Journal", []), await create_vendor(redis, "Y Data", [])
    x_key, y_key = await issue_api_key(redis, x.id), await issue_api_key(redis, y.id)
    ours, theirs = await make_clinic(redis), await make_clinic(redis, "Lægerne i Brabrand")
    for clinic, vendor in ((ours, x), (theirs, y)):
        await set_capacities(redis, "test", clinic.id, START, 2)
        await set_vendor(redis, "test", clinic.id, START, vendor.id)
    await issue(redis, "test", Period.parse("2026Q1"))
    await set_vendor(redis, "test", ours.id, date(2026, 1, 1), y.id)  # backdated into Q1
    await issue(redis, "test", Period.parse("2026Q2"))

    mine = await fetch(client, x_key)
    assert [(i["issue"], [ln["kind"] for ln in i["lines"]]) for i in mine] == [
        (1, ["charge"]),
        (2, ["credit"]),
    ]
    assert all(ln["clinic"] == ours.ydernummer for i in mine for ln in i["lines"])
    first, credit = mine
    assert (first["total_excl_vat_ore"], first["vat_ore"], first["total_incl_vat_ore"]) == (
        72_000, 18_000, 90_000,
    )  # fmt: skip
    assert (first["currency"], first["vat_percent"]) == ("DKK", 25)
    assert credit["lines"][0]["credits"] == first["number"]
    assert credit["lines"][0]["amount_excl_vat_ore"] == -72_000

    theirs_seen = await fetch(client, y_key)
    assert {ln["clinic"] for i in theirs_seen for ln in i["lines"]} == {
        ours.ydernummer,
        theirs.ydernummer,
    }
    assert not {i["number"] for i in mine} & {i["number"] for i in theirs_seen}
    q1 = await fetch(client, y_key, quarter="2026Q1")
    assert sorted((ln["kind"], ln["clinic"]) for i in q1 for ln in i["lines"]) == sorted(
        [("charge", theirs.ydernummer), ("correction", ours.ydernummer)]
    )
    assert await fetch(client, x_key, quarter="2027Q1") == []


async def test_bad_quarters_and_missing_keys_are_refused(client: Client, redis: Redis) -> None:
    vendor = await create_vendor(redis, "X Journal", [])
    key = await issue_api_key(redis, vendor.id)
    assert (await client.get("/api/v1/invoices")).status == 401
    for bad in ("2026Q5", "2026", "Q1", "2026Q1 OR 1"):
        response = await client.get(
            "/api/v1/invoices", params={"quarter": bad}, headers=bearer(key)
        )
        assert response.status == 422, bad
    document = await (await client.get("/api/v1/openapi.json")).json()
    operation = document["paths"]["/api/v1/invoices"]["get"]
    assert "invoices" in operation["tags"]
    assert "excl. VAT" in operation["summary"]


async def test_vendors_see_the_current_and_coming_prices(client: Client, redis: Redis) -> None:
    vendor = await create_vendor(redis, "X Journal", [])
    key = await issue_api_key(redis, vendor.id)
    coming = (date.today().replace(day=1) + timedelta(days=40)).replace(day=1)
    await set_price(redis, "test", date(2024, 1, 1), 12_300)
    await set_price(redis, "test", coming, 12_500)
    await propose_price(redis, "admin", (coming + timedelta(days=40)).replace(day=1), 99_900)
    response = await client.get("/api/v1/prices", headers=bearer(key))
    assert response.status == 200
    body = await response.json()
    assert (body["currency"], body["vat_percent"]) == ("DKK", 25)
    assert [(p["since"], p["price_ore"], p["status"]) for p in body["prices"]] == [
        ("2023-01-01", 12_000, "past"),
        ("2024-01-01", 12_300, "current"),
        (coming.isoformat(), 12_500, "coming"),
    ]  # the unapproved proposal is not a price
    assert (await client.get("/api/v1/prices")).status == 401
