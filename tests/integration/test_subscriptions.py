"""The PLSP subscription pages over real HTTP and a real Redis: admin only, every change
audited, bad input refused unchanged, and each vendor's CSV exact to the øre."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from aiohttp import ClientSession, FormData

from server.demo import ensure_demo
from server.settings import Settings
from server.store.audit import read_audit
from server.store.clinics import Clinic
from server.store.connection import Redis
from server.store.subscriptions import (
    capacity_history,
    price_list,
    price_proposals,
    set_capacities,
    set_price,
    set_vendor,
    vendor_history,
)
from server.store.vendors import Vendor, create_vendor
from tests.integration.accountpages import html, make_admin, make_organisation, post
from tests.integration.helpers import Client, browser, login, make_gp
from tests.unit.factories import make_clinic

PAGE = "/admin/subscriptions"
START = date(2023, 1, 1)
COMING = (date.today().replace(day=1) + timedelta(days=40)).replace(day=1)


def ore(kroner: str) -> int:
    """'726.90' -> 72690, digit by digit (never through a float)."""
    whole, _, cents = kroner.partition(".")
    assert len(cents) == 2, kroner
    return int(whole) * 100 + int(cents)


async def capacities_form(session: ClientSession, clinic: Clinic, since: str, n: str) -> int:
    path = f"{PAGE}/clinics/{clinic.id}/capacities"
    response = await post(session, path, {"since": since, "capacities": n, "quarter": "2025Q1"})
    return int(response.status)


async def subscribed(redis: Redis, name: str, vendor: Vendor, capacities: int = 2) -> Clinic:
    clinic = await make_clinic(redis, name)
    await set_capacities(redis, "test", clinic.id, START, capacities)
    await set_vendor(redis, "test", clinic.id, START, vendor.id)
    return clinic


async def test_only_the_admin_gets_in(client: Client, redis: Redis) -> None:
    clinic = await make_clinic(redis)
    vendor = await create_vendor(redis, "Journal A/S", [clinic.id])
    csv_path = f"{PAGE}/invoices.csv?quarter=2025Q1&vendor={vendor.id}"
    for path in (PAGE, csv_path):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/login?next=/admin/subscriptions")
    gp = await make_gp(redis, clinic)
    _, org_admin, _ = await make_organisation(redis)
    for user in (gp, org_admin):
        async with browser(client) as session:
            await login(session, user.username)
            page = await session.get(PAGE, allow_redirects=False)
            assert page.status == 403
            assert "ikke adgang" in await page.text()
            assert (await session.get(csv_path)).status == 403
            assert await capacities_form(session, clinic, "2025-01-01", "2") == 403
            assert (await post(session, f"{PAGE}/prices", {"since": "2025-07-01"})).status == 403
    assert await capacity_history(redis, clinic.id) == {}
    assert await read_audit(redis) == []


async def test_the_admin_records_history_audited_and_sees_the_720_kr_line(
    client: Client, redis: Redis
) -> None:
    admin = await make_admin(redis)
    clinic = await make_clinic(redis, "Lægehuset Åbyhøj")
    vendor = await create_vendor(redis, "Journal A/S", [])
    async with browser(client) as session:
        await login(session, admin.username)
        assert 'href="/admin/subscriptions"' in await html(await session.get("/admin"))
        first = await html(await session.get(PAGE))
        assert "120,00 kr" in first and "Journal A/S" in first
        assert await capacities_form(session, clinic, "2023-01-01", "2") == 303
        path = f"{PAGE}/clinics/{clinic.id}/vendor"
        moved = await post(session, path, {"since": "2023-01-01", "vendor": vendor.id})
        assert moved.status == 303
        assert moved.headers["Location"].endswith(f"saved=1#clinic-{clinic.id}")
        price = {"since": COMING.isoformat(), "price": "125,50", "quarter": "2025Q3"}
        added = await post(session, f"{PAGE}/prices", price)
        assert added.headers["Location"] == f"{PAGE}?quarter=2025Q3&saved=1#prices"
        assert await price_list(redis) == {START: 12_000}  # proposed, not yet in force
        [proposal] = await price_proposals(redis)
        own = await post(session, f"{PAGE}/prices/{proposal.id}/approve", {"quarter": "2025Q1"})
        assert own.headers["Location"].endswith("refused=same_admin#prices")
        page = await html(await session.get(f"{PAGE}?quarter=2025Q1"))
    other = await make_admin(redis, "sekretariat")
    async with browser(client) as session:
        await login(session, other.username)
        approve = f"{PAGE}/prices/{proposal.id}/approve"
        assert (await post(session, approve, {"quarter": "2025Q1"})).status == 303
        again = await post(session, approve, {"quarter": "2025Q1"})
        assert again.headers["Location"].endswith("refused=decided#prices")
        approved_page = await html(await session.get(f"{PAGE}?quarter=2025Q1"))
    assert await capacity_history(redis, clinic.id) == {START: 2}
    assert await vendor_history(redis, clinic.id) == {START: vendor.id}
    assert await price_list(redis) == {START: 12_000, COMING: 12_550}
    assert 'data-testid="line-amount">720,00 kr<' in page
    assert 'data-testid="vendor-total">720,00 kr<' in page
    assert "1. kvartal 2025" in page and "venter på godkendelse" in page
    assert 'data-coming="1"' in approved_page and "125,50 kr" in approved_page
    entries = await read_audit(redis)
    assert [(e.action, e.actor) for e in entries] == [
        ("subscription.capacities_set", f"user:{admin.id}"),
        ("subscription.vendor_set", f"user:{admin.id}"),
        ("subscription.price_proposed", f"user:{admin.id}"),
        ("subscription.price_approved", f"user:{other.id}"),
        ("subscription.price_set", f"user:{other.id}"),
    ]
    assert entries[0].data == {
        "clinic_id": clinic.id, "since": "2023-01-01", "capacities": 2, "previous": None,
    }  # fmt: skip
    assert entries[4].data["price_ore"] == 12_550


async def test_a_vendor_switch_shows_once_per_quarter_and_each_csv_is_exact(
    client: Client, redis: Redis
) -> None:
    admin = await make_admin(redis)
    old, new = await create_vendor(redis, "Journal A/S", []), await create_vendor(redis, "Zeta", [])
    moving = await subscribed(redis, "Lægehuset Flyt", old)
    await set_vendor(redis, "test", moving.id, date(2025, 2, 10), new.id)
    staying = await subscribed(redis, "Lægehuset Bliv", new, capacities=3)
    await set_capacities(redis, "test", staying.id, date(2025, 2, 1), 4)  # from 2025Q2
    async with browser(client) as session:
        await login(session, admin.username)
    await set_price(redis, "test", date(2025, 3, 1), 12_345)  # approved back then
    async with browser(client) as session:
        await login(session, admin.username)
        q1 = {v.id: await _csv(session, "2025Q1", v) for v in (old, new)}
        q2 = {v.id: await _csv(session, "2025Q2", v) for v in (old, new)}
        page = await html(await session.get(f"{PAGE}?quarter=2025Q1"))
    assert [(r["clinic"], r["capacities"], ore(r["amount"])) for r in q1[old.id]] == [
        ("Lægehuset Flyt", "2", 2 * (12_000 + 12_000 + 12_345)),
    ]
    assert [(r["clinic"], r["capacities"], ore(r["amount"])) for r in q1[new.id]] == [
        ("Lægehuset Bliv", "3", 3 * (12_000 + 12_000 + 12_345)),
    ]
    assert q2[old.id] == []
    assert sorted((r["clinic"], ore(r["amount"])) for r in q2[new.id]) == [
        ("Lægehuset Bliv", 4 * 3 * 12_345), ("Lægehuset Flyt", 2 * 3 * 12_345),
    ]  # fmt: skip
    assert page.count('data-testid="invoice-line"') == 2
    assert "I alt for kvartalet, alle leverandører: 1.817,25 kr" in page


async def _csv(session: ClientSession, quarter: str, vendor: Vendor) -> list[dict[str, str]]:
    response = await session.get(
        f"{PAGE}/invoices.csv?quarter={quarter}&vendor={vendor.id}&format=csv-en"
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert {r["quarter"] for r in rows} <= {quarter}
    assert {r["vendor_id"] for r in rows} <= {vendor.id}
    return rows


async def test_bad_input_is_refused_with_422_and_nothing_changes(
    client: Client, redis: Redis
) -> None:
    admin = await make_admin(redis)
    clinic = await make_clinic(redis)
    await create_vendor(redis, "Journal A/S", [])
    async with browser(client) as session:
        await login(session, admin.username)
        for price in (
            {"since": "2025-07-01", "price": "12,345"},
            {"since": "2025-07-01", "price": "0"},
            {"since": "2025-07-15", "price": "125,00"},
            {"since": "1.7.2025", "price": "125,00"},
            {"since": "2025-07-01", "price": "125,00"},  # in the past: not in advance
        ):
            refused = await post(session, f"{PAGE}/prices", price)
            assert refused.status == 422, price
            body = await html(refused)
            assert 'data-testid="form-errors"' in body
            assert ("Skriv en pris" in body) == (price["price"] != "125,00")
            assert f'value="{price["price"]}"' in body  # what was typed is kept
        assert await capacities_form(session, clinic, "2025-02-30", "2") == 422
        assert await capacities_form(session, clinic, "2025-02-01", "2,5") == 422
        vendor_path = f"{PAGE}/clinics/{clinic.id}/vendor"
        bad_vendor = await post(session, vendor_path, {"since": "2025-02-01", "vendor": "nope"})
        assert bad_vendor.status == 422
        assert "Vælg en leverandør på listen." in await html(bad_vendor)
        unknown = await post(session, f"{PAGE}/clinics/nope/capacities", {"since": "2025-01-01"})
        assert unknown.status == 404
        english = {"since": "2025-07-15", "price": "125.00"}  # an English amount, in English
        in_english = await post(session, f"{PAGE}/prices?lang=en", english)
        assert in_english.status == 422
        body = await html(in_english)
        assert "A price must apply from the 1st of a month." in body
        assert 'data-testid="price-error"' not in body
    assert await price_list(redis) == {START: 12_000}
    assert await capacity_history(redis, clinic.id) == {}
    assert await vendor_history(redis, clinic.id) == {}
    assert await read_audit(redis) == []


async def test_bad_csv_parameters_get_a_400_with_a_stable_code(
    client: Client, redis: Redis
) -> None:
    admin = await make_admin(redis)
    vendor = await create_vendor(redis, "Journal A/S", [])
    async with browser(client) as session:
        await login(session, admin.username)
        for query, code in (
            (f"quarter=2025Q5&vendor={vendor.id}", "bad_quarter"),
            (f"vendor={vendor.id}", "bad_quarter"),
            ("quarter=2025Q1&vendor=nope", "bad_vendor"),
            ("quarter=2025Q1", "bad_vendor"),
        ):
            response = await session.get(f"{PAGE}/invoices.csv?{query}")
            assert response.status == 400
            assert (await response.json())["code"] == code
        page = await session.get(f"{PAGE}?quarter=2025-1")
        assert page.status == 400
        assert 'data-testid="quarter-error"' in await html(page)


async def test_clinics_without_a_vendor_are_listed_as_warnings(
    client: Client, redis: Redis
) -> None:
    admin = await make_admin(redis)
    clinic = await make_clinic(redis, "Lægehuset Uden LPS")
    await set_capacities(redis, "test", clinic.id, START, 2)
    async with browser(client) as session:
        await login(session, admin.username)
        page = await html(await session.get(f"{PAGE}?quarter=2025Q1"))
    assert 'data-testid="no-invoices"' in page
    assert "Lægehuset Uden LPS" in page and "har ingen LPS-leverandør ved kvartalets start" in page


async def test_demo_setup_subscribes_the_demo_clinic_once(redis: Redis, tmp_path: Path) -> None:
    settings = Settings(redis_url="redis://unused", data_dir=tmp_path, base_url="https://av.test")
    first = await ensure_demo(redis, settings)
    await ensure_demo(redis, settings)
    clinic_id = str(first["clinic_id"])
    assert await capacity_history(redis, clinic_id) == {START: 2}
    assert await vendor_history(redis, clinic_id) == {START: first["vendor_id"]}
    changes = [e for e in await read_audit(redis) if e.action.startswith("subscription.")]
    assert [(e.action, e.actor) for e in changes] == [
        ("subscription.capacities_set", "cli"), ("subscription.vendor_set", "cli"),
    ]  # fmt: skip


async def test_issued_quarters_stay_frozen_and_a_backdated_switch_is_credited_on_the_page(
    client: Client, redis: Redis
) -> None:
    admin = await make_admin(redis)
    old, new = await create_vendor(redis, "Journal A/S", []), await create_vendor(redis, "Zeta", [])
    clinic = await subscribed(redis, "Lægehuset Flyt", old)
    async with browser(client) as session:
        await login(session, admin.username)
        issued = await post(session, f"{PAGE}/issue", {"period": "2026Q1", "quarter": "2026Q1"})
        assert issued.headers["Location"] == f"{PAGE}?quarter=2026Q1&issued=1#invoices"
        path = f"{PAGE}/clinics/{clinic.id}/vendor"
        switch = {"since": "2025-12-01", "vendor": new.id, "quarter": "2026Q1"}  # backdated
        assert (await post(session, path, switch)).status == 303
        await post(session, f"{PAGE}/issue", {"period": "2026Q2", "quarter": "2026Q1"})
        again = await post(session, f"{PAGE}/issue", {"period": "2026Q2", "quarter": "2026Q1"})
        assert again.headers["Location"].endswith("issued=0#invoices")
        page = await html(await session.get(f"{PAGE}?quarter=2026Q1"))
        preview = await html(await session.get(f"{PAGE}?quarter=2026Q3"))
        credit_csv = await session.get(
            f"{PAGE}/issued/{date.today().year}-000002.csv?format=csv-en"
        )
        rows = list(csv.DictReader(io.StringIO(await credit_csv.text())))
        assert (await session.get(f"{PAGE}/issued/1999-000009.csv")).status == 404
    assert 'data-testid="quarter-issued"' in page and 'data-testid="preview-note"' not in page
    kinds = [part.split('"')[0] for part in page.split('data-testid="issued-line" data-kind="')[1:]]
    assert kinds == ["charge", "credit", "correction"]
    assert page.count('data-testid="issued-amount">720,00 kr<') == 2
    assert 'data-testid="issued-amount">-720,00 kr<' in page
    assert 'data-testid="issued-total">720,00 kr<' in page  # charged once, net
    assert "Kreditering" in page and "ekskl. moms" in page
    assert 'data-testid="preview-note"' in preview
    assert [(r["kind"], r["quarter"], r["amount_excl_vat"], r["vat"], r["amount_incl_vat"])
            for r in rows] == [("credit", "2026Q1", "-720.00", "-180.00", "-900.00")]  # fmt: skip
    assert rows[0]["vendor_id"] == old.id and rows[0]["credits"].endswith("-000001")


async def test_the_admin_loads_a_capacity_extract_and_sees_what_changed(
    client: Client, redis: Redis
) -> None:
    admin = await make_admin(redis)
    clinic = await make_clinic(redis, "Lægehuset Åbyhøj")
    extract = (
        f"Ydernummer;Antal;Gyldig fra\n{clinic.ydernummer};4;01-01-2026\n999999;1;01-01-2026\n"
    )
    async with browser(client) as session:
        for who in ("nobody", admin.username):
            if who != "nobody":
                await login(session, who)
            data = FormData()
            data.add_field("file", extract.encode(), filename="yder.csv", content_type="text/csv")
            response = await session.post(
                f"{PAGE}/capacities/import", data=data, allow_redirects=False
            )
            if who == "nobody":
                assert response.status == 303
                assert await capacity_history(redis, clinic.id) == {}
        page = await html(response)
    assert response.status == 200
    assert 'data-testid="count-changed">1<' in page
    assert 'data-testid="count-unknown_clinic">1<' in page
    assert await capacity_history(redis, clinic.id) == {date(2026, 1, 1): 4}
