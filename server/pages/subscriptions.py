"""The PLSP subscription (admin only): each clinic's capacities and LPS vendor over time,
the price list, and a quarter's invoice lines per vendor, on the page and as CSV.

The page and the CSV are built from the same `QuarterInvoices`, so they never disagree.
Histories are only added to (a date entered again corrects its value); the rules that turn
them into invoice lines are in `server.pilots.invoices`.
"""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web

from server.accounts import user_actor
from server.appkeys import LOCALES, REDIS
from server.auth.web import require_user
from server.clock import local, now
from server.i18n import request_language
from server.jsonerror import json_error
from server.pages import subscriptionviews as views
from server.pages.csvexport import csv_export
from server.pages.forms import form_values, read_form
from server.pages.render import render
from server.pages.subscriptionviews import SUBSCRIPTIONS_PATH
from server.pilots.capacityimport import BAD_ROW, CHANGED, CONFLICT, UNCHANGED, UNKNOWN_CLINIC
from server.pilots.invoices import (
    DECIMAL_COLUMNS as INVOICE_DECIMALS,
)
from server.pilots.invoices import (
    Quarter,
    invoice_csv,
    parse_capacities,
    parse_day,
    parse_price,
)
from server.pilots.issuing import (
    ISSUED_DECIMALS,
    Period,
    issued_csv,
)
from server.responses import no_store
from server.store.clinics import Clinic, get_clinic
from server.store.invoices import issue, list_issues
from server.store.subscriptions import (
    PROPOSED,
    ProposalRefused,
    decide_price,
    import_capacities,
    price_proposals,
    propose_price,
    set_capacities,
    set_vendor,
)
from server.store.users import User, UserRole
from server.store.vendors import get_vendor

CAPACITY_FIELDS = ("since", "capacities", "quarter")
VENDOR_FIELDS = ("since", "vendor", "quarter")
PRICE_FIELDS = ("since", "price", "quarter")

MAX_ID = 100  # longer than any id we make
STATUSES = (CHANGED, UNCHANGED, UNKNOWN_CLINIC, CONFLICT, BAD_ROW)
REFUSALS = frozenset({"unknown", "decided", "same_admin", "in_advance", "price"})

routes = web.RouteTableDef()


def _first_of_next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


async def _page(
    request: web.Request,
    user: User,
    quarter: Quarter,
    status: int = 200,
    failed: views.Failed | None = None,
    quarter_error: bool = False,
) -> web.Response:
    redis = request.app[REDIS]
    lang = request_language(request)
    ctx = views.Context(
        lang, lambda key, **values: request.app[LOCALES].translate(lang, key, **values)
    )
    loaded = await views.load(redis, quarter)
    price_defaults = {"since": _first_of_next_month(ctx.today).isoformat(), "price": ""}
    response = render(
        request,
        "admin_subscriptions.html",
        status=status,
        here=SUBSCRIPTIONS_PATH,
        user=user,
        quarter=quarter,
        quarter_error=quarter_error,
        quarters=views.quarter_choices(quarter, ctx.today),
        invoices=views.invoices_view(loaded.invoices, ctx),
        frozen=views.frozen_view(loaded.issues, quarter, ctx),
        issues=views.issues_view(loaded.issues),
        prices=loaded.prices,
        price_form=views.form_view(failed, "price", price_defaults),
        clinics=[
            views.clinic_view(s, loaded.vendor_names, failed, ctx) for s in loaded.subscribers
        ],
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
        failed = views.Failed("capacities", values, errors, clinic.id)
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
        failed = views.Failed("vendor", values, errors, clinic.id)
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
        failed = views.Failed("price", values, errors)
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
    invoices = (await views.load(redis, quarter)).invoices
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
