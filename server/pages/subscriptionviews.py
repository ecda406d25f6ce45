"""What the PLSP subscription page shows, built from the histories: the quarter's invoice
lines per vendor, the issued invoices, and each clinic's capacities and vendor with their forms.

Pure views (no request, no writes) so the page's handlers in `subscriptions` stay small.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from server.clock import local, now
from server.pilots.invoices import (
    BASE_PRICE,
    MonthPrice,
    Quarter,
    QuarterInvoices,
    Subscriber,
    in_force,
    invoice_quarter,
)
from server.pilots.issuing import Issue, IssuedInvoice, IssuedLine, issued_quarters, lines_for
from server.pilots.money import format_kroner
from server.store.clinics import list_clinics
from server.store.connection import Redis
from server.store.invoices import list_issues
from server.store.subscriptions import price_list, subscribers, vendor_names

SUBSCRIPTIONS_PATH = "/admin/subscriptions"
NONE = "–"


@dataclass(frozen=True)
class Failed:
    """A form that was refused, shown again with what was typed and what is wrong."""

    form: str  # "capacities", "vendor" or "price"
    values: dict[str, str]
    errors: dict[str, str]  # field -> locale key
    clinic_id: str = ""


@dataclass(frozen=True)
class Context:
    """What every part of the page needs: the reader's language and today's date."""

    lang: str
    t: Callable[..., str]
    today: date = field(default_factory=lambda: local(now()).date())


def month_prices(months: tuple[MonthPrice, ...], ctx: Context) -> str:
    return " · ".join(
        f"{ctx.t(f'plsp.month.{m.month.month}')} {format_kroner(m.price_ore, ctx.lang)}"
        for m in months
    )


def quarter_choices(shown: Quarter, today: date) -> list[Quarter]:
    """From the first PLSP price's quarter to the next one, and the shown one if outside."""
    quarter, last = Quarter.containing(BASE_PRICE[0]), Quarter.containing(today).next()
    found = {shown}
    while quarter <= last:
        found.add(quarter)
        quarter = quarter.next()
    return sorted(found, reverse=True)


@dataclass(frozen=True)
class Loaded:
    invoices: QuarterInvoices
    subscribers: list[Subscriber]
    vendor_names: dict[str, str]
    prices: dict[date, int]
    issues: list[Issue]


async def load(redis: Redis, quarter: Quarter) -> Loaded:
    """The histories, the quarter's invoices from them, and every issue."""
    subs = await subscribers(redis, await list_clinics(redis))
    names = await vendor_names(redis, subs)
    prices = await price_list(redis)
    issues = await list_issues(redis)
    return Loaded(invoice_quarter(quarter, subs, prices, names), subs, names, prices, issues)


def line_view(issue: Issue, inv: IssuedInvoice, line: IssuedLine, ctx: Context) -> dict[str, Any]:
    return {
        "invoice": inv.number,
        "issue": issue.number,
        "issued_on": local_day_of(issue.issued_at),
        "kind": line.kind.value,
        "kind_text": ctx.t(f"invoices.kind.{line.kind.value}"),
        "credits": line.credits,
        "quarter": line.quarter,
        "vendor": line.vendor_name,
        "clinic_id": line.clinic_id,
        "clinic": line.clinic_name,
        "ydernummer": line.ydernummer,
        "capacities": line.capacities,
        "months": month_prices(line.months, ctx),
        "amount_ore": line.amount_ore,
    }


def frozen_view(issues: list[Issue], quarter: Quarter, ctx: Context) -> dict[str, Any]:
    """The shown quarter as issued: its charges and every credit and correction since."""
    lines = [
        line_view(issue, inv, line, ctx)
        for issue, inv, line in lines_for(issues)
        if line.quarter == str(quarter)
    ]
    return {
        "issued": str(quarter) in issued_quarters(issues),
        "lines": lines,
        "total_ore": sum(line["amount_ore"] for line in lines),
    }


def issues_view(issues: list[Issue]) -> list[dict[str, Any]]:
    return [
        {
            "number": issue.number,
            "period": issue.period,
            "issued_on": local_day_of(issue.issued_at),
            "quarters": list(issue.quarters),
            "invoices": [
                {
                    "number": inv.number,
                    "vendor": inv.vendor_name,
                    "total_ore": inv.total_ore,
                    "vat_ore": inv.vat_ore,
                    "credits": sum(1 for line in inv.lines if line.kind == "credit"),
                    "csv_url": f"{SUBSCRIPTIONS_PATH}/issued/{inv.number}.csv",
                }
                for inv in issue.invoices
            ],
        }
        for issue in reversed(issues)
    ]


def local_day_of(iso: str) -> date:
    return local(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()).date()


def invoices_view(invoices: QuarterInvoices, ctx: Context) -> dict[str, Any]:
    return {
        "vendors": [
            {
                "id": v.vendor_id,
                "name": v.vendor_name,
                "total_ore": v.total_ore,
                "csv_url": f"{SUBSCRIPTIONS_PATH}/invoices.csv?quarter={invoices.quarter}"
                f"&vendor={v.vendor_id}",
                "lines": [
                    {
                        "clinic_id": line.clinic_id,
                        "clinic": line.clinic_name,
                        "ydernummer": line.ydernummer,
                        "capacities": line.capacities,
                        "months": month_prices(line.months, ctx),
                        "amount_ore": line.amount_ore,
                    }
                    for line in v.lines
                ],
            }
            for v in invoices.vendors
        ],
        "total_ore": invoices.total_ore,
        "warnings": [
            {
                "clinic_id": w.clinic_id,
                "clinic": w.clinic_name,
                "ydernummer": w.ydernummer,
                "text": ctx.t(f"plsp.warning.{w.code}"),
            }
            for w in invoices.warnings
        ],
        "unpriced": ", ".join(
            f"{ctx.t(f'plsp.month.{m.month}')} {m.year}" for m in invoices.unpriced
        ),
    }


def clinic_view(
    s: Subscriber, names: dict[str, str], failed: Failed | None, ctx: Context
) -> dict[str, Any]:
    capacities = in_force(s.capacities, ctx.today)
    vendor_id = in_force(s.vendors, ctx.today)
    mine = failed if failed and failed.clinic_id == s.clinic_id else None
    today = ctx.today.isoformat()
    return {
        "id": s.clinic_id,
        "name": s.name,
        "ydernummer": s.ydernummer,
        "capacities_now": NONE if capacities is None else capacities,
        "vendor_now": NONE if vendor_id is None else names.get(vendor_id, vendor_id),
        "capacity_history": list(s.capacities.items()),
        "vendor_history": [(d, names.get(v, v)) for d, v in s.vendors.items()],
        "open": mine is not None,
        "capacities_form": form_view(mine, "capacities", {"since": today, "capacities": ""}),
        "vendor_form": form_view(mine, "vendor", {"since": today, "vendor": vendor_id or ""}),
    }


def form_view(failed: Failed | None, form: str, defaults: dict[str, str]) -> dict[str, Any]:
    if failed is not None and failed.form == form:
        return {"values": failed.values, "errors": failed.errors}
    return {"values": defaults, "errors": {}}
