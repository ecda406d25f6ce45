"""A vendor's own issued PLSP invoices, as issued (they never change afterwards).

    GET /api/v1/invoices?quarter=2026Q1   -> {"invoices": [...]}
    GET /api/v1/prices                    -> the price list: past, current and coming

Tenancy is by who invoices: a vendor sees the invoices issued to it, and only those,
including lines for clinics it no longer serves (it charged or credited them). Amounts are
integer øre excluding VAT (ekskl. moms), with the VAT (25 %) beside them.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from server.api.auth import require_vendor
from server.api.spec import ApiRoutes
from server.api.validation import valid_query
from server.appkeys import REDIS
from server.pilots.invoices import VAT_PERCENT, Quarter
from server.pilots.issuing import Issue, IssuedInvoice, IssuedLine
from server.store.invoices import list_issues
from server.store.subscriptions import price_list
from server.store.vendors import today

routes = ApiRoutes(tag="invoices")


class MonthOut(BaseModel):
    month: str = Field(description="YYYY-MM")
    price_ore: int = Field(description="per GP capacity, excl. VAT")


class InvoiceLineOut(BaseModel):
    kind: str = Field(description="charge, credit (negative) or correction")
    quarter: str = Field(description="the quarter the line is for, e.g. 2026Q1")
    credits: str | None = Field(description="a credit: the invoice number whose line it cancels")
    clinic: str = Field(description="the clinic's ydernummer")
    clinic_name: str
    capacities: int = Field(description="GP capacities (lægekapaciteter) on the quarter's 1st")
    months: list[MonthOut]
    amount_excl_vat_ore: int
    vat_ore: int


class InvoiceOut(BaseModel):
    number: str
    issue: int = Field(description="the issue it belongs to")
    period: str = Field(description="what the issue covered: 2026Q1, or 2026 for a year")
    issued_at: str = Field(description="ISO 8601 UTC")
    currency: str = "DKK"
    vat_percent: int = VAT_PERCENT
    total_excl_vat_ore: int
    vat_ore: int
    total_incl_vat_ore: int
    lines: list[InvoiceLineOut]


class InvoicesPage(BaseModel):
    invoices: list[InvoiceOut] = Field(description="oldest first")


class InvoicesQuery(BaseModel):
    quarter: Annotated[
        str | None,
        Field(description="only lines for this quarter, e.g. 2026Q1", pattern=r"^\d{4}Q[1-4]$"),
    ] = None

    @field_validator("quarter")
    @classmethod
    def _quarter(cls, quarter: str | None) -> str | None:
        if quarter is not None:
            try:
                Quarter.parse(quarter)
            except ValueError:
                raise PydanticCustomError("quarter", "a quarter such as 2026Q1") from None
        return quarter


def _line(line: IssuedLine) -> InvoiceLineOut:
    return InvoiceLineOut(
        kind=line.kind.value,
        quarter=line.quarter,
        credits=line.credits or None,
        clinic=line.ydernummer,
        clinic_name=line.clinic_name,
        capacities=line.capacities,
        months=[
            MonthOut(month=m.month.strftime("%Y-%m"), price_ore=m.price_ore) for m in line.months
        ],
        amount_excl_vat_ore=line.amount_ore,
        vat_ore=line.vat_ore,
    )


def _invoice(issue: Issue, inv: IssuedInvoice, lines: list[IssuedLine]) -> InvoiceOut:
    total = sum(line.amount_ore for line in lines)
    vat = sum(line.vat_ore for line in lines)
    return InvoiceOut(
        number=inv.number,
        issue=issue.number,
        period=issue.period,
        issued_at=issue.issued_at,
        total_excl_vat_ore=total,
        vat_ore=vat,
        total_incl_vat_ore=total + vat,
        lines=[_line(line) for line in lines],
    )


@routes.get(
    "/api/v1/invoices",
    summary="The calling vendor's issued PLSP invoices with their lines (excl. VAT)",
    query=InvoicesQuery,
    responses={200: InvoicesPage},
    errors=(422,),
)
async def list_invoices(request: web.Request) -> web.Response:
    vendor = await require_vendor(request)
    query = valid_query(request, InvoicesQuery)
    found: list[InvoiceOut] = []
    for issue in await list_issues(request.app[REDIS]):
        for inv in issue.invoices:
            if inv.vendor_id != vendor.id:
                continue
            lines = [ln for ln in inv.lines if query.quarter in (None, ln.quarter)]
            if lines:
                found.append(_invoice(issue, inv, lines))
    return web.json_response(InvoicesPage(invoices=found).model_dump(mode="json"))


class PriceOut(BaseModel):
    since: str = Field(description="the first day it applies (ISO date, the 1st of a month)")
    price_ore: int = Field(description="per GP capacity per month, excl. VAT")
    status: str = Field(description="past, current or coming")


class PricesPage(BaseModel):
    currency: str = "DKK"
    vat_percent: int = VAT_PERCENT
    prices: list[PriceOut] = Field(description="oldest first; only approved prices")


@routes.get(
    "/api/v1/prices",
    summary="The PLSP subscription's price list: past, current and coming (excl. VAT)",
    responses={200: PricesPage},
)
async def list_prices(request: web.Request) -> web.Response:
    await require_vendor(request)
    prices = await price_list(request.app[REDIS])
    day = today()
    current = max((since for since in prices if since <= day), default=None)
    found = [
        PriceOut(
            since=since.isoformat(),
            price_ore=price,
            status="coming" if since > day else ("current" if since == current else "past"),
        )
        for since, price in prices.items()
    ]
    return web.json_response(PricesPage(prices=found).model_dump(mode="json"))
