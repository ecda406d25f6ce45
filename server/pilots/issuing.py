"""Issued PLSP invoices: what was invoiced stays invoiced; later changes are corrected.

`server.pilots.invoices` computes a quarter's lines from the dated histories, and those
histories can be changed after the fact (a vendor switch or a capacity recorded with an
earlier date). Invoices once sent must not change with them, so issuing freezes them:

- **An issue** covers a period (a quarter, or a year of four quarters for vendors that
  invoice a year at a time) and charges each quarter of it that was not issued before.
  Its lines are grouped per vendor into invoices, each with its own number, and stored
  append-only (`server.store.invoices`). Nothing issued is ever edited or deleted.
- **Corrections ride with the next issue.** Every issue also compares each quarter issued
  earlier with what the histories say now, clinic by clinic. Where the standing line (the
  last charge or correction not yet credited) differs in vendor, capacities or amount, the
  issue credits it in full to the vendor that charged it and charges the right line as a
  correction to the vendor that should have (credit and re-bill, never a difference line).
  So a clinic-quarter's lines always net to what the histories say, charged by one vendor.
- A clinic no longer in the list of clinics is left as it was issued.

Amounts are integer øre, excluding VAT; VAT is 25 %, rounded to the øre per line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from server.pilots.invoices import (
    FIRST_YEAR,
    LAST_YEAR,
    InvoiceLine,
    MonthPrice,
    Quarter,
    Subscriber,
    Warning,
    invoice_quarter,
    month_cells,
    spreadsheet_safe,
    vat_ore,
)
from server.pilots.money import plain

_YEAR = re.compile(r"^(\d{4})$")


class LineKind(StrEnum):
    CHARGE = "charge"  # a quarter invoiced for the first time
    CREDIT = "credit"  # a line issued before, cancelled in full (negative)
    CORRECTION = "correction"  # the right line for a quarter issued before


@dataclass(frozen=True)
class Period:
    """What one issue covers: '2026Q1' (one quarter) or '2026' (its four quarters)."""

    label: str
    quarters: tuple[Quarter, ...]

    @classmethod
    def parse(cls, text: str) -> Period:
        text = text.strip()
        if (match := _YEAR.match(text)) and FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
            year = int(match[1])
            return cls(text, tuple(Quarter(year, n) for n in range(1, 5)))
        return cls.quarter(Quarter.parse(text))

    @classmethod
    def quarter(cls, quarter: Quarter) -> Period:
        return cls(str(quarter), (quarter,))


@dataclass(frozen=True)
class IssuedLine:
    kind: LineKind
    quarter: str
    clinic_id: str
    clinic_name: str
    ydernummer: str
    vendor_id: str
    vendor_name: str
    capacities: int
    months: tuple[MonthPrice, ...]
    amount_ore: int  # excl. VAT; negative for a credit
    credits: str = ""  # a credit: the number of the invoice whose line it cancels

    @property
    def vat_ore(self) -> int:
        return vat_ore(self.amount_ore)


@dataclass(frozen=True)
class IssuedInvoice:
    number: str
    vendor_id: str
    vendor_name: str
    lines: tuple[IssuedLine, ...]

    @property
    def total_ore(self) -> int:
        return sum(line.amount_ore for line in self.lines)

    @property
    def vat_ore(self) -> int:
        return sum(line.vat_ore for line in self.lines)


@dataclass(frozen=True)
class Issue:
    number: int
    period: str
    quarters: tuple[str, ...]  # the quarters it charged for the first time
    issued_at: str  # ISO UTC
    actor: str
    invoices: tuple[IssuedInvoice, ...]  # by vendor name
    warnings: tuple[tuple[str, Warning], ...]  # (quarter, warning) for clinics not charged

    @property
    def total_ore(self) -> int:
        return sum(invoice.total_ore for invoice in self.invoices)


@dataclass(frozen=True)
class Draft:
    """An issue before it has numbers: its new quarters, lines and warnings."""

    period: Period
    quarters: tuple[Quarter, ...]
    lines: tuple[IssuedLine, ...]
    warnings: tuple[tuple[str, Warning], ...]

    @property
    def empty(self) -> bool:
        return not self.quarters and not self.lines


def issued_quarters(issues: Iterable[Issue]) -> set[str]:
    return {q for issue in issues for q in issue.quarters}


def standing_lines(issues: Sequence[Issue]) -> dict[tuple[str, str], tuple[IssuedLine, str]]:
    """(clinic id, quarter) -> the line in force and its invoice number. Within one issue a
    credit cancels what earlier issues charged, and the issue's correction replaces it."""
    standing: dict[tuple[str, str], tuple[IssuedLine, str]] = {}
    for issue in sorted(issues, key=lambda i: i.number):
        found = [(line, inv.number) for inv in issue.invoices for line in inv.lines]
        for line, _ in found:
            if line.kind == LineKind.CREDIT:
                standing.pop((line.clinic_id, line.quarter), None)
        for line, number in found:
            if line.kind != LineKind.CREDIT:
                standing[(line.clinic_id, line.quarter)] = (line, number)
    return standing


