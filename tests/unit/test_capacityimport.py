"""Capacities from a register extract: every row reported, only real changes recorded."""

from __future__ import annotations

from datetime import date

from server.pilots.capacityimport import (
    BAD_ROW,
    CHANGED,
    CONFLICT,
    UNCHANGED,
    UNKNOWN_CLINIC,
    plan_import,
)
from server.store.audit import read_audit
from server.store.connection import Redis
from server.store.subscriptions import capacity_history, import_capacities, set_capacities
from tests.unit.factories import make_clinic

CLINICS = {"012345": "c1", "054321": "c2"}
HISTORIES = {"c1": {date(2023, 1, 1): 2}}


def statuses(text: str) -> list[tuple[int, str, str, int | None]]:
    return [
        (r.line, r.ydernummer, r.status, r.previous) for r in plan_import(text, CLINICS, HISTORIES)
    ]


def test_a_danish_extract_with_a_header_reports_every_row() -> None:
    text = (
        "\ufeffYdernummer;Antal;Gyldig fra\n"
        "012345;3;01-01-2026\n"
        "012345;2;2025-06-01\n"  # already 2 then
        "054321;1;01.04.2026\n"
        "099999;2;2026-01-01\n"
        "01234;2;2026-01-01\n"
        "012345;-1;2026-01-01\n"
        "012345;2;2026-02-30\n"
    )
    assert statuses(text) == [
        (2, "012345", CHANGED, 2),
        (3, "012345", UNCHANGED, 2),
        (4, "054321", CHANGED, None),
        (5, "099999", UNKNOWN_CLINIC, None),
        (6, "01234", BAD_ROW, None),
        (7, "012345", BAD_ROW, None),
        (8, "012345", BAD_ROW, None),
    ]


def test_without_a_header_the_columns_are_taken_in_order_and_conflicts_load_nothing() -> None:
    text = "012345,3,2026-01-01\n012345,4,2026-01-01\n054321,1,2026-01-01\n054321,1,2026-01-01\n"
    assert [r.status for r in plan_import(text, CLINICS, HISTORIES)] == [
        CONFLICT, CONFLICT, CHANGED, UNCHANGED,
    ]  # fmt: skip


async def test_loading_records_only_the_changes_audited_and_a_preview_records_nothing(
    redis: Redis,
) -> None:
    clinic = await make_clinic(redis)
    await set_capacities(redis, "test", clinic.id, date(2023, 1, 1), 2)
    number = clinic.ydernummer
    text = f"ydernummer,count,valid_from\n{number},3,2026-01-01\n{number},2,2024-01-01\n"
    preview = await import_capacities(redis, "admin", text, apply=False)
    assert [r.status for r in preview] == [CHANGED, UNCHANGED]
    assert await capacity_history(redis, clinic.id) == {date(2023, 1, 1): 2}
    report = await import_capacities(redis, "admin", text)
    assert [r.status for r in report] == [CHANGED, UNCHANGED]
    assert await capacity_history(redis, clinic.id) == {date(2023, 1, 1): 2, date(2026, 1, 1): 3}
    assert [e.action for e in await read_audit(redis)][-1] == "subscription.capacities_set"
    again = await import_capacities(redis, "admin", text)
    assert [r.status for r in again] == [UNCHANGED, UNCHANGED]
