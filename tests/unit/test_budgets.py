"""Budget lines and spending in a real Redis: the seed, the append-only ledger, exact sums."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.pilots.budgets import Figures, Spending, SpendingRefused, line_for_year
from server.pilots.roadmap import CROSS_SECTOR, LINES, VIDEO, YEARS
from server.store import keys
from server.store.audit import read_audit
from server.store.budgets import (
    get_line,
    list_lines,
    list_spendings,
    record_spending,
    seed_lines,
    spent,
)
from server.store.connection import Redis
from server.store.events import read_events

ADMIN = "user:admin-1"
KR = 100


async def test_seeding_is_idempotent_and_matches_the_road_map(redis: Redis) -> None:
    assert await seed_lines(redis) == len(LINES) == 16
    assert await seed_lines(redis) == 0
    lines = await list_lines(redis)
    assert lines == sorted(LINES, key=lambda x: (x.year, x.position))
    for programme, kroner in ((VIDEO, 2_000_000), (CROSS_SECTOR, 2_500_000)):
        in_2025 = [x for x in lines if x.programme_id == programme.id and x.year == 2025]
        assert sum(x.budget_ore for x in in_2025) == kroner * KR
    # The road map's three-year table: 6 M (cross-sector), 5 M (video), 11 M in all.
    for programme, kroner in ((CROSS_SECTOR, 6_000_000), (VIDEO, 5_000_000)):
        assert sum(x.budget_ore for x in lines if x.programme_id == programme.id) == kroner * KR
    per_year = {y: sum(x.budget_ore for x in lines if x.year == y) for y in YEARS}
    assert per_year == {2024: 1_500_000 * KR, 2025: 4_500_000 * KR, 2026: 5_000_000 * KR}
    assert sum(per_year.values()) == 11_000_000 * KR
    honoraria = await get_line(redis, "pilot_honoraria")
    assert honoraria is not None
    assert (honoraria.budget_ore, honoraria.programme_id) == (50_000 * KR, VIDEO.id)
    assert honoraria.name("da").startswith("Pilotafprøvning")
    assert honoraria.name("en").startswith("Pilot testing")
    assert await get_line(redis, "nope") is None


async def test_seeding_leaves_an_existing_line_as_it_is(redis: Redis) -> None:
    await seed_lines(redis)
    raw = json.loads(await redis.hget(keys.BUDGET_LINES, "communication"))
    await redis.hset(keys.BUDGET_LINES, "communication", json.dumps(raw | {"budget_ore": 1}))
    await redis.hdel(keys.BUDGET_LINES, "legal_gdpr")
    assert await seed_lines(redis) == 1
    assert (await get_line(redis, "communication")).budget_ore == 1  # type: ignore[union-attr]
    assert (await get_line(redis, "legal_gdpr")).budget_ore == 100_000 * KR  # type: ignore[union-attr]


async def test_a_spending_is_appended_audited_and_announced(redis: Redis) -> None:
    await seed_lines(redis)
    s = await record_spending(
        redis, "ai_notetaker", 12_345_67, "2025-03-31", "Engine licence", ADMIN
    )
    assert (s.line_id, s.amount_ore, s.on, s.text, s.actor, s.corrects) == (
        "ai_notetaker", 12_345_67, "2025-03-31", "Engine licence", ADMIN, None,
    )  # fmt: skip
    assert await list_spendings(redis, "ai_notetaker") == [s]
    assert await spent(redis, "ai_notetaker") == 12_345_67
    assert await spent(redis, "lps_integration") == 0
    [entry] = await read_audit(redis)
    assert (entry.action, entry.actor) == ("budget.spending_recorded", ADMIN)
    assert entry.data == {
        "line_id": "ai_notetaker", "spending_id": s.id, "amount_ore": 12_345_67,
        "on": "2025-03-31", "corrects": None,
    }  # fmt: skip
    [(_, kind, data)] = await read_events(redis)
    assert kind == "budget.spending_recorded"
    assert "Engine licence" not in json.dumps(data)  # events carry ids and amounts only


async def test_a_correction_names_its_original_and_never_takes_off_more(redis: Redis) -> None:
    await seed_lines(redis)
    original = await record_spending(
        redis, "legal_gdpr", 10_000 * KR, "2025-02-01", "Advokat", ADMIN
    )
    fix = await record_spending(
        redis, "legal_gdpr", -4_000 * KR, "2025-02-03", "Faktura krediteret delvist", ADMIN,
        corrects=original.id,
    )  # fmt: skip
    assert fix.corrects == original.id
    with pytest.raises(SpendingRefused) as refused:
        await record_spending(
            redis, "legal_gdpr", -6_000 * KR - 1, "2025-02-04", "for meget", ADMIN,
            corrects=original.id,
        )  # fmt: skip
    assert refused.value.problems == {"amount": "correction_too_large"}
    await record_spending(
        redis, "legal_gdpr", -6_000 * KR, "2025-02-04", "Resten krediteret", ADMIN,
        corrects=original.id,
    )  # fmt: skip
    assert await spent(redis, "legal_gdpr") == 0
    assert len(await list_spendings(redis, "legal_gdpr")) == 3  # nothing edited or deleted


@pytest.mark.parametrize(
    ("line_id", "amount", "on", "text", "corrects", "problems"),
    [
        ("nope", 100, "2025-01-01", "x", None, {"line": "line"}),
        ("communication", 0, "2025-01-01", "x", None, {"amount": "amount_zero"}),
        ("communication", -100, "2025-01-01", "x", None, {"amount": "negative_needs_correction"}),
        ("communication", 10**13 + 1, "2025-01-01", "x", None, {"amount": "amount"}),
        ("communication", 100, "2025-02-30", "x", None, {"on": "date"}),
        ("communication", 100, "2026-01-01", "x", None, {"on": "outside_year"}),
        ("cross_sector_2026", 100, "2025-12-31", "x", None, {"on": "outside_year"}),
        ("communication", 100, "20250101", "x", None, {"on": "date"}),
        ("communication", 100, "1925-01-01", "x", None, {"on": "date"}),
        ("communication", 100, "2025-01-01", "  ", None, {"text": "text"}),
        ("communication", 100, "2025-01-01", "a\nb", None, {"text": "text"}),
        ("communication", 100, "2025-01-01", "x" * 201, None, {"text": "text"}),
        ("communication", -100, "2025-01-01", "x", "0-1", {"corrects": "corrects"}),
        ("communication", 100, "", "", None, {"on": "date", "text": "text"}),
    ],
)
async def test_bad_spendings_are_refused_and_change_nothing(
    redis: Redis,
    line_id: str,
    amount: int,
    on: str,
    text: str,
    corrects: str | None,
    problems: dict[str, str],
) -> None:
    await seed_lines(redis)
    with pytest.raises(SpendingRefused) as refused:
        await record_spending(redis, line_id, amount, on, text, ADMIN, corrects=corrects)
    assert refused.value.problems == problems
    assert await list_spendings(redis, line_id) == []
    assert await read_audit(redis) == []


async def test_a_correction_is_negative_and_corrects_an_original_on_the_same_line(
    redis: Redis,
) -> None:
    await seed_lines(redis)
    original = await record_spending(redis, "communication", 500 * KR, "2025-01-01", "Tryk", ADMIN)
    elsewhere = await record_spending(redis, "legal_gdpr", 500 * KR, "2025-01-01", "Råd", ADMIN)
    fix = await record_spending(
        redis, "communication", -100 * KR, "2025-01-02", "Rabat", ADMIN, corrects=original.id
    )
    cases = [
        (100 * KR, original.id, {"amount": "correction_positive"}),
        (-1, fix.id, {"corrects": "corrects"}),  # not a correction of a correction
        (-1, elsewhere.id, {"corrects": "corrects"}),  # another line's spending
    ]
    for amount, corrects, problems in cases:
        with pytest.raises(SpendingRefused) as refused:
            await record_spending(
                redis, "communication", amount, "2025-01-03", "x", ADMIN, corrects=corrects
            )
        assert refused.value.problems == problems
    assert await spent(redis, "communication") == 400 * KR


async def test_two_corrections_at_once_cannot_take_off_more_than_the_original(
    redis: Redis,
) -> None:
    await seed_lines(redis)
    original = await record_spending(redis, "waiting_room_v2", 1000, "2025-05-01", "Design", ADMIN)

    def correction() -> Awaitable[Spending]:
        return record_spending(
            redis, "waiting_room_v2", -600, "2025-05-02", "Kreditnota", ADMIN, corrects=original.id
        )

    results = await asyncio.gather(*(correction() for _ in range(4)), return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, SpendingRefused) for r in results if isinstance(r, Exception))
    assert await spent(redis, "waiting_room_v2") == 400


def test_per_mille_used_rounds_half_up_in_integers() -> None:
    assert Figures(800_000 * KR, 200_000 * KR).per_mille_used == 250
    assert Figures(3, 1).per_mille_used == 333
    assert Figures(3, 2).per_mille_used == 667
    assert Figures(2000, 1).per_mille_used == 1  # 0.5 per mille rounds up
    assert Figures(100, 250).per_mille_used == 2500
    assert Figures(0, 5).per_mille_used is None


AMOUNTS = st.lists(st.integers(min_value=1, max_value=10**11), max_size=8)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amounts=AMOUNTS, corrections=st.lists(st.integers(min_value=1, max_value=10**11), max_size=8)
)
async def test_spent_is_the_exact_sum_and_remaining_is_budget_minus_spent(
    redis: Redis, amounts: list[int], corrections: list[int]
) -> None:
    await redis.delete(keys.budget_spendings("external_advice"))
    await seed_lines(redis)
    originals = [
        await record_spending(redis, "external_advice", a, "2025-06-01", "Konsulent", ADMIN)
        for a in amounts
    ]
    expected = sum(amounts)
    for original, take in zip(originals, corrections, strict=False):
        take = min(take, original.amount_ore)
        await record_spending(
            redis, "external_advice", -take, "2025-06-02", "Kreditnota", ADMIN,
            corrects=original.id,
        )  # fmt: skip
        expected -= take
    total = await spent(redis, "external_advice")
    assert total == expected and isinstance(total, int)
    line = await get_line(redis, "external_advice")
    assert line is not None
    figures = Figures(line.budget_ore, total)
    assert figures.remaining_ore == line.budget_ore - expected
    assert figures.overspent == (expected > line.budget_ore)


def test_a_programmes_spending_moves_to_its_line_for_the_year_of_the_payment() -> None:
    same = line_for_year(LINES, "pilot_honoraria", 2025)
    assert same is not None and same.id == "pilot_honoraria"
    later = line_for_year(LINES, "pilot_honoraria", 2026)
    assert later is not None and (later.id, later.year) == ("video_general_practice_2026", 2026)
    assert line_for_year(LINES, "pilot_honoraria", 2027) is None  # no budget then: refused
    assert line_for_year(LINES, "nope", 2025) is None