def _same(old: IssuedLine, new: InvoiceLine) -> bool:
    return (old.vendor_id, old.capacities, old.amount_ore) == (
        new.vendor_id,
        new.capacities,
        new.amount_ore,
    )


def _issued(kind: LineKind, line: InvoiceLine | IssuedLine, credits: str = "") -> IssuedLine:
    sign = -1 if kind == LineKind.CREDIT else 1
    return IssuedLine(
        kind,
        line.quarter,
        line.clinic_id,
        line.clinic_name,
        line.ydernummer,
        line.vendor_id,
        line.vendor_name,
        line.capacities,
        line.months,
        sign * abs(line.amount_ore),
        credits,
    )


def draft_issue(
    period: Period,
    issues: Sequence[Issue],
    subscribers: Sequence[Subscriber],
    prices: Mapping[date, int],
    vendor_names: Mapping[str, str],
) -> Draft:
    """The next issue: charges for the period's quarters not issued yet, and credits and
    corrections for every quarter issued before whose lines the histories now contradict."""
    done = issued_quarters(issues)
    new = tuple(q for q in period.quarters if str(q) not in done)
    lines: list[IssuedLine] = []
    warnings: list[tuple[str, Warning]] = []
    for quarter in new:
        invoices = invoice_quarter(quarter, subscribers, prices, vendor_names)
        lines += [_issued(LineKind.CHARGE, ln) for v in invoices.vendors for ln in v.lines]
        warnings += [(str(quarter), w) for w in invoices.warnings]
    standing = standing_lines(issues)
    known = {s.clinic_id for s in subscribers}
    for text in sorted(done):
        invoices = invoice_quarter(Quarter.parse(text), subscribers, prices, vendor_names)
        expected = {ln.clinic_id: ln for v in invoices.vendors for ln in v.lines}
        charged = {c for c, q in standing if q == text and c in known}
        for clinic_id in sorted(charged | expected.keys()):
            old, new_line = standing.get((clinic_id, text)), expected.get(clinic_id)
            if old is not None and new_line is not None and _same(old[0], new_line):
                continue
            if old is not None:
                lines.append(_issued(LineKind.CREDIT, old[0], credits=old[1]))
            if new_line is not None:
                lines.append(_issued(LineKind.CORRECTION, new_line))
    return Draft(period, new, tuple(lines), tuple(warnings))


def number_invoices(
    draft: Draft, first_number: int, year: int
) -> tuple[tuple[IssuedInvoice, ...], int]:
    """The draft's lines as one invoice per vendor (by vendor name), numbered from
    `first_number` as 'YEAR-000123'; returns them and how many numbers were used."""
    per_vendor: dict[str, list[IssuedLine]] = {}
    for line in draft.lines:
        per_vendor.setdefault(line.vendor_id, []).append(line)
    order = sorted(per_vendor, key=lambda v: (per_vendor[v][0].vendor_name.casefold(), v))
    invoices = tuple(
        IssuedInvoice(
            f"{year}-{first_number + i:06d}",
            vendor_id,
            per_vendor[vendor_id][0].vendor_name,
            tuple(sorted(per_vendor[vendor_id], key=_line_order)),
        )
        for i, vendor_id in enumerate(order)
    )
    return invoices, len(invoices)


def _line_order(line: IssuedLine) -> tuple[str, str, str, int]:
    kinds = {LineKind.CHARGE: 0, LineKind.CREDIT: 1, LineKind.CORRECTION: 2}
    return (line.quarter, line.ydernummer, line.clinic_id, kinds[line.kind])


