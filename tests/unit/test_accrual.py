"""Accruals from events against a real Redis: once per earning, capped, priced by the day's
rules, whatever order or how often the events come."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from server.clock import COPENHAGEN
from server.honoraria.accrual import GROUP, accrual_consumer, accrue_event, reviewing_gp
from server.honoraria.enrolment import enrol_gp, record_questionnaire
from server.pilots import ledger
from server.pilots.budgets import line_for_year
from server.pilots.programmes import PilotProgramme
from server.pilots.statements import lines
from server.store import keys
from server.store.audit import read_audit
from server.store.budgets import list_lines, seed_lines, spent
from server.store.connection import Redis
from server.store.events import EventType, StreamEvent, append_event
from server.store.honoraria import (
    Refused,
    add_rules,
    create_programme,
    get_programme,
    pay,
    read_ledger,
    reverse,
)
from server.store.notes import Section, approve, delete_note, save_draft
from server.store.users import UserRole, create_user
from tests.unit.factories import make_clinic, make_scheduled

AMOUNTS = {
    "onboarding": 200_000,
    "per_consultation": 30_000,
    "per_questionnaire": 50_000,
    "cap": 1_000_000,
}
ADMIN = "user:admin"
SECTIONS = [Section("reason", "Årsag", "Hoste")]


def at_ms(day: str) -> int:
    return int(datetime.fromisoformat(f"{day}T12:00").replace(tzinfo=COPENHAGEN).timestamp() * 1000)


async def programme(
    redis: Redis, starts: str = "2025-01-01", ends: str = "2025-12-31", **amounts: int
) -> PilotProgramme:
    return await create_programme(
        redis, "AI-notatassistent 2025", starts, ends, "pilot_honoraria",
        {**AMOUNTS, **amounts}, ADMIN,
    )  # fmt: skip


async def reviewed_consultations(redis: Redis, gp_id: str, n: int) -> list[str]:
    """`n` consultations whose AI draft the GP approved."""
    clinic = await make_clinic(redis)
    ids = []
    for _ in range(n):
        c = await make_scheduled(redis, clinic)
        await save_draft(redis, c, SECTIONS, engine="pocketsphinx")
        await approve(redis, c, gp_id)
        ids.append(c.id)
    return ids


def approved(consultation_id: str, day: str, event_id: str) -> StreamEvent:
    data = {"consultation_id": consultation_id}
    return StreamEvent(event_id, EventType.NOTE_APPROVED, at_ms(day), data)


async def accruals(redis: Redis) -> list[ledger.Entry]:
    entries, _ = await read_ledger(redis)
    return [e for e in entries if e.kind == ledger.ACCRUAL]


async def test_duplicated_and_reordered_events_make_the_same_ledger(redis: Redis) -> None:
    p = await programme(redis, cap=0)
    await enrol_gp(redis, p, "gp-1", "2025-01-01", "2025-12-31", ADMIN)
    ids = await reviewed_consultations(redis, "gp-1", 6)
    events = [approved(cid, f"2025-0{n + 1}-10", f"{n + 1}-0") for n, cid in enumerate(ids)]
    done = {"programme_id": p.id, "gp_id": "gp-1", "on": "2025-05-30"}
    events.append(
        StreamEvent("9-0", EventType.HONORARIUM_QUESTIONNAIRE_COMPLETED, at_ms("2025-06-01"), done)
    )
    for event in events:
        await accrue_event(redis, event)
    in_order = sorted((e.earning, e.amount_ore, e.on) for e in await accruals(redis))

    await redis.delete(keys.HONORARIA_LEDGER, keys.HONORARIA_EARNINGS)
    await enrol_gp(redis, p, "gp-1", "2025-01-01", "2025-12-31", ADMIN)
    shuffled = events * 3
    random.Random(7).shuffle(shuffled)
    for event in shuffled:
        await accrue_event(redis, event)
    again = await accruals(redis)
    assert sorted((e.earning, e.amount_ore, e.on) for e in again) == in_order
    assert {e.source for e in again if e.rule != "onboarding"} == {e.id for e in events}
    assert len(in_order) == 8  # onboarding, six consultations, one questionnaire
    assert sum(a for _, a, _ in in_order) == 200_000 + 6 * 30_000 + 50_000


async def test_the_consumer_group_accrues_each_event_once_and_acknowledges(redis: Redis) -> None:
    p = await programme(redis, "2020-01-01", "2099-12-31")
    gp = await create_user(redis, "lise", "pw-123456789012", "Dr. Lise", UserRole.GP)
    await enrol_gp(redis, p, gp.id, "2020-01-01", "2099-12-31", ADMIN)
    [cid] = await reviewed_consultations(redis, gp.id, 1)
    await append_event(redis, EventType.NOTE_APPROVED, consultation_id=cid)  # a repeat
    first, second = accrual_consumer(redis, "one"), accrual_consumer(redis, "two")
    await first.ensure_group()
    await second.ensure_group()
    assert await first.step() > 0
    while await second.step() + await first.step():  # accruals announce themselves too
        pass
    pending = await redis.xpending(keys.EVENTS, GROUP)
    assert pending["pending"] == 0
    earned = sorted(e.earning for e in await accruals(redis))
    assert earned == [f"consultation:{cid}", "onboarding"]


async def test_only_an_approved_ai_draft_qualifies_even_after_the_lps_filed_it(
    redis: Redis,
) -> None:
    clinic = await make_clinic(redis)
    own = await make_scheduled(redis, clinic)
    await approve(redis, own, "gp-1", text="Skrevet af lægen")
    assert await reviewing_gp(redis, own.id) is None
    draft_only = await make_scheduled(redis, clinic)
    await save_draft(redis, draft_only, SECTIONS, engine="x")
    assert await reviewing_gp(redis, draft_only.id) is None
    [cid] = await reviewed_consultations(redis, "gp-1", 1)
    assert await reviewing_gp(redis, cid) == "gp-1"
    c = await make_scheduled(redis, clinic)
    await save_draft(redis, c, SECTIONS, engine="x")
    await approve(redis, c, "gp-2")
    await redis.hset(keys.pilot_notetaker(c.id), mapping={
        "consultation_id": c.id, "gp_id": "gp-2", "draft_at": 1, "approved_at": 2,
    })  # fmt: skip
    await delete_note(redis, c)
    assert await reviewing_gp(redis, c.id) == "gp-2"


async def test_the_cap_is_reached_mid_quarter(redis: Redis) -> None:
    p = await programme(redis, onboarding=200_000, per_consultation=30_000, cap=300_000)
    await enrol_gp(redis, p, "gp-1", "2025-01-01", "2025-12-31", ADMIN)
    ids = await reviewed_consultations(redis, "gp-1", 6)
    for n, cid in enumerate(ids):
        await accrue_event(redis, approved(cid, f"2025-02-{10 + n}", f"{n + 1}-0"))
    amounts = [e.amount_ore for e in await accruals(redis)]
    assert amounts == [200_000, 30_000, 30_000, 30_000, 10_000]  # the fourth is reduced
    entries, payouts = await read_ledger(redis)
    report = ledger.balance(ledger.of(entries, p.id, "gp-1"), payouts, 300_000)
    assert report.cap_reached and report.remaining_ore == 0 and report.net_ore == 300_000
    crossing = (await accruals(redis))[-1]
    assert (crossing.full_ore, crossing.amount_ore) == (30_000, 10_000)
    statement = lines(entries, payouts, "2025Q1", {p.id: p.name}, {"gp-1": "Dr."})
    assert sum(line.entry.amount_ore for line in statement) == 300_000

    # A reversal frees room for later earnings, not for the ones the cap reduced to zero.
    await reverse(redis, entries[1].id, "Konsultationen var ikke en video", ADMIN)
    await accrue_event(redis, approved(ids[5], "2025-03-01", "20-0"))  # a duplicate
    assert [e.amount_ore for e in await accruals(redis)][-1] == 10_000
    [more] = await reviewed_consultations(redis, "gp-1", 1)
    await accrue_event(redis, approved(more, "2025-03-02", "21-0"))
    entries, payouts = await read_ledger(redis)
    assert ledger.net(ledger.of(entries, p.id, "gp-1")) == 300_000
    assert (await accruals(redis))[-1].amount_ore == 30_000


async def test_a_rule_change_mid_period_prices_each_earning_by_its_day(redis: Redis) -> None:
    p = await programme(redis, cap=0)
    await enrol_gp(redis, p, "gp-1", "2025-01-01", "2025-12-31", ADMIN)
    await add_rules(redis, p.id, "2025-04-01", {**AMOUNTS, "per_consultation": 45_000}, ADMIN)
    before, after = await reviewed_consultations(redis, "gp-1", 2)
    await accrue_event(redis, approved(after, "2025-04-01", "2-0"))
    await accrue_event(redis, approved(before, "2025-03-31", "1-0"))
    by_earning = {e.earning: e for e in await accruals(redis)}
    old, new = by_earning[f"consultation:{before}"], by_earning[f"consultation:{after}"]
    assert (old.amount_ore, old.rules_version) == (30_000, 1)
    assert (new.amount_ore, new.rules_version) == (45_000, 2)
    stored = await get_programme(redis, p.id)
    assert stored is not None and [r.version for r in stored.rules] == [1, 2]


async def test_outside_the_enrolment_nothing_is_earned(redis: Redis) -> None:
    p = await programme(redis)
    await enrol_gp(redis, p, "gp-1", "2025-03-01", "2025-03-31", ADMIN)
    [cid] = await reviewed_consultations(redis, "gp-1", 1)
    assert await accrue_event(redis, approved(cid, "2025-04-01", "1-0")) == []
    assert await record_questionnaire(redis, p, "gp-1", "2025-02-28", ADMIN) == []
    assert [e.earning for e in await accruals(redis)] == ["onboarding"]
    assert (await accruals(redis))[0].on == "2025-03-01"


async def test_reversals_and_payouts_are_appended_checked_and_audited(redis: Redis) -> None:
    p = await programme(redis)
    await enrol_gp(redis, p, "gp-1", "2025-01-01", "2025-12-31", ADMIN)
    [earned] = await record_questionnaire(redis, p, "gp-1", "2025-02-01", ADMIN)
    assert await record_questionnaire(redis, p, "gp-1", "2025-02-01", ADMIN) == []  # sent twice
    batch = await pay(redis, p.id, ADMIN, up_to="2025-01-31")
    assert len(batch.pays) == 1  # the onboarding only
    with pytest.raises(Refused) as refused:
        await pay(redis, p.id, ADMIN, selected=batch.pays)
    assert refused.value.problems == {"entries": "prog.error_not_payable"}
    undo = await reverse(redis, earned.id, "Forkert dato", ADMIN)
    assert undo.amount_ore == -50_000 and undo.reverses == earned.id
    with pytest.raises(Refused):
        await reverse(redis, earned.id, "Igen", ADMIN)
    second = await pay(redis, p.id, ADMIN)
    assert set(second.pays) == {earned.id, undo.id}
    with pytest.raises(Refused) as nothing:
        await pay(redis, p.id, ADMIN)
    assert nothing.value.problems == {"entries": "prog.error_nothing_to_pay"}
    entries, payouts = await read_ledger(redis)
    report = ledger.balance(ledger.of(entries, p.id, "gp-1"), payouts, 1_000_000)
    assert (report.net_ore, report.paid_ore, report.outstanding_ore) == (200_000, 200_000, 0)
    actions = [a.action for a in await read_audit(redis)]
    for action in ("honorarium.programme_created", "honorarium.gp_enrolled",
                   "honorarium.questionnaire_recorded", "honorarium.accrued",
                   "honorarium.reversed", "honorarium.paid"):  # fmt: skip
        assert action in actions


async def test_a_payout_is_spent_on_the_programmes_budget_line(redis: Redis) -> None:
    await seed_lines(redis)
    p = await programme(redis)
    await enrol_gp(redis, p, "gp-1", "2025-01-01", "2025-12-31", ADMIN)
    await record_questionnaire(redis, p, "gp-1", "2025-02-01", ADMIN)
    entries, _ = await read_ledger(redis)
    batch = await pay(redis, p.id, ADMIN)
    paid = sum(e.amount_ore for e in entries if e.id in batch.pays)
    assert paid > 0
    booked = line_for_year(await list_lines(redis), "pilot_honoraria", int(batch.on[:4]))
    assert booked is not None  # 2025's line in 2025, the programme's 2026 line in 2026
    assert await spent(redis, booked.id) == paid


async def test_a_negative_batch_after_a_reversal_reduces_what_the_line_spent(
    redis: Redis,
) -> None:
    await seed_lines(redis)
    p = await programme(redis)
    await enrol_gp(redis, p, "gp-1", "2025-01-01", "2025-12-31", ADMIN)
    await record_questionnaire(redis, p, "gp-1", "2025-02-01", ADMIN)
    entries, _ = await read_ledger(redis)
    first = await pay(redis, p.id, ADMIN)
    paid = sum(e.amount_ore for e in entries if e.id in first.pays)
    booked = line_for_year(await list_lines(redis), "pilot_honoraria", int(first.on[:4]))
    assert booked is not None and await spent(redis, booked.id) == paid
    accrual = next(e for e in entries if e.id in first.pays and e.amount_ore > 0)
    await reverse(redis, accrual.id, "Ikke en videokonsultation", ADMIN)
    second = await pay(redis, p.id, ADMIN)  # only the reversal: a negative batch
    assert len(second.pays) == 1
    assert await spent(redis, booked.id) == paid - accrual.amount_ore


async def test_a_programme_cap_holds_for_all_its_gps_together(redis: Redis) -> None:
    p = await programme(redis, programme_cap=500_000)  # 5.000 kr for all GPs together
    assert p.rules[0].programme_cap_ore == 500_000
    accrued = [
        await enrol_gp(redis, p, f"gp-{n}", "2025-01-01", "2025-12-31", ADMIN) for n in range(4)
    ]
    # 2.000 kr onboarding each, until the programme's cap: the third gets what is left.
    assert [[e.amount_ore for e in found] for found in accrued] == [
        [200_000], [200_000], [100_000], [],
    ]  # fmt: skip
    entries, _ = await read_ledger(redis)
    assert sum(e.amount_ore for e in entries if e.programme_id == p.id) == 500_000
    await reverse(redis, accrued[0][0].id, "Tilmeldt ved en fejl", ADMIN)  # frees room
    await record_questionnaire(redis, p, "gp-3", "2025-02-01", ADMIN)
    entries, _ = await read_ledger(redis)
    assert sum(e.amount_ore for e in entries if e.programme_id == p.id) == 350_000
