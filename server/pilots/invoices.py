"""PLSP subscription invoices: what each LPS vendor invoices its clinics for one quarter.

The PLSP subscription is a price per GP capacity (lægekapacitet) per month, invoiced every
quarter by the clinic's LPS vendor. A clinic's capacities, its vendor and the price are
dated histories: each value holds from its effective-from date (a Copenhagen calendar
date) until the next. The rules, so every line explains itself:

- **Capacities are counted on the quarter's first day.** A change later in the quarter
  takes effect from the next quarter. The quarter is invoiced as a whole when it starts,
  and PLO settles the number of capacities per period rather than day by day.
- **Each month costs the price in force on that month's first day.** Prices take effect on
  the first of a month (the admin page refuses other days), so a regulation from 1 July
  applies from July: a quarter can have two prices.
- **The vendor on the quarter's first day invoices the whole quarter, once.** A clinic that
  switches vendor in the quarter is invoiced by its new vendor from the next quarter only
  ("Skifter man system undervejs, kan leverandøren ikke opkræve en ny betaling for samme
  kvartal"). So every clinic appears at most once per quarter.
- **Not invoiced, with a warning:** a clinic without a vendor on the quarter's first day
  (`no_vendor`), or with a vendor but no capacities recorded (`no_capacities`). A clinic
  whose capacities are recorded as 0 is not invoiced either, deliberately and silently.
- **A month with no price in force** (before the first price) is left out of every line and
  named in `QuarterInvoices.unpriced`.

Amounts are integer øre: capacities × the sum of the months' prices, never a float.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from server.pilots.money import BadAmount, parse_kroner, plain

T = TypeVar("T")
History = Mapping[date, T]  # effective-from date -> the value from then on

FIRST_YEAR = 2000  # dates outside these years are typing mistakes
LAST_YEAR = 2099
MAX_CAPACITIES = 99  # the largest practices have a few dozen
MAX_PRICE_ORE = 1_000_000  # 10.000 kr per capacity per month: far above any real price
BASE_PRICE = (date(2023, 1, 1), 12_000)  # 120 kr excl. VAT per capacity per month (PLSP)
NO_VENDOR = "no_vendor"
NO_CAPACITIES = "no_capacities"
CSV_COLUMNS = (
    "quarter", "vendor_id", "vendor", "ydernummer", "clinic", "capacities",
    "month_1", "price_1", "month_2", "price_2", "month_3", "price_3", "amount",
    "vat", "amount_incl_vat",
)  # fmt: skip
DECIMAL_COLUMNS = frozenset({"price_1", "price_2", "price_3", "amount", "vat", "amount_incl_vat"})
VAT_PERCENT = 25  # Danish moms; every amount here is excluding it

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CAPACITIES = re.compile(r"^\d{1,2}$")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """'2025Q1' -> Quarter(2025, 1); ValueError for anything else."""
        match = _QUARTER.match(text.strip())
        if match is None or not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
            raise ValueError(f"not a quarter: {text!r}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def months(self) -> tuple[date, date, date]:
        """The first day of each of the quarter's three months."""
        first = 3 * self.number - 2
        return (
            date(self.year, first, 1),
            date(self.year, first + 1, 1),
            date(self.year, first + 2, 1),
        )

    def next(self) -> Quarter:
        return Quarter(self.year + self.number // 4, self.number % 4 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"


@dataclass(frozen=True)
class Subscriber:
    """A clinic with its dated histories, as the invoice rules need it."""

    clinic_id: str
    name: str
    ydernummer: str
    capacities: History[int]
    vendors: History[str]  # vendor ids


@dataclass(frozen=True)
class MonthPrice:
    month: date  # the month's first day
    price_ore: int  # per capacity


@dataclass(frozen=True)
class InvoiceLine:
    quarter: str  # "2025Q1"
    clinic_id: str
    clinic_name: str
    ydernummer: str
    vendor_id: str
    vendor_name: str
    capacities: int
    months: tuple[MonthPrice, ...]
    amount_ore: int


@dataclass(frozen=True)
class VendorInvoice:
    vendor_id: str
    vendor_name: str
    lines: tuple[InvoiceLine, ...]  # by ydernummer
    total_ore: int


@dataclass(frozen=True)
class Warning:
    clinic_id: str
    clinic_name: str
    ydernummer: str
    code: str  # NO_VENDOR or NO_CAPACITIES


@dataclass(frozen=True)
class QuarterInvoices:
    quarter: Quarter
    vendors: tuple[VendorInvoice, ...]  # by vendor name
    warnings: tuple[Warning, ...]
    unpriced: tuple[date, ...]  # months with no price in force
    total_ore: int

    def for_vendor(self, vendor_id: str) -> VendorInvoice | None:
        return next((v for v in self.vendors if v.vendor_id == vendor_id), None)


def in_force(history: History[T], on: date) -> T | None:
    """The value whose effective-from date is the latest on or before `on`."""
    since = max((day for day in history if day <= on), default=None)
    return None if since is None else history[since]


def invoice_quarter(
    quarter: Quarter,
    subscribers: Iterable[Subscriber],
    prices: History[int],
    vendor_names: Mapping[str, str],
) -> QuarterInvoices:
    """The quarter's lines, grouped per vendor, by the rules in this module's docstring."""
    months = [(m, in_force(prices, m)) for m in quarter.months]
    priced = tuple(MonthPrice(m, price) for m, price in months if price is not None)
    per_capacity = sum(p.price_ore for p in priced)
    lines: dict[str, list[InvoiceLine]] = {}
    warnings: list[Warning] = []
    for s in sorted(subscribers, key=lambda s: (s.ydernummer, s.clinic_id)):
        capacities = in_force(s.capacities, quarter.start)
        vendor_id = in_force(s.vendors, quarter.start)
        if capacities == 0:
            continue
        if vendor_id is None or capacities is None:
            code = NO_VENDOR if vendor_id is None else NO_CAPACITIES
            warnings.append(Warning(s.clinic_id, s.name, s.ydernummer, code))
            continue
        line = InvoiceLine(
            quarter=str(quarter),
            clinic_id=s.clinic_id,
            clinic_name=s.name,
            ydernummer=s.ydernummer,
            vendor_id=vendor_id,
            vendor_name=vendor_names.get(vendor_id, vendor_id),
            capacities=capacities,
            months=priced,
            amount_ore=capacities * per_capacity,
        )
        lines.setdefault(vendor_id, []).append(line)
    invoices = sorted(
        (
            VendorInvoice(
                vendor_id,
                vendor_names.get(vendor_id, vendor_id),
                tuple(found),
                sum(line.amount_ore for line in found),
            )
            for vendor_id, found in lines.items()
        ),
        key=lambda v: (v.vendor_name.casefold(), v.vendor_id),
    )
    return QuarterInvoices(
        quarter,
        tuple(invoices),
        tuple(warnings),
        tuple(m for m, price in months if price is None),
        sum(v.total_ore for v in invoices),
    )


def vat_ore(amount_ore: int) -> int:
    """25 % of an amount, to the nearest øre (halves away from zero)."""
    sign = -1 if amount_ore < 0 else 1
    return sign * ((abs(amount_ore) * VAT_PERCENT + 50) // 100)


def spreadsheet_safe(value: str) -> str:
    """Text a spreadsheet would run as a formula (a name starting with "=") is quoted."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def month_cells(months: tuple[MonthPrice, ...]) -> list[str]:
    cells = [cell for m in months for cell in (m.month.strftime("%Y-%m"), plain(m.price_ore))]
    return cells + [""] * (6 - len(cells))


def invoice_csv(quarter: Quarter, invoice: VendorInvoice | None) -> str:
    """One vendor's lines for the quarter (only the header when it has none). Amounts in
    kroner with a dot and two decimals, excl. VAT, then the VAT and the sum; `month_n`/
    `price_n` are each month and its price per capacity, blank for a month with no price."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for line in invoice.lines if invoice else ():
        writer.writerow(
            [
                str(quarter),
                line.vendor_id,
                spreadsheet_safe(line.vendor_name),
                line.ydernummer,
                spreadsheet_safe(line.clinic_name),
                str(line.capacities),
                *month_cells(line.months),
                plain(line.amount_ore),
                plain(vat_ore(line.amount_ore)),
                plain(line.amount_ore + vat_ore(line.amount_ore)),
            ]
        )
    return out.getvalue()


def parse_day(text: str) -> date | None:
    """An ISO date (what `<input type="date">` sends) in a plausible year, or None."""
    if not _ISO_DAY.match(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def parse_capacities(text: str) -> int | None:
    """A whole number of capacities, 0 (no longer subscribed) to MAX_CAPACITIES, or None."""
    return int(text) if _CAPACITIES.match(text) and int(text) <= MAX_CAPACITIES else None


def parse_price(text: str, lang: str) -> int | None:
    """A monthly price per capacity in øre (more than 0, at most MAX_PRICE_ORE), or None."""
    try:
        price = parse_kroner(text, lang)
    except BadAmount:
        return None
    return price if 0 < price <= MAX_PRICE_ORE else None
