"""Issued PLSP invoices in Redis, append-only.

`keys.INVOICE_ISSUES` is a list that is only ever pushed to: issue number n is its n-th
entry. Issuing reads every issue and the histories under WATCH and pushes the next one
only if no other issue got in first, so two operators issuing at once cannot charge a
quarter twice. The rules are in `server.pilots.issuing`.
"""

from __future__ import annotations

from redis.exceptions import WatchError

from server.clock import iso_utc, local, now
from server.pilots.issuing import (
    Draft,
    Issue,
    Period,
    draft_issue,
    issue_from_json,
    issue_to_json,
    number_invoices,
)
from server.store import decoded, keys
from server.store.audit import audit
from server.store.clinics import list_clinics
from server.store.connection import Redis
from server.store.events import EventType, append_event
from server.store.subscriptions import price_list, subscribers, vendor_names

MAX_ATTEMPTS = 20


async def list_issues(redis: Redis) -> list[Issue]:
    """Every issue, oldest (number 1) first."""
    raw = await redis.lrange(keys.INVOICE_ISSUES, 0, -1)
    return [issue_from_json(decoded.text(entry)) for entry in raw]


async def preview(redis: Redis, period: Period) -> Draft:
    """What issuing `period` now would issue (nothing is written)."""
    issues = await list_issues(redis)
    subs = await subscribers(redis, await list_clinics(redis))
    names = await vendor_names(redis, subs)
    return draft_issue(period, issues, subs, await price_list(redis), names)


async def issue(redis: Redis, actor: str, period: Period) -> Issue | None:
    """Issue `period`: its quarters not issued yet, and corrections to those issued before.
    None when there is nothing to issue (every quarter issued, nothing to correct)."""
    for _ in range(MAX_ATTEMPTS):
        async with redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(keys.INVOICE_ISSUES, keys.INVOICE_NUMBERS)
                draft = await preview(redis, period)
                if draft.empty:
                    await pipe.unwatch()
                    return None
                count = await redis.llen(keys.INVOICE_ISSUES)
                last = int(await redis.get(keys.INVOICE_NUMBERS) or 0)
                at = now()
                invoices, used = number_invoices(draft, last + 1, local(at).year)
                made = Issue(
                    count + 1,
                    period.label,
                    tuple(str(q) for q in draft.quarters),
                    iso_utc(at),
                    actor,
                    invoices,
                    draft.warnings,
                )
                pipe.multi()
                pipe.rpush(keys.INVOICE_ISSUES, issue_to_json(made))
                pipe.set(keys.INVOICE_NUMBERS, last + used)
                await pipe.execute()
            except WatchError:
                continue
        data = {
            "number": made.number,
            "period": made.period,
            "quarters": list(made.quarters),
            "invoices": [inv.number for inv in made.invoices],
            "total_ore": made.total_ore,
        }
        await audit(redis, "invoices.issued", actor, **data)
        await append_event(redis, EventType.INVOICES_ISSUED, **data)
        return made
    raise RuntimeError("issuing kept colliding with other issues; try again")
