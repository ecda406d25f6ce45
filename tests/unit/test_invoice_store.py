"""Issued invoices in a real Redis: frozen, append-only, issued once even when two
operators issue at the same time, and `almenvideo invoices issue` from the command line."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from server.cli import main
from server.pilots.issuing import LineKind, Period
from server.settings import Settings
from server.store import keys
from server.store.connection import Redis
from server.store.invoices import issue, list_issues
from server.store.subscriptions import capacity_history, set_capacities, set_vendor
from server.store.vendors import create_vendor
from tests.unit.factories import make_clinic

START = date(2023, 1, 1)


async def run(settings: Settings, *args: str) -> int:
    return await asyncio.to_thread(main, [*args, "--redis-url", str(settings.redis_url)])


async def test_the_backdated_switch_replayed_charges_the_quarter_once(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    old = await create_vendor(redis, "Journal A/S", [])
    new = await create_vendor(redis, "Praksis Data", [])
    await set_capacities(redis, "test", clinic.id, START, 2)
    await set_vendor(redis, "test", clinic.id, START, old.id)
    first = await issue(redis, "admin", Period.parse("2026Q1"))
    assert first is not None
    frozen = await redis.lindex(keys.INVOICE_ISSUES, 0)

    await set_vendor(redis, "admin", clinic.id, date(2025, 12, 1), new.id)  # backdated
    second = await issue(redis, "admin", Period.parse("2026Q2"))
    assert second is not None
    assert await redis.lindex(keys.INVOICE_ISSUES, 0) == frozen  # never edited
    q1 = [
        (inv.vendor_id, line.kind, line.amount_ore)
        for i in await list_issues(redis)
        for inv in i.invoices
        for line in inv.lines
        if line.quarter == "2026Q1"
    ]
    assert sorted(q1) == sorted(
        [
            (old.id, LineKind.CHARGE, 72_000),
            (old.id, LineKind.CREDIT, -72_000),
            (new.id, LineKind.CORRECTION, 72_000),
        ]
    )
    assert sum(amount for _, _, amount in q1) == 72_000
    assert await issue(redis, "admin", Period.parse("2026Q2")) is None


async def test_two_operators_issuing_at_once_issue_the_quarter_once(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    vendor = await create_vendor(redis, "Journal A/S", [])
    await set_capacities(redis, "test", clinic.id, START, 2)
    await set_vendor(redis, "test", clinic.id, START, vendor.id)
    made = await asyncio.gather(*(issue(redis, "a", Period.parse("2026Q1")) for _ in range(4)))
    assert len([m for m in made if m is not None]) == 1
    [only] = await list_issues(redis)
    assert only.quarters == ("2026Q1",)
    assert [inv.number[5:] for inv in only.invoices] == ["000001"]


async def test_the_command_issues_a_quarter_and_a_year_once(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = await make_clinic(redis)
    vendor = await create_vendor(redis, "Journal A/S", [])
    await set_capacities(redis, "test", clinic.id, START, 2)
    await set_vendor(redis, "test", clinic.id, START, vendor.id)
    assert await run(settings, "invoices", "issue", "--quarter", "2026Q1") == 0
    assert "720.00 kr excl. VAT" in capsys.readouterr().out
    assert await run(settings, "invoices", "issue", "--year", "2026") == 0
    assert "new quarters 2026Q2, 2026Q3, 2026Q4" in capsys.readouterr().out
    assert await run(settings, "invoices", "issue", "--quarter", "2026Q3") == 0
    assert "already issued" in capsys.readouterr().out
    assert await run(settings, "invoices", "issue", "--quarter", "2026Q5") == 1
    assert [i.period for i in await list_issues(redis)] == ["2026Q1", "2026"]


async def test_the_command_loads_a_capacity_extract(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    clinic = await make_clinic(redis)
    extract = tmp_path / "yder.csv"
    extract.write_text(f"ydernummer;antal;gyldig fra\n{clinic.ydernummer};3;01-07-2026\n")
    assert await run(settings, "capacities", "import", str(extract), "--preview") == 0
    assert "1 change(s) would be recorded" in capsys.readouterr().out
    assert await capacity_history(redis, clinic.id) == {}
    assert await run(settings, "capacities", "import", str(extract)) == 0
    assert "- -> 3" in capsys.readouterr().out
    assert await capacity_history(redis, clinic.id) == {date(2026, 7, 1): 3}
