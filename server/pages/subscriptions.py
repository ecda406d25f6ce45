"""The PLSP subscription (admin only): each clinic's capacities and LPS vendor over time,
the price list, and a quarter's invoice lines per vendor, on the page and as CSV.

The page and the CSV are built from the same `QuarterInvoices`, so they never disagree.
Histories are only added to (a date entered again corrects its value); the rules that turn
them into invoice lines are in `server.pilots.invoices`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web

from server.accounts import user_actor
from server.appkeys import LOCALES, REDIS
from server.auth.web import require_user
from server.clock import local, now
from server.i18n import request_language
from server.jsonerror import json_error
from server.pages.csvexport import csv_export
from server.pages.forms import form_values, read_form
from server.pages.render import render
from server.pilots.capacityimport import BAD_ROW, CHANGED, CONFLICT, UNCHANGED, UNKNOWN_CLINIC
from server.pilots.invoices import (
    BASE_PRICE,
    MonthPrice,
    Quarter,
    QuarterInvoices,
    Subscriber,
    in_force,
    invoice_csv,
    invoice_quarter,
    parse_capacities,
    parse_day,
    parse_price,
)
from server.pilots.invoices import (
    DECIMAL_COLUMNS as INVOICE_DECIMALS,
)
from server.pilots.issuing import (
    ISSUED_DECIMALS,
    Issue,
    IssuedInvoice,
    IssuedLine,
    Period,
    issued_csv,
    issued_quarters,
    lines_for,
)
from server.pilots.money import format_kroner
from server.responses import no_store
from server.store.clinics import Clinic, get_clinic, list_clinics
from server.store.connection import Redis
from server.store.invoices import issue, list_issues
from server.store.subscriptions import (
    PROPOSED,
    ProposalRefused,
    decide_price,
    import_capacities,
    price_list,
    price_proposals,
    propose_price,
    set_capacities,
    set_vendor,
    subscribers,
    vendor_names,
)
from server.store.users import User, UserRole
from server.store.vendors import get_vendor

SUBSCRIPTIONS_PATH = "/admin/subscriptions"
CAPACITY_FIELDS = ("since", "capacities", "quarter")
VENDOR_FIELDS = ("since", "vendor", "quarter")
PRICE_FIELDS = ("since", "price", "quarter")
NONE = "–"
MAX_ID = 100  # longer than any id we make
STATUSES = (CHANGED, UNCHANGED, UNKNOWN_CLINIC, CONFLICT, BAD_ROW)
REFUSALS = frozenset({"unknown", "decided", "same_admin", "in_advance", "price"})

routes = web.RouteTableDef()


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


def _months(months: tuple[MonthPrice, ...], ctx: Context) -> str:
    return " · ".join(
        f"{ctx.t(f'plsp.month.{m.month.month}')} {format_kroner(m.price_ore, ctx.lang)}"
        for m in months
    )


def _quarters(shown: Quarter, today: date) -> list[Quarter]:
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


async def _load(redis: Redis, quarter: Quarter) -> Loaded:
    """The histories, the quarter's invoices from them, and every issue."""
    subs = await subscribers(redis, await list_clinics(redis))
    names = await vendor_names(redis, subs)
    prices = await price_list(redis)
    issues = await list_issues(redis)
    return Loaded(invoice_quarter(quarter, subs, prices, names), subs, names, prices, issues)


def _line_view(issue: Issue, inv: IssuedInvoice, line: IssuedLine, ctx: Context) -> dict[str, Any]:
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
        "months": _months(line.months, ctx),
        "amount_ore": line.amount_ore,
    }


def _frozen_view(issues: list[Issue], quarter: Quarter, ctx: Context) -> dict[str, Any]:
    """The shown quarter as issued: its charges and every credit and correction since."""
    lines = [
        _line_view(issue, inv, line, ctx)
        for issue, inv, line in lines_for(issues)
        if line.quarter == str(quarter)
    ]
    return {
        "issued": str(quarter) in issued_quarters(issues),
        "lines": lines,
        "total_ore": sum(line["amount_ore"] for line in lines),
    }


