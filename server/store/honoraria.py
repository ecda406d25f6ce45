"""Pilot programmes, enrolments and the honoraria ledger in Redis.

Programmes (with every rule-set version) are JSON in one hash; each programme's enrolments
in a hash by GP. The ledger is one stream for the installation (`av:honoraria:ledger`),
never trimmed, edited or deleted from: accruals, reversals and payout batches, amounts in
integer øre (the rules are in `server.pilots.ledger`).

Every write to the ledger is checked and appended in one optimistic transaction (WATCH on
the ledger and on the set of used earning keys), so two instances handling the same event
at once write one accrual, two admins cannot reverse an entry twice or pay it twice, and
the cap is measured against a ledger nobody changed in between. Every change is audited
and announced on the event stream (ids and amounts only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, replace

from redis.exceptions import WatchError

from server.auth.tokens import new_id
from server.clock import local_day, now
from server.pilots import ledger, programmes
from server.pilots.budgets import corrections_for, line_for_year
from server.pilots.ledger import ACCRUAL, PAYOUT, Entry, Payout
from server.pilots.programmes import Earning, Enrolment, PilotProgramme, Problems, RuleSet
from server.store import decoded, keys
from server.store.audit import audit
from server.store.budgets import (
    Spending,
    SpendingRefused,
    announce_spendings,
    get_line,
    list_lines,
    spendings_in,
    stage_spendings,
)
from server.store.connection import Redis
from server.store.durability import confirm_replicated
from server.store.events import EventType, append_event


class Refused(ValueError):
    """Nothing was changed; `problems` says which form fields were wrong (locale keys)."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(", ".join(f"{field}: {key}" for field, key in problems.items()))
        self.problems = problems


def _programme(raw: str) -> PilotProgramme:
    data = json.loads(raw)
    data["rules"] = tuple(RuleSet(**r) for r in data["rules"])
    return PilotProgramme(**data)


async def create_programme(
    redis: Redis,
    name: str,
    starts: str,
    ends: str,
    budget_line: str,
    amounts: Mapping[str, int],
    actor: str,
) -> PilotProgramme:
    """A programme whose first rule set is in force from its first day. The caller has
    checked the fields (`programmes.programme_problems`)."""
    programme = PilotProgramme(new_id(), name, starts, ends, budget_line, ()).with_rules(
        starts, amounts
    )
    await redis.hset(keys.HONORARIA_PROGRAMMES, programme.id, json.dumps(asdict(programme)))
    await audit(
        redis, "honorarium.programme_created", actor, programme_id=programme.id,
        budget_line=budget_line, starts=starts, ends=ends, rules=asdict(programme.rules[0]),
    )  # fmt: skip
    return programme


async def get_programme(redis: Redis, programme_id: str) -> PilotProgramme | None:
    raw = decoded.text(await redis.hget(keys.HONORARIA_PROGRAMMES, programme_id))
    return _programme(raw) if raw else None


async def list_programmes(redis: Redis) -> list[PilotProgramme]:
    """Newest period first."""
    found = [
        _programme(raw) for raw in decoded.strings(await redis.hvals(keys.HONORARIA_PROGRAMMES))
    ]
    return sorted(found, key=lambda p: (p.starts, p.name), reverse=True)


async def add_rules(
    redis: Redis, programme_id: str, effective_from: str, amounts: Mapping[str, int], actor: str
) -> PilotProgramme:
    """Append a rule-set version in force from `effective_from` (checked by the caller)."""
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(keys.HONORARIA_PROGRAMMES)
                raw = decoded.text(await pipe.hget(keys.HONORARIA_PROGRAMMES, programme_id))
                if raw is None:
                    raise Refused({"programme": "prog.error_programme"})
                programme = _programme(raw).with_rules(effective_from, amounts)
                pipe.multi()
                pipe.hset(keys.HONORARIA_PROGRAMMES, programme_id, json.dumps(asdict(programme)))
                await pipe.execute()
                break
            except WatchError:
                continue
    await audit(
        redis, "honorarium.rules_changed", actor, programme_id=programme_id,
        rules=asdict(programme.rules[-1]),
    )  # fmt: skip
    return programme


async def save_enrolment(redis: Redis, enrolment: Enrolment, actor: str) -> None:
    """Enrol the GP, or change the dates of their enrolment."""
    await redis.hset(
        keys.honoraria_enrolments(enrolment.programme_id),
        enrolment.gp_id,
        json.dumps({"starts": enrolment.starts, "ends": enrolment.ends}),
    )
    await audit(redis, "honorarium.gp_enrolled", actor, **asdict(enrolment))


