"""The PLSP subscription's dated histories in Redis: each clinic's GP capacities and LPS
vendor, and the price list.

Each history is a hash of effective-from ISO date -> value. Recording a value for a date
that already has one corrects it instead of adding a second, so a mistake is put right by
entering the date again. Every change is audited with the value it replaced, and announced
on the event stream (ids and numbers only). The invoice rules are in
`server.pilots.invoices`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import TypeVar

from server.auth.tokens import new_id
from server.clock import now
from server.pilots.capacityimport import CHANGED, ReportRow, plan_import
from server.pilots.invoices import BASE_PRICE, MAX_CAPACITIES, MAX_PRICE_ORE, Subscriber
from server.store import decoded, keys
from server.store.audit import audit
from server.store.clinics import Clinic, list_clinics
from server.store.connection import Redis
from server.store.durability import confirm_replicated
from server.store.events import EventType, append_event
from server.store.vendors import (
    clinic_vendor_history,
    get_vendor,
    list_vendors,
    record_clinic_vendor,
    today,
)

T = TypeVar("T")


async def price_list(redis: Redis) -> dict[date, int]:
    """Effective-from date -> øre per capacity per month, oldest first. PLSP's price from
    January 2023 is always in the list (a price stored for that date replaces it), so no
    instance has to seed it before the first invoice and no page writes when it reads."""
    stored = _history(decoded.fields(await redis.hgetall(keys.SUBSCRIPTION_PRICES)), int)
    return dict(sorted((dict([BASE_PRICE]) | stored).items()))


async def capacity_history(redis: Redis, clinic_id: str) -> dict[date, int]:
    return _history(decoded.fields(await redis.hgetall(keys.clinic_capacities(clinic_id))), int)


async def vendor_history(redis: Redis, clinic_id: str) -> dict[date, str]:
    return await clinic_vendor_history(redis, clinic_id)


async def subscribers(redis: Redis, clinics: Sequence[Clinic]) -> list[Subscriber]:
    """Each clinic with both its histories, in one round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for clinic in clinics:
            pipe.hgetall(keys.clinic_capacities(clinic.id))
            pipe.hgetall(keys.clinic_lps_vendor(clinic.id))
        rows = await pipe.execute()
    return [
        Subscriber(c.id, c.name, c.ydernummer, _history(cap, int), _history(ven, str))
        for c, cap, ven in zip(clinics, rows[::2], rows[1::2], strict=True)
    ]


async def vendor_names(redis: Redis, subs: Sequence[Subscriber]) -> dict[str, str]:
    """Every listed vendor, and any a history names that the list does not (older ones)."""
    names = {v.id: v.name for v in await list_vendors(redis)}
    for vendor_id in {v for s in subs for v in s.vendors.values()} - names.keys():
        vendor = await get_vendor(redis, vendor_id)
        names[vendor_id] = vendor.name if vendor else vendor_id
    return names


async def set_price(redis: Redis, actor: str, since: date, price_ore: int) -> None:
    """The price per capacity per month from `since` on (a regulation, or a correction).
    ValueError for a price of 0 or less, above MAX_PRICE_ORE, or not from a month's 1st."""
    if not 0 < price_ore <= MAX_PRICE_ORE:
        raise ValueError(f"a price must be more than 0 and at most {MAX_PRICE_ORE} øre")
    if since.day != 1:
        raise ValueError("a price takes effect on the first of a month")
    previous = await _set(redis, keys.SUBSCRIPTION_PRICES, since, str(price_ore))
    data = {"since": since.isoformat(), "price_ore": price_ore, "previous_ore": _int(previous)}
    await audit(redis, "subscription.price_set", actor, **data)
    await append_event(redis, EventType.SUBSCRIPTION_PRICE_SET, **data)


async def set_capacities(
    redis: Redis, actor: str, clinic_id: str, since: date, capacities: int
) -> None:
    """The clinic's number of GP capacities from `since` on (0: no longer subscribed).
    ValueError for a negative number or more than MAX_CAPACITIES."""
    if not 0 <= capacities <= MAX_CAPACITIES:
        raise ValueError(f"capacities must be 0 to {MAX_CAPACITIES}")
    previous = await _set(redis, keys.clinic_capacities(clinic_id), since, str(capacities))
    data = {
        "clinic_id": clinic_id,
        "since": since.isoformat(),
        "capacities": capacities,
        "previous": _int(previous),
    }
    await audit(redis, "subscription.capacities_set", actor, **data)
    await append_event(redis, EventType.SUBSCRIPTION_CAPACITIES_SET, **data)