def _issues_view(issues: list[Issue]) -> list[dict[str, Any]]:
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


def _invoices_view(invoices: QuarterInvoices, ctx: Context) -> dict[str, Any]:
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
                        "months": _months(line.months, ctx),
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


def _clinic_view(
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
        "capacities_form": _form(mine, "capacities", {"since": today, "capacities": ""}),
        "vendor_form": _form(mine, "vendor", {"since": today, "vendor": vendor_id or ""}),
    }


def _form(failed: Failed | None, form: str, defaults: dict[str, str]) -> dict[str, Any]:
    if failed is not None and failed.form == form:
        return {"values": failed.values, "errors": failed.errors}
    return {"values": defaults, "errors": {}}


def _first_of_next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


async def _page(
    request: web.Request,
    user: User,
    quarter: Quarter,
    status: int = 200,
    failed: Failed | None = None,
    quarter_error: bool = False,
) -> web.Response:
    redis = request.app[REDIS]
    lang = request_language(request)
    ctx = Context(lang, lambda key, **values: request.app[LOCALES].translate(lang, key, **values))
    loaded = await _load(redis, quarter)
    price_defaults = {"since": _first_of_next_month(ctx.today).isoformat(), "price": ""}
    response = render(
        request,
        "admin_subscriptions.html",
        status=status,
        here=SUBSCRIPTIONS_PATH,
        user=user,
        quarter=quarter,
        quarter_error=quarter_error,
        quarters=_quarters(quarter, ctx.today),
        invoices=_invoices_view(loaded.invoices, ctx),
        frozen=_frozen_view(loaded.issues, quarter, ctx),
        issues=_issues_view(loaded.issues),
        prices=loaded.prices,
        price_form=_form(failed, "price", price_defaults),
        clinics=[_clinic_view(s, loaded.vendor_names, failed, ctx) for s in loaded.subscribers],
        vendors=sorted(loaded.vendor_names.items(), key=lambda v: (v[1].casefold(), v[0])),
        failed=failed is not None,
        saved="saved" in request.query,
        issued=request.query.get("issued"),
        refused=refused if (refused := request.query.get("refused")) in REFUSALS else None,
        today=ctx.today,
        proposals=[
            {
                "id": p.id,
                "since": p.day,
                "price_ore": p.price_ore,
                "status": p.status,
                "open": p.status == PROPOSED,
                "mine": p.proposed_by == user_actor(user),
            }
            for p in await price_proposals(redis)
        ],
    )
    return no_store(response)


def _quarter(text: str) -> Quarter | None:
    try:
        return Quarter.parse(text)
    except ValueError:
        return None


def _this_quarter() -> Quarter:
    return Quarter.containing(local(now()).date())


def _shown_quarter(values: dict[str, str]) -> Quarter:
    """The quarter the page showed when the form was posted (else this quarter)."""
    return _quarter(values["quarter"]) or _this_quarter()


def _back(values: dict[str, str], anchor: str) -> web.HTTPSeeOther:
    """After a change: the page again (same quarter), saying it was saved."""
    quarter = _shown_quarter(values)
    return web.HTTPSeeOther(f"{SUBSCRIPTIONS_PATH}?quarter={quarter}&saved=1#{anchor}")


async def _clinic(request: web.Request) -> Clinic:
    clinic = await get_clinic(request.app[REDIS], request.match_info["clinic_id"][:MAX_ID])
    if clinic is None:
        raise web.HTTPNotFound()
    return clinic


@routes.get(SUBSCRIPTIONS_PATH)
async def subscriptions_page(request: web.Request) -> web.Response:
    """`?quarter=2025Q1` picks the quarter (this quarter by default; 400 if malformed)."""
    user = await require_user(request, UserRole.ADMIN)
    text = request.query.get("quarter")
    quarter = _quarter(text) if text else _this_quarter()
    if quarter is None:
        return await _page(request, user, _this_quarter(), 400, quarter_error=True)
    return await _page(request, user, quarter)