def issue_to_json(issue: Issue) -> str:
    return json.dumps(
        {
            "number": issue.number,
            "period": issue.period,
            "quarters": list(issue.quarters),
            "issued_at": issue.issued_at,
            "actor": issue.actor,
            "invoices": [
                {
                    "number": inv.number,
                    "vendor_id": inv.vendor_id,
                    "vendor_name": inv.vendor_name,
                    "lines": [_line_json(line) for line in inv.lines],
                }
                for inv in issue.invoices
            ],
            "warnings": [
                [q, w.clinic_id, w.clinic_name, w.ydernummer, w.code] for q, w in issue.warnings
            ],
        },
        ensure_ascii=False,
    )


def _line_json(line: IssuedLine) -> dict[str, Any]:
    return {
        "kind": line.kind.value,
        "quarter": line.quarter,
        "clinic_id": line.clinic_id,
        "clinic_name": line.clinic_name,
        "ydernummer": line.ydernummer,
        "vendor_id": line.vendor_id,
        "vendor_name": line.vendor_name,
        "capacities": line.capacities,
        "months": [[m.month.isoformat(), m.price_ore] for m in line.months],
        "amount_ore": line.amount_ore,
        "credits": line.credits,
    }


def issue_from_json(text: str) -> Issue:
    data = json.loads(text)
    return Issue(
        data["number"],
        data["period"],
        tuple(data["quarters"]),
        data["issued_at"],
        data["actor"],
        tuple(
            IssuedInvoice(
                inv["number"],
                inv["vendor_id"],
                inv["vendor_name"],
                tuple(_line_from(line) for line in inv["lines"]),
            )
            for inv in data["invoices"]
        ),
        tuple((q, Warning(c, n, y, code)) for q, c, n, y, code in data["warnings"]),
    )


def _line_from(d: dict[str, Any]) -> IssuedLine:
    return IssuedLine(
        LineKind(d["kind"]),
        d["quarter"],
        d["clinic_id"],
        d["clinic_name"],
        d["ydernummer"],
        d["vendor_id"],
        d["vendor_name"],
        d["capacities"],
        tuple(MonthPrice(date.fromisoformat(m), p) for m, p in d["months"]),
        d["amount_ore"],
        d["credits"],
    )


def lines_for(
    issues: Iterable[Issue], *, vendor_id: str | None = None, clinic_id: str | None = None
) -> list[tuple[Issue, IssuedInvoice, IssuedLine]]:
    """Every issued line, oldest issue first, of one vendor or one clinic (or all)."""
    return [
        (issue, inv, line)
        for issue in sorted(issues, key=lambda i: i.number)
        for inv in issue.invoices
        if vendor_id is None or inv.vendor_id == vendor_id
        for line in inv.lines
        if clinic_id is None or line.clinic_id == clinic_id
    ]


ISSUED_CSV_COLUMNS = (
    "invoice", "issued_at", "kind", "quarter", "credits", "vendor_id", "vendor", "ydernummer",
    "clinic", "capacities", "month_1", "price_1", "month_2", "price_2", "month_3", "price_3",
    "amount_excl_vat", "vat", "amount_incl_vat",
)  # fmt: skip
ISSUED_DECIMALS = frozenset(
    {"price_1", "price_2", "price_3", "amount_excl_vat", "vat", "amount_incl_vat"}
)


def issued_csv(issue: Issue, invoice: IssuedInvoice) -> str:
    """One issued invoice's lines: amounts in kroner with a dot, excl. VAT, the VAT (25 %)
    and the sum; a credit is negative and names the invoice it credits."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ISSUED_CSV_COLUMNS)
    for line in invoice.lines:
        writer.writerow(
            [
                invoice.number,
                issue.issued_at,
                line.kind.value,
                line.quarter,
                line.credits,
                line.vendor_id,
                spreadsheet_safe(line.vendor_name),
                line.ydernummer,
                spreadsheet_safe(line.clinic_name),
                str(line.capacities),
                *month_cells(line.months),
                plain(line.amount_ore),
                plain(line.vat_ore),
                plain(line.amount_ore + line.vat_ore),
            ]
        )
    return out.getvalue()
