"""Budget lines and their spending ledgers in Redis.

The lines live in one hash (id -> JSON). They are seeded from the 2025 road map when the
app starts (`seed_lines`, idempotent: a line that exists is left as it is). Each line's
spendings are a Redis Stream that is only ever appended to; a line's spent amount is the
exact sum of its entries, corrections included. Every recorded spending is audited and
announced on the event stream (ids and amounts only, no text).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict
from typing import Any

from redis.exceptions import RedisError, WatchError

from server.auth.tokens import new_id
from server.clock import now
from server.pilots.budgets import (
    BudgetLine,
    Spending,
    SpendingRefused,
    spending_problems,
    spent_on,
)
from server.pilots.roadmap import LINES
from server.resilience import stop_if_cancelled
from server.store import decoded, keys
from server.store.audit import audit
from server.store.connection import Redis
from server.store.durability import confirm_replicated
from server.store.events import EventType, append_event

log = logging.getLogger(__name__)

SEED_SECONDS = 2  # how long a starting instance waits for Redis before serving without it
SEED_RETRY_SECONDS = 1.0

__all__ = [
    "BudgetLine",
    "Spending",
    "SpendingRefused",
    "announce_spendings",
    "get_line",
    "ledgers",
    "list_lines",
    "list_spendings",
    "record_spending",
    "seed_lines",
    "seed_lines_when_reachable",
    "spendings_in",
    "spent",
    "stage_spendings",
    "try_seed_lines",
]


async def seed_lines(redis: Redis) -> int:
    """Create the road map's lines that do not exist yet; returns how many were created."""
    async with redis.pipeline(transaction=False) as pipe:
        for line in LINES:
            pipe.hsetnx(keys.BUDGET_LINES, line.id, json.dumps(asdict(line)))
        return sum(await pipe.execute())


async def try_seed_lines(redis: Redis) -> bool:
    """`seed_lines`, or False (and a warning) if Redis does not answer in time."""
    try:
        async with asyncio.timeout(SEED_SECONDS):
            await seed_lines(redis)
    except (RedisError, OSError, TimeoutError) as error:
        log.warning("budget lines not seeded yet (%s); will retry", error)
        return False
    return True


async def seed_lines_when_reachable(redis: Redis) -> None:
    """An instance may start before its Redis: seed the lines as soon as it answers."""
    while not await try_seed_lines(redis):
        stop_if_cancelled()
        await asyncio.sleep(SEED_RETRY_SECONDS)


async def list_lines(redis: Redis) -> list[BudgetLine]:
    """Every line, by year, then in the road map's order."""
    rows = await redis.hvals(keys.BUDGET_LINES)
    found = (BudgetLine(**json.loads(raw)) for raw in rows)
    return sorted(found, key=lambda x: (x.year, x.position))


async def get_line(redis: Redis, line_id: str) -> BudgetLine | None:
    raw = await redis.hget(keys.BUDGET_LINES, line_id)
    return BudgetLine(**json.loads(raw)) if raw else None


def _spending(line_id: str, f: dict[str, str]) -> Spending:
    return Spending(
        f["id"], line_id, f["on"], int(f["amount_ore"]), f["text"], f["actor"],
        float(f["at"]), f["corrects"] or None,
    )  # fmt: skip


async def list_spendings(redis: Redis, line_id: str) -> list[Spending]:
    """The line's ledger, oldest first."""
    rows = decoded.entries(await redis.xrange(keys.budget_spendings(line_id)))
    return [_spending(line_id, f) for _, f in rows]


async def ledgers(redis: Redis, line_ids: list[str]) -> dict[str, list[Spending]]:
    """Several lines' ledgers in one round trip (for the dashboard)."""
    async with redis.pipeline(transaction=False) as pipe:
        for line_id in line_ids:
            pipe.xrange(keys.budget_spendings(line_id))
        rows = await pipe.execute()
    return {
        line_id: [_spending(line_id, f) for _, f in entries]
        for line_id, entries in zip(line_ids, rows, strict=True)
    }