@routes.post(SUBSCRIPTIONS_PATH + "/clinics/{clinic_id}/capacities")
async def capacities_post(request: web.Request) -> web.Response:
    """The clinic's capacities from a date; bad input shows the page again (422), unchanged."""
    user = await require_user(request, UserRole.ADMIN)
    clinic = await _clinic(request)
    values = form_values(await read_form(request), CAPACITY_FIELDS)
    since, capacities = parse_day(values["since"]), parse_capacities(values["capacities"])
    if since is None or capacities is None:
        errors = {"since": "plsp.error.date"} if since is None else {}
        if capacities is None:
            errors["capacities"] = "plsp.error.capacities"
        failed = Failed("capacities", values, errors, clinic.id)
        return await _page(request, user, _shown_quarter(values), 422, failed)
    await set_capacities(request.app[REDIS], user_actor(user), clinic.id, since, capacities)
    raise _back(values, f"clinic-{clinic.id}")


@routes.post(SUBSCRIPTIONS_PATH + "/clinics/{clinic_id}/vendor")
async def vendor_post(request: web.Request) -> web.Response:
    """The clinic's LPS vendor from a date; bad input shows the page again (422), unchanged."""
    user = await require_user(request, UserRole.ADMIN)
    redis = request.app[REDIS]
    clinic = await _clinic(request)
    values = form_values(await read_form(request), VENDOR_FIELDS)
    since = parse_day(values["since"])
    vendor = await get_vendor(redis, values["vendor"][:MAX_ID]) if values["vendor"] else None
    if since is None or vendor is None:
        errors = {"since": "plsp.error.date"} if since is None else {}
        if vendor is None:
            errors["vendor"] = "plsp.error.vendor"
        failed = Failed("vendor", values, errors, clinic.id)
        return await _page(request, user, _shown_quarter(values), 422, failed)
    await set_vendor(redis, user_actor(user), clinic.id, since, vendor.id)
    raise _back(values, f"clinic-{clinic.id}")


@routes.post(f"{SUBSCRIPTIONS_PATH}/prices")
async def price_post(request: web.Request) -> web.Response:
    """Propose a price from the 1st of a coming month; another admin approves it before it
    counts. Bad input shows the page again (422), unchanged."""
    user = await require_user(request, UserRole.ADMIN)
    lang = request_language(request)
    values = form_values(await read_form(request), PRICE_FIELDS)
    since, price = parse_day(values["since"]), parse_price(values["price"], lang)
    errors = {"price": "plsp.error.price"} if price is None else {}
    if since is None:
        errors["since"] = "plsp.error.date"
    if since is not None and price is not None:
        try:
            await propose_price(request.app[REDIS], user_actor(user), since, price)
        except ProposalRefused as refused:
            field = "price" if refused.code == "price" else "since"
            errors[field] = f"plsp.error.{refused.code}"
    if errors:
        failed = Failed("price", values, errors)
        return await _page(request, user, _shown_quarter(values), 422, failed)
    raise _back(values, "prices")


@routes.post(SUBSCRIPTIONS_PATH + "/prices/{proposal_id}/{decision:approve|reject}")
async def price_decision(request: web.Request) -> web.Response:
    """Another admin approves or rejects a proposed price; a refusal is named on the page."""
    user = await require_user(request, UserRole.ADMIN)
    values = form_values(await read_form(request), ("quarter",))
    proposal_id = request.match_info["proposal_id"][:MAX_ID]
    approve = request.match_info["decision"] == "approve"
    quarter = _shown_quarter(values)
    try:
        await decide_price(request.app[REDIS], user_actor(user), proposal_id, approve)
    except ProposalRefused as refused:
        raise web.HTTPSeeOther(
            f"{SUBSCRIPTIONS_PATH}?quarter={quarter}&refused={refused.code}#prices"
        ) from None
    raise web.HTTPSeeOther(f"{SUBSCRIPTIONS_PATH}?quarter={quarter}&saved=1#prices")


