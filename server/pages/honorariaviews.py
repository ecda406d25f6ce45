"""What the admin's programme page and a GP's statement show alike: ledger entries and a
quarter's statement, and the statement as CSV.

Both pages build the CSV and the table from the same `statements.lines`, so the download
is exactly what the page shows for that quarter. Days and amounts stay plain values here;
the templates write them in the page's language (`day` and `kroner` filters).

People never see ledger ids: a payout batch is "Udbetaling 2" (its number in the
programme) and a reversal names the day and kind of the entry it reverses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aiohttp import web

from server.jsonerror import json_error
from server.pages.csvexport import csv_export
from server.pilots import statements
from server.pilots.ledger import REVERSAL, Entry, Payout
from server.store.connection import Redis
from server.store.users import get_user


async def gp_names(redis: Redis, gp_ids: Iterable[str]) -> dict[str, str]:
    """GP id -> display name; a GP whose account is gone keeps their id."""
    names = {}
    for gp_id in gp_ids:
        user = await get_user(redis, gp_id)
        names[gp_id] = user.display_name if user else gp_id
    return names


def payout_numbers(payouts: Iterable[Payout]) -> dict[str, int]:
    """Each payout batch's number in its programme, 1 for the first: what people call it."""
    counts: Counter[str] = Counter()
    numbers = {}
    for p in sorted(payouts, key=lambda p: (p.at, p.id)):
        counts[p.programme_id] += 1
        numbers[p.id] = counts[p.programme_id]
    return numbers


class Ledger:
    """The ledger as the entry tables refer to it: which batch paid an entry, and what a
    reversal reverses."""

    def __init__(self, entries: Iterable[Entry], payouts: Sequence[Payout]) -> None:
        self.by_id = {e.id: e for e in entries}
        self.paid = {entry_id: p for p in payouts for entry_id in p.pays}
        self.numbers = payout_numbers(payouts)

    def payout(self, entry_id: str) -> dict[str, Any] | None:
        p = self.paid.get(entry_id)
        return {"number": self.numbers[p.id], "on": p.on} if p else None

    def reverses(self, e: Entry) -> dict[str, Any] | None:
        reversed_entry = self.by_id.get(e.reverses) if e.reverses else None
        if reversed_entry is None:
            return None
        return {"on": reversed_entry.on, "rule": reversed_entry.rule}


def entry_view(
    e: Entry,
    names: Mapping[str, str],
    ledger: Ledger,
    reversible: bool = False,
    programme: str = "",
) -> dict[str, Any]:
    return {
        "id": e.id,
        "on": e.on,
        "gp": names.get(e.gp_id, e.gp_id),
        "programme": programme,
        "kind": e.kind,
        "rule": e.rule,
        "version": e.rules_version,
        "amount_ore": e.amount_ore,
        "reduced_from_ore": e.full_ore if 0 < e.amount_ore < e.full_ore else None,
        "reason": e.reason,
        "reverses": ledger.reverses(e),
        "payout": ledger.payout(e.id),
        "reversible": reversible and e.kind != REVERSAL,
    }


def statement_view(
    entries: Sequence[Entry],
    payouts: Sequence[Payout],
    quarter: str,
    programme_names: Mapping[str, str],
    names: Mapping[str, str],
) -> dict[str, Any] | None:
    """The quarter's lines and total; None without a quarter."""
    if not quarter:
        return None
    lines = statements.lines(entries, payouts, quarter, programme_names, names)
    ledger = Ledger(entries, payouts)
    return {
        "quarter": quarter,
        "lines": [
            entry_view(line.entry, names, ledger, programme=line.programme) for line in lines
        ],
        "total_ore": statements.total(lines),
    }


def csv_response(
    request: web.Request,
    entries: Sequence[Entry],
    payouts: Sequence[Payout],
    programme_names: Mapping[str, str],
    names: Mapping[str, str],
    filename: str,
) -> web.Response:
    """`?quarter=YYYYQn` as CSV; 400 `bad_quarter` for anything else."""
    quarter = request.query.get("quarter", "")
    try:
        lines = statements.lines(entries, payouts, quarter, programme_names, names)
    except statements.BadQuarter:
        return json_error(400, "bad_quarter", "quarter must be written as YYYYQn, e.g. 2025Q1")
    return csv_export(
        request, statements.to_csv(lines), f"{filename}-{quarter}.csv", statements.DECIMAL_COLUMNS
    )
