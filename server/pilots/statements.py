"""Quarterly honorarium statements: which entries belong to a quarter, and the CSV of them.

An entry belongs to the quarter of its `on` day (see `server.pilots.ledger`). The page and
the CSV are made from the same lines, so they never disagree; the CSV's amounts are kroner
with a dot and two decimals (`money.plain`), which read back to the same øre.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from server.pilots.budgets import FIRST_YEAR, LAST_YEAR
from server.pilots.ledger import Entry, Payout, paid_by
from server.pilots.money import plain

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_FIRST_MONTH = {1: "01", 2: "04", 3: "07", 4: "10"}
_LAST_DAY = {1: "03-31", 2: "06-30", 3: "09-30", 4: "12-31"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = (
    "entry_id", "on", "quarter", "programme_id", "programme", "gp_id", "gp", "kind", "rule",
    "rules_version", "earning", "source", "amount_kr", "full_kr", "reverses", "reason",
    "payout",
)  # fmt: skip
DECIMAL_COLUMNS = frozenset({"amount_kr", "full_kr"})


class BadQuarter(ValueError):
    """Not a quarter written as YYYYQn."""


@dataclass(frozen=True)
class Line:
    entry: Entry
    programme: str  # the programme's name
    gp: str  # the GP's display name
    payout: str  # the batch that paid it, "" while outstanding


def quarter_of(day: str) -> str:
    """'2025-05-14' -> '2025Q2'."""
    return f"{day[:4]}Q{(int(day[5:7]) - 1) // 3 + 1}"


def quarter_days(quarter: str) -> tuple[str, str]:
    """'2025Q2' -> ('2025-04-01', '2025-06-30'); BadQuarter for anything else."""
    match = _QUARTER.match(quarter)
    if match is None or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise BadQuarter(quarter)
    year, q = match.group(1), int(match.group(2))
    return f"{year}-{_FIRST_MONTH[q]}-01", f"{year}-{_LAST_DAY[q]}"


def quarters(entries: Iterable[Entry]) -> list[str]:
    """The quarters with entries, newest first."""
    return sorted({quarter_of(e.on) for e in entries}, reverse=True)


def lines(
    entries: Iterable[Entry],
    payouts: Iterable[Payout],
    quarter: str,
    programme_names: Mapping[str, str],
    gp_names: Mapping[str, str],
) -> list[Line]:
    """The quarter's entries, by day then by when they were written."""
    first, last = quarter_days(quarter)
    paid = paid_by(payouts)
    chosen = sorted((e for e in entries if first <= e.on <= last), key=lambda e: (e.on, e.at))
    return [
        Line(e, programme_names.get(e.programme_id, e.programme_id),
             gp_names.get(e.gp_id, e.gp_id), paid.get(e.id, ""))
        for e in chosen
    ]  # fmt: skip


def total(statement: Iterable[Line]) -> int:
    return sum(line.entry.amount_ore for line in statement)


def _text(value: str) -> str:
    """A name or reason that a spreadsheet would take for a formula gets a quote first."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def to_csv(statement: Iterable[Line]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for line in statement:
        e = line.entry
        writer.writerow([
            e.id, e.on, quarter_of(e.on), e.programme_id, _text(line.programme), e.gp_id,
            _text(line.gp), e.kind, e.rule, e.rules_version or "", e.earning, e.source,
            plain(e.amount_ore), plain(e.full_ore) if e.full_ore else "", e.reverses,
            _text(e.reason), line.payout,
        ])  # fmt: skip
    return out.getvalue()