async def enrolments(redis: Redis, programme_id: str) -> list[Enrolment]:
    rows = decoded.fields(await redis.hgetall(keys.honoraria_enrolments(programme_id)))
    return [Enrolment(programme_id, gp_id, **json.loads(raw)) for gp_id, raw in rows.items()]


async def get_enrolment(redis: Redis, programme_id: str, gp_id: str) -> Enrolment | None:
    raw = await redis.hget(keys.honoraria_enrolments(programme_id), gp_id)
    return Enrolment(programme_id, gp_id, **json.loads(raw)) if raw else None


async def gp_enrolments(redis: Redis, gp_id: str) -> list[tuple[PilotProgramme, Enrolment]]:
    """Every programme the GP is enrolled in, with the enrolment."""
    found = []
    for programme in await list_programmes(redis):
        enrolment = await get_enrolment(redis, programme.id, gp_id)
        if enrolment is not None:
            found.append((programme, enrolment))
    return found


def _parse(entry_id: str, f: dict[str, str]) -> Entry | Payout:
    if f["kind"] == PAYOUT:
        return Payout(
            entry_id, f["programme_id"], tuple(json.loads(f["pays"])), f["on"], f["actor"],
            float(f["at"]),
        )  # fmt: skip
    return Entry(
        entry_id, f["kind"], f["programme_id"], f["gp_id"], int(f["amount_ore"]), f["on"],
        f["actor"], float(f["at"]), f["rule"], int(f["rules_version"]), f["earning"],
        f["source"], int(f["full_ore"]), f["reverses"], f["reason"],
    )  # fmt: skip


def _split(rows: list[tuple[str, dict[str, str]]]) -> tuple[list[Entry], list[Payout]]:
    parsed = [_parse(entry_id, fields) for entry_id, fields in rows]
    return (
        [r for r in parsed if isinstance(r, Entry)],
        [r for r in parsed if isinstance(r, Payout)],
    )


async def read_ledger(redis: Redis) -> tuple[list[Entry], list[Payout]]:
    """Every entry and payout batch, oldest first."""
    return _split(decoded.entries(await redis.xrange(keys.HONORARIA_LEDGER)))


def _fields(entry: Entry) -> dict[str, str]:
    data = asdict(entry)
    del data["id"]
    return {name: str(value) for name, value in data.items()}


def _earning_member(programme_id: str, gp_id: str, key: str) -> str:
    return f"{programme_id}|{gp_id}|{key}"


async def accrue(
    redis: Redis, enrolment: Enrolment, earning: Earning, source: str, actor: str
) -> Entry | None:
    """Write the earning's accrual, reduced to what fits under the cap. None when its key
    has earned already, or the cap left nothing (the key is used all the same)."""
    member = _earning_member(enrolment.programme_id, enrolment.gp_id, earning.key)
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(keys.HONORARIA_LEDGER, keys.HONORARIA_EARNINGS)
                if await pipe.sismember(keys.HONORARIA_EARNINGS, member):
                    # Earned already, maybe by a try that failed before its confirmation.
                    await confirm_replicated(redis)
                    return None
                entries, _ = _split(decoded.entries(await pipe.xrange(keys.HONORARIA_LEDGER)))
                so_far = ledger.net(ledger.of(entries, enrolment.programme_id, enrolment.gp_id))
                amount = programmes.capped(earning.amount_ore, so_far, earning.rules.cap_ore)
                everyone = ledger.net(
                    e for e in entries if e.programme_id == enrolment.programme_id
                )
                amount = programmes.capped(amount, everyone, earning.rules.programme_cap_ore)
                entry = Entry(
                    "", ACCRUAL, enrolment.programme_id, enrolment.gp_id, amount, earning.day,
                    actor, now(), rule=earning.kind, rules_version=earning.rules.version,
                    earning=earning.key, source=source, full_ore=earning.amount_ore,
                )  # fmt: skip
                pipe.multi()
                pipe.sadd(keys.HONORARIA_EARNINGS, member)
                if amount:
                    pipe.xadd(keys.HONORARIA_LEDGER, decoded.writable(_fields(entry)))
                written = await pipe.execute()
                break
            except WatchError:
                continue
    await confirm_replicated(redis)
    if not amount:
        await audit(redis, "honorarium.capped_to_zero", actor, **_ids(entry), source=source)
        return None
    accrued = replace(entry, id=str(written[1]))
    await _announce(redis, EventType.HONORARIUM_ACCRUED, actor, accrued, source=source)
    return accrued


def _ids(entry: Entry) -> dict[str, object]:
    return {
        "programme_id": entry.programme_id,
        "gp_id": entry.gp_id,
        "earning": entry.earning,
        "amount_ore": entry.amount_ore,
    }


