"""What the admin's programme page and a GP's statement show alike: ledger entries, a GP's
figures and a quarter's statement, in the page's language, and the statement as CSV.

Both pages build the CSV and the table from the same `statements.lines`, so the download
is exactly what the page shows for that quarter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from aiohttp import web

from server.jsonerror import json_error
from server.pilots import statements
from server.pilots.ledger import REVERSAL, Balance, Entry, Payout
from server.pilots.money import format_kroner
from server.store.connection import Redis
from server.store.users import get_user

NO_STORE = {"Cache-Control": "no-store"}


def amount_input(ore: int, lang: str) -> str:
    """An amount as typed into a form (no currency sign), so it parses back as it is."""
    return format_kroner(ore, lang).removesuffix(" kr").replace("DKK ", "")


def day_text(day: str, lang: str) -> str:
    d = date.fromisoformat(day)
    return d.strftime("%d.%m.%Y") if lang == "da" else f"{d.day} {d.strftime('%b %Y')}"


async def gp_names(redis: Redis, gp_ids: Iterable[str]) -> dict[str, str]:
    """GP id -> display name; a GP whose account is gone keeps their id."""
    names = {}
    for gp_id in gp_ids:
        user = await get_user(redis, gp_id)
        names[gp_id] = user.display_name if user else gp_id
    return names


def balance_view(b: Balance, lang: str) -> dict[str, Any]:
    return {
        "accrued": format_kroner(b.accrued_ore, lang),
        "reversed": format_kroner(b.reversed_ore, lang),
        "net": format_kroner(b.net_ore, lang),
        "paid": format_kroner(b.paid_ore, lang),
        "outstanding": format_kroner(b.outstanding_ore, lang),
        "cap": format_kroner(b.cap_ore, lang) if b.cap_ore else "",
        "remaining": "" if b.remaining_ore is None else format_kroner(b.remaining_ore, lang),
        "cap_reached": b.cap_reached,
    }


def entry_view(
    e: Entry,
    lang: str,
    names: Mapping[str, str],
    paid: Mapping[str, str],
    reversible: bool = False,
    programme: str = "",
) -> dict[str, Any]:
    return {
        "id": e.id,
        "on": day_text(e.on, lang),
        "gp": names.get(e.gp_id, e.gp_id),
        "programme": programme,
        "kind": e.kind,
        "rule": e.rule,
        "version": e.rules_version,
        "earning": e.earning,
        "source": e.source,
        "amount": format_kroner(e.amount_ore, lang),
        "reduced": format_kroner(e.full_ore, lang) if 0 < e.amount_ore < e.full_ore else "",
        "reason": e.reason,
        "reverses": e.reverses,
        "payout": paid.get(e.id, ""),
        "reversible": reversible and e.kind != REVERSAL,
    }


def statement_view(
    entries: Sequence[Entry],
    payouts: Sequence[Payout],
    quarter: str,
    programme_names: Mapping[str, str],
    names: Mapping[str, str],
    lang: str,
) -> dict[str, Any] | None:
    """The quarter's lines and total; None without a quarter."""
    if not quarter:
        return None
    lines = statements.lines(entries, payouts, quarter, programme_names, names)
    paid = {line.entry.id: line.payout for line in lines}
    return {
        "quarter": quarter,
        "lines": [
            entry_view(line.entry, lang, names, paid, programme=line.programme) for line in lines
        ],
        "total": format_kroner(statements.total(lines), lang),
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
    return web.Response(
        text=statements.to_csv(lines),
        content_type="text/csv",
        charset="utf-8",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="{filename}-{quarter}.csv"',
        },
    )