async def spent(redis: Redis, line_id: str) -> int:
    """What was recorded as spent on the line, in øre (corrections included)."""
    return spent_on(await list_spendings(redis, line_id))


async def record_spending(
    redis: Redis,
    line_id: str,
    amount_ore: int,
    on: str,
    text: str,
    actor: str,
    corrects: str | None = None,
) -> Spending:
    """Append a spending (or, with `corrects`, a correction of one) to the line's ledger.

    Raises `SpendingRefused` and records nothing if the line is unknown or a rule of
    `server.pilots.budgets` is broken. The ledger is watched while it is checked, so two
    corrections at once cannot together take off more than the original was."""
    line = await get_line(redis, line_id)
    if line is None:
        raise SpendingRefused({"line": "line"})
    key = keys.budget_spendings(line_id)
    spending_id = new_id()
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                ledger = [_spending(line_id, f) for _, f in decoded.entries(await pipe.xrange(key))]
                problems = spending_problems(amount_ore, on, text, corrects, ledger, line.year)
                if problems:
                    raise SpendingRefused(problems)
                at = f"{now():.3f}"  # as stored, so the Spending returned equals the one read
                pipe.multi()
                pipe.xadd(
                    key,
                    {
                        "id": spending_id,
                        "on": on,
                        "amount_ore": str(amount_ore),
                        "text": text,
                        "actor": actor,
                        "at": at,
                        "corrects": corrects or "",
                    },
                )
                await pipe.execute()
                break
            except WatchError:
                continue
    await confirm_replicated(redis)
    spending = Spending(spending_id, line_id, on, amount_ore, text, actor, float(at), corrects)
    ids = {"line_id": line_id, "spending_id": spending.id, "amount_ore": amount_ore}
    await audit(redis, "budget.spending_recorded", actor, **ids, on=on, corrects=corrects)
    await append_event(redis, EventType.BUDGET_SPENDING_RECORDED, **ids, corrects=corrects)
    return spending


async def spendings_in(pipe: Any, line_id: str) -> list[Spending]:
    """The line's ledger read through a pipeline that WATCHes `keys.budget_spendings`, for
    a caller that writes spending in its own transaction (`stage_spendings`)."""
    return [
        _spending(line_id, f)
        for _, f in decoded.entries(await pipe.xrange(keys.budget_spendings(line_id)))
    ]


def stage_spendings(
    pipe: Any, line: BudgetLine, ledger: list[Spending], pieces: list[tuple[int, str | None]],
    on: str, text: str, actor: str,
) -> list[Spending]:  # fmt: skip
    """Queue spendings (amount, corrects) on `line` in the caller's MULTI, after checking
    each by the ledger rules; raises `SpendingRefused` and queues nothing if one breaks
    them. The caller executes, then calls `announce_spendings`."""
    at = f"{now():.3f}"
    made: list[Spending] = []
    seen = list(ledger)
    for amount_ore, corrects in pieces:
        problems = spending_problems(amount_ore, on, text, corrects, seen, line.year)
        if problems:
            raise SpendingRefused(problems)
        spending = Spending(new_id(), line.id, on, amount_ore, text, actor, float(at), corrects)
        seen.append(spending)
        made.append(spending)
    for spending in made:
        pipe.xadd(
            keys.budget_spendings(line.id),
            {
                "id": spending.id, "on": on, "amount_ore": str(spending.amount_ore),
                "text": text, "actor": actor, "at": at, "corrects": spending.corrects or "",
            },
        )  # fmt: skip
    return made


async def announce_spendings(redis: Redis, spendings: list[Spending]) -> None:
    """Audit and announce spendings that a caller's transaction wrote."""
    for s in spendings:
        ids = {"line_id": s.line_id, "spending_id": s.id, "amount_ore": s.amount_ore}
        await audit(redis, "budget.spending_recorded", s.actor, **ids, on=s.on, corrects=s.corrects)
        await append_event(redis, EventType.BUDGET_SPENDING_RECORDED, **ids, corrects=s.corrects)