async def _announce(
    redis: Redis, action: EventType, actor: str, entry: Entry, **more: object
) -> None:
    ids = {**_ids(entry), "entry_id": entry.id, **more}
    await audit(redis, action, actor, **ids)
    await append_event(redis, action, **ids)


async def reverse(redis: Redis, entry_id: str, reason: str, actor: str) -> Entry:
    """Append the reversal of an accrual, with the reason for it."""
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(keys.HONORARIA_LEDGER)
                entries, _ = _split(decoded.entries(await pipe.xrange(keys.HONORARIA_LEDGER)))
                problems = ledger.reversal_problems(entries, entry_id, reason)
                if problems:
                    raise Refused(problems)
                [accrual] = [e for e in entries if e.id == entry_id]
                at = now()
                entry = replace(
                    ledger.reversal_of(accrual), on=local_day(at), actor=actor, at=at,
                    reason=reason,
                )  # fmt: skip
                pipe.multi()
                pipe.xadd(keys.HONORARIA_LEDGER, decoded.writable(_fields(entry)))
                [written] = await pipe.execute()
                break
            except WatchError:
                continue
    await confirm_replicated(redis)
    entry = replace(entry, id=str(written))
    await _announce(redis, EventType.HONORARIUM_REVERSED, actor, entry, reverses=entry_id)
    return entry


async def pay(
    redis: Redis,
    programme_id: str,
    actor: str,
    up_to: str | None = None,
    selected: tuple[str, ...] = (),
) -> Payout:
    """Append a payout batch of the programme's outstanding entries: the `selected` ones,
    or all on or before `up_to` (see `ledger.payable`). Its sum is spent on the programme's
    budget line for the payout's year (`line_for_year`); a programme with a budget line but
    none for this year is refused before anything is paid."""
    programme = await get_programme(redis, programme_id)
    line = None
    if programme is not None and programme.budget_line:
        year = int(local_day(now())[:4])
        line = line_for_year(await list_lines(redis), programme.budget_line, year)
        if line is None and await get_line(redis, programme.budget_line) is not None:
            raise Refused({"entries": "prog.error_budget_year"})
    prefix = f"Honorarudbetaling, {programme.name}" if programme else ""
    watched = [keys.HONORARIA_LEDGER] + ([keys.budget_spendings(line.id)] if line else [])
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(*watched)
                entries, payouts = _split(decoded.entries(await pipe.xrange(keys.HONORARIA_LEDGER)))
                problems = ledger.payout_problems(entries, payouts, programme_id, selected)
                paying = ledger.payable(entries, payouts, programme_id, up_to, selected)
                if not problems and not paying:
                    problems = {"entries": "prog.error_nothing_to_pay"}
                if problems:
                    raise Refused(problems)
                payout = Payout(
                    "", programme_id, tuple(e.id for e in paying), local_day(now()), actor, now()
                )
                total = ledger.net(paying)
                books = await spendings_in(pipe, line.id) if line else []
                pipe.multi()
                pipe.xadd(
                    keys.HONORARIA_LEDGER,
                    {
                        "kind": PAYOUT, "programme_id": programme_id,
                        "pays": json.dumps(payout.pays), "on": payout.on, "actor": actor,
                        "at": str(payout.at),
                    },
                )  # fmt: skip
                # Money paid out is money spent, in the same transaction: the programme's
                # line for the year shows it. A negative batch (reversals of entries paid
                # before) corrects what this programme's earlier payouts spent there.
                spent_now: list[Spending] = []
                if line is not None and total != 0:
                    text = f"{prefix} ({len(payout.pays)} poster)"
                    if total > 0:
                        pieces: list[tuple[int, str | None]] = [(total, None)]
                    else:
                        text = f"Tilbageført: {text}"
                        plan = corrections_for(books, -total, prefix)
                        pieces = [(amount, original) for original, amount in plan]
                    try:
                        spent_now = stage_spendings(
                            pipe, line, books, pieces, payout.on, text, actor
                        )
                    except SpendingRefused:  # e.g. the year turned since the line was chosen
                        raise Refused({"entries": "prog.error_budget_year"}) from None
                written, *_ = await pipe.execute()
                break
            except WatchError:
                continue
    await confirm_replicated(redis)
    payout = replace(payout, id=str(written))
    ids = {"programme_id": programme_id, "payout_id": payout.id, "amount_ore": total}
    await audit(redis, "honorarium.paid", actor, **ids, entries=list(payout.pays))
    await append_event(redis, EventType.HONORARIUM_PAID, **ids)
    await announce_spendings(redis, spent_now)
    return payout