@routes.get(f"{SUBSCRIPTIONS_PATH}/invoices.csv")
async def invoices_csv(request: web.Request) -> web.Response:
    """`?quarter=2025Q1&vendor=<id>`: that vendor's lines for the quarter, amounts in kroner
    with a dot ("720.00"). A vendor with no lines gets the header only."""
    await require_user(request, UserRole.ADMIN)
    redis = request.app[REDIS]
    quarter = _quarter(request.query.get("quarter", ""))
    if quarter is None:
        return json_error(400, "bad_quarter", "quarter must be a year and quarter, e.g. 2025Q1")
    vendor_id = request.query.get("vendor", "")[:MAX_ID]
    vendor = await get_vendor(redis, vendor_id) if vendor_id else None
    if vendor is None:
        return json_error(400, "bad_vendor", "vendor must be the id of a vendor")
    invoices = (await _load(redis, quarter)).invoices
    return csv_export(
        request,
        invoice_csv(quarter, invoices.for_vendor(vendor.id)),
        f"almenvideo-plsp-{quarter}-{vendor.id}.csv",
        INVOICE_DECIMALS,
    )


@routes.post(f"{SUBSCRIPTIONS_PATH}/issue")
async def issue_post(request: web.Request) -> web.Response:
    """Issue the shown quarter (`period=2026Q1`) or its year (`period=2026`): the same as
    `almenvideo invoices issue`. Issuing what is issued already changes nothing."""
    user = await require_user(request, UserRole.ADMIN)
    values = form_values(await read_form(request), ("period", "quarter"))
    try:
        period = Period.parse(values["period"])
    except ValueError:
        return json_error(400, "bad_period", "period must be a quarter (2026Q1) or a year (2026)")
    made = await issue(request.app[REDIS], user_actor(user), period)
    shown = _shown_quarter(values)
    outcome = f"issued={made.number}" if made else "issued=0"
    raise web.HTTPSeeOther(f"{SUBSCRIPTIONS_PATH}?quarter={shown}&{outcome}#invoices")


@routes.get(SUBSCRIPTIONS_PATH + "/issued/{number}.csv")
async def issued_invoice_csv(request: web.Request) -> web.Response:
    """One issued invoice by its number, exactly as issued (it never changes)."""
    await require_user(request, UserRole.ADMIN)
    number = request.match_info["number"][:MAX_ID]
    for found in await list_issues(request.app[REDIS]):
        for inv in found.invoices:
            if inv.number == number:
                return csv_export(
                    request,
                    issued_csv(found, inv),
                    f"almenvideo-plsp-invoice-{number}.csv",
                    ISSUED_DECIMALS,
                )
    raise web.HTTPNotFound()


MAX_EXTRACT = 200_000  # characters: a whole-country extract is about 40,000


@routes.post(f"{SUBSCRIPTIONS_PATH}/capacities/import")
async def capacities_import(request: web.Request) -> web.Response:
    """Load GP capacities from a register extract (a CSV file, or pasted text) and show the
    report of every row: changed, unchanged, unknown clinic, conflict or bad row."""
    user = await require_user(request, UserRole.ADMIN)
    form = await read_form(request)
    upload = form.get("file")
    if isinstance(upload, web.FileField):
        text = upload.file.read(MAX_EXTRACT + 1).decode("utf-8", errors="replace")
    else:
        text = str(form.get("extract", ""))
    if not text.strip() or len(text) > MAX_EXTRACT:
        return json_error(400, "bad_extract", "send a CSV extract: ydernummer, count, valid from")
    apply = form.get("preview") != "1"
    report = await import_capacities(request.app[REDIS], user_actor(user), text, apply=apply)
    response = render(
        request,
        "admin_capacity_import.html",
        here=SUBSCRIPTIONS_PATH,
        user=user,
        applied=apply,
        rows=report,
        counts={status: sum(1 for r in report if r.status == status) for status in STATUSES},
    )
    return no_store(response)