async def set_vendor(redis: Redis, actor: str, clinic_id: str, since: date, vendor_id: str) -> None:
    """The vendor whose LPS the clinic uses from `since` on; ValueError for an unknown one."""
    if not await redis.sismember(keys.VENDORS, vendor_id):
        raise ValueError(f"no vendor {vendor_id!r}")
    previous = await record_clinic_vendor(redis, clinic_id, since, vendor_id)
    data = {
        "clinic_id": clinic_id,
        "since": since.isoformat(),
        "vendor_id": vendor_id,
        "previous": previous,
    }
    await audit(redis, "subscription.vendor_set", actor, **data)
    await append_event(redis, EventType.SUBSCRIPTION_VENDOR_SET, **data)


async def _set(redis: Redis, key: str, since: date, value: str) -> str | None:
    """Write one dated value; returns what that date held before (None if nothing)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hget(key, since.isoformat())
        pipe.hset(key, since.isoformat(), value)
        previous, _ = await pipe.execute()
    await confirm_replicated(redis)
    return decoded.text(previous)


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def _history(row: dict[str, str], kind: Callable[[str], T]) -> dict[date, T]:
    return {date.fromisoformat(day): kind(row[day]) for day in sorted(row)}


PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"


class ProposalRefused(ValueError):
    """A price proposal that cannot be made or decided; `code` names why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class PriceProposal:
    """A price regulation: it is in the price list, and so on invoices, only once another
    admin approves it, and only from a month that has not begun (announced in advance)."""

    id: str
    since: str  # ISO date, the 1st of a month
    price_ore: int
    proposed_by: str
    proposed_at: float
    status: str = PROPOSED
    decided_by: str = ""
    decided_at: float | None = None

    @property
    def day(self) -> date:
        return date.fromisoformat(self.since)


def _check_price(since: date, price_ore: int) -> None:
    if not 0 < price_ore <= MAX_PRICE_ORE:
        raise ProposalRefused("price")
    if since.day != 1:
        raise ProposalRefused("first_of_month")
    if since <= today():
        raise ProposalRefused("in_advance")


async def propose_price(redis: Redis, actor: str, since: date, price_ore: int) -> PriceProposal:
    """A coming price, waiting for approval. ProposalRefused('price' | 'first_of_month' |
    'in_advance') for a price that is impossible or would not be announced in advance."""
    _check_price(since, price_ore)
    proposal = PriceProposal(new_id(), since.isoformat(), price_ore, actor, now())
    await redis.hset(keys.PRICE_PROPOSALS, proposal.id, json.dumps(asdict(proposal)))
    await audit(redis, "subscription.price_proposed", actor, **asdict(proposal))
    return proposal


async def price_proposals(redis: Redis) -> list[PriceProposal]:
    """Every proposal, newest first."""
    rows = decoded.fields(await redis.hgetall(keys.PRICE_PROPOSALS))
    found = [PriceProposal(**json.loads(raw)) for raw in rows.values()]
    return sorted(found, key=lambda p: p.proposed_at, reverse=True)


async def decide_price(redis: Redis, actor: str, proposal_id: str, approve: bool) -> PriceProposal:
    """Approve (the price enters the list) or reject a proposal, once, by an admin other
    than the one who proposed it. ProposalRefused('unknown' | 'decided' | 'same_admin' |
    'in_advance')."""
    raw = decoded.text(await redis.hget(keys.PRICE_PROPOSALS, proposal_id))
    if raw is None:
        raise ProposalRefused("unknown")
    proposal = PriceProposal(**json.loads(raw))
    if proposal.status != PROPOSED:
        raise ProposalRefused("decided")
    if proposal.proposed_by == actor:
        raise ProposalRefused("same_admin")
    if approve:
        _check_price(proposal.day, proposal.price_ore)
    decided = replace(
        proposal, status=APPROVED if approve else REJECTED, decided_by=actor, decided_at=now()
    )
    await redis.hset(keys.PRICE_PROPOSALS, proposal.id, json.dumps(asdict(decided)))
    await audit(redis, f"subscription.price_{decided.status}", actor, proposal_id=proposal.id)
    if approve:
        await set_price(redis, actor, proposal.day, proposal.price_ore)
    return decided


async def import_capacities(
    redis: Redis, actor: str, text: str, apply: bool = True
) -> list[ReportRow]:
    """Load a register extract (`server.pilots.capacityimport`): each `changed` row is
    recorded as `set_capacities` would, audited; returns the report of every row."""
    clinics = await list_clinics(redis)
    histories = {s.clinic_id: s.capacities for s in await subscribers(redis, clinics)}
    report = plan_import(text, {c.ydernummer: c.id for c in clinics}, histories)
    if apply:
        for row in report:
            if row.status == CHANGED and row.since is not None and row.count is not None:
                await set_capacities(redis, actor, row.clinic_id, row.since, row.count)
    return report
