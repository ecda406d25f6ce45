"""The clinic's settings page: phones, address, opening and video hours, waiting-room limits
and absences.

A GP edits only their own clinic: the clinic comes from the session, never from the URL.
Each form posts to its own address and, when valid, redirects back (post/redirect/get);
when not, the page is shown again with the typed values and a message per field.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from server.appkeys import REDIS
from server.auth.actor import Actor
from server.auth.web import require_user
from server.clock import local, now
from server.daterange import LAST_DAY
from server.directory.absences import add_absence, remove_absence
from server.i18n import request_language
from server.pages.forms import read_form
from server.pages.render import format_time, render
from server.phone import phone_ok
from server.pilots.invoices import in_force
from server.pilots.issuing import lines_for
from server.store.absences import (
    KINDS,
    Substitute,
    list_absences,
    period_problem,
    substitute_name_ok,
)
from server.store.clinics import Clinic, Hours, get_clinic, save_clinic
from server.store.connection import Redis
from server.store.events import EventType, append_event
from server.store.invoices import list_issues
from server.store.subscriptions import price_list
from server.store.users import User, UserRole
from server.waitingroom.availability import availability, local_instant
from server.waitingroom.hours import WEEKDAYS, HoursProblem, format_spans, parse_spans

SETTINGS_PATH = "/clinic/settings"
MAX_MINUTES = 240
MAX_TEXT = 100
NOTICES = ("saved", "added", "removed", "gone")
ABSENCE_FIELDS = ("kind", "start", "end", "substitute_name", "substitute_phone")

Form = MultiDictProxy[str | bytes | Any]
Errors = dict[str, str]

routes = web.RouteTableDef()


def parse_minutes(text: str, least: int) -> int | None:
    """Whole minutes from `least` to MAX_MINUTES, or None."""
    if not text.isdigit() or len(text) > 3 or not least <= int(text) <= MAX_MINUTES:
        return None
    return int(text)


def parse_local(text: str) -> float | None:
    """A `datetime-local` value ("2026-07-01T08:00"), Copenhagen wall clock, as UTC seconds."""
    try:
        wall = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if wall.tzinfo is not None else local_instant(wall)


def _field(form: Form, name: str) -> str:
    return str(form.get(name, "")).strip()[:MAX_TEXT]


def _parse_hours(form: Form, prefix: str, errors: Errors) -> Hours:
    """A week of hours from the fields `<prefix>_mon` .. `<prefix>_sun`."""
    hours: Hours = {}
    for day in WEEKDAYS:
        try:
            spans = parse_spans(_field(form, f"{prefix}_{day}"))
        except HoursProblem as problem:
            errors[f"{prefix}_{day}"] = f"clinic.error.hours_{problem.code}"
            continue
        if spans:
            hours[day] = spans
    return hours


def parse_settings(form: Form, clinic: Clinic) -> tuple[Clinic, Errors]:
    """The clinic with the form's values, and the form's problems (field -> message key).
    The back-door number and the address may be left empty."""
    errors: Errors = {}
    phone = _field(form, "phone")
    if not phone_ok(phone):
        errors["phone"] = "clinic.error.phone"
    back_door_phone = _field(form, "back_door_phone")
    if back_door_phone and not phone_ok(back_door_phone):
        errors["back_door_phone"] = "clinic.error.phone"
    address = _field(form, "address")
    if not address.isprintable():
        errors["address"] = "clinic.error.address"
    hours = _parse_hours(form, "hours", errors)
    opening_hours = _parse_hours(form, "opening", errors)
    # A wait limit of 0 means none; the alert always has a threshold.
    limits = {}
    for name, least in (("wait_limit_minutes", 0), ("wait_alert_minutes", 1)):
        minutes = parse_minutes(_field(form, name), least)
        if minutes is None:
            errors[name] = f"clinic.error.minutes_from_{least}"
        else:
            limits[name] = minutes
    updated = replace(
        clinic,
        phone=phone,
        back_door_phone=back_door_phone,
        address=address,
        dropin_hours=hours,
        opening_hours=opening_hours,
        wait_limit_minutes=limits.get("wait_limit_minutes", clinic.wait_limit_minutes),
        wait_alert_minutes=limits.get("wait_alert_minutes", clinic.wait_alert_minutes),
    )
    return updated, errors


def parse_absence(form: Form, at: float) -> tuple[dict[str, Any], Errors]:
    """The absence's fields (kind, start, end, substitute), and the form's problems."""
    errors: Errors = {}
    kind = _field(form, "kind")
    if kind not in KINDS:
        errors["kind"] = "clinic.error.kind"
    start, end = parse_local(_field(form, "start")), parse_local(_field(form, "end"))
    if start is None:
        errors["start"] = "clinic.error.datetime"
    if end is None:
        errors["end"] = "clinic.error.datetime"
    elif problem := period_problem(start, end, at):
        errors["end"] = f"clinic.error.absence_{problem}"
    name = _field(form, "substitute_name")
    if not substitute_name_ok(name):
        errors["substitute_name"] = "clinic.error.substitute_name"
    phone = _field(form, "substitute_phone")
    if not phone_ok(phone):
        errors["substitute_phone"] = "clinic.error.phone"
    fields = {"kind": kind, "start": start, "end": end, "substitute": Substitute(name, phone)}
    return fields, errors


async def _gp_and_clinic(request: web.Request) -> tuple[User, Clinic]:
    """The logged-in GP and their clinic; anyone else is sent to log in."""
    user = await require_user(request, UserRole.GP)
    clinic = await get_clinic(request.app[REDIS], user.clinic_id)
    if clinic is None:
        raise web.HTTPNotFound()
    return user, clinic


def _settings_values(clinic: Clinic) -> dict[str, str]:
    values = {
        f"{prefix}_{day}": format_spans(hours.get(day, []))
        for prefix, hours in (("hours", clinic.dropin_hours), ("opening", clinic.opening_hours))
        for day in WEEKDAYS
    }
    return {
        **values,
        "phone": clinic.phone,
        "back_door_phone": clinic.back_door_phone,
        "address": clinic.address,
        "wait_limit_minutes": str(clinic.wait_limit_minutes),
        "wait_alert_minutes": str(clinic.wait_alert_minutes),
    }


async def _page(
    request: web.Request,
    user: User,
    clinic: Clinic,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: Errors | None = None,
    absence_values: dict[str, str] | None = None,
    absence_errors: Errors | None = None,
) -> web.Response:
    at = now()
    lang = request_language(request)
    absences = await list_absences(request.app[REDIS], clinic.id)
    state = availability(clinic.dropin_hours, absences, at)
    notice = request.query.get("done")
    return render(
        request,
        "clinic_settings.html",
        status=status,
        user=user,
        clinic=clinic,
        weekdays=WEEKDAYS,
        values=values or _settings_values(clinic),
        errors=errors or {},
        absence_values=absence_values or dict.fromkeys(ABSENCE_FIELDS, "") | {"kind": KINDS[0]},
        absence_errors=absence_errors or {},
        kinds=KINDS,
        absences=[
            {
                "id": a.id,
                "kind": a.kind,
                "start": format_time(a.start, lang),
                "end": format_time(a.end, lang),
                "current": a.covers(at),
                "substitute": a.substitute,
            }
            for a in absences
            if a.end > at
        ],
        state=state,
        next_open=format_time(state.next_open, lang),
        absent_until=format_time(state.absent_until, lang),
        notice=notice if notice in NOTICES else None,
        min_datetime=local(at).strftime("%Y-%m-%dT%H:%M"),
        max_datetime=f"{LAST_DAY.isoformat()}T23:59",
        subscription=await _subscription(request.app[REDIS], clinic.id, at),
    )


async def _subscription(redis: Redis, clinic_id: str, at: float) -> dict[str, Any]:
    """The clinic's own issued PLSP invoice lines (never another clinic's), and the price
    per capacity now and any coming one."""
    today = local(at).date()
    prices = await price_list(redis)
    lines = [
        {
            "invoice": inv.number,
            "vendor": inv.vendor_name,
            "issued_on": local(datetime.fromisoformat(issue.issued_at).timestamp()).date(),
            "kind": line.kind.value,
            "quarter": line.quarter,
            "capacities": line.capacities,
            "amount_ore": line.amount_ore,
            "vat_ore": line.vat_ore,
        }
        for issue, inv, line in lines_for(await list_issues(redis), clinic_id=clinic_id)
    ]
    return {
        "lines": list(reversed(lines)),
        "price_now": in_force(prices, today),
        "coming": [(since, price) for since, price in prices.items() if since > today],
    }


def _done(what: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{SETTINGS_PATH}?done={what}")


@routes.get(SETTINGS_PATH)
async def settings_page(request: web.Request) -> web.Response:
    user, clinic = await _gp_and_clinic(request)
    return await _page(request, user, clinic)


@routes.post(SETTINGS_PATH)
async def save_settings(request: web.Request) -> web.Response:
    user, clinic = await _gp_and_clinic(request)
    form = await read_form(request)
    updated, errors = parse_settings(form, clinic)
    if errors:
        values = {name: _field(form, name) for name in _settings_values(clinic)}
        return await _page(request, user, clinic, 400, values=values, errors=errors)
    if updated != clinic:
        await save_clinic(request.app[REDIS], updated)
        await append_event(
            request.app[REDIS], EventType.CLINIC_UPDATED, clinic_id=clinic.id, by=user.id
        )
    raise _done("saved")


@routes.post("/clinic/absences")
async def add_absence_post(request: web.Request) -> web.Response:
    user, clinic = await _gp_and_clinic(request)
    form = await read_form(request)
    at = now()
    fields, errors = parse_absence(form, at)
    if errors:
        values = {name: _field(form, name) for name in ABSENCE_FIELDS}
        return await _page(request, user, clinic, 400, absence_values=values, absence_errors=errors)
    await add_absence(request.app[REDIS], Actor.of_user(user), clinic.id, at=at, **fields)
    raise _done("added")


@routes.post("/clinic/absences/{absence_id}/remove")
async def remove_absence_post(request: web.Request) -> web.Response:
    """Removing an absence that is already gone (a second click) is not an error."""
    user, clinic = await _gp_and_clinic(request)
    absence_id = request.match_info["absence_id"]
    if not await remove_absence(request.app[REDIS], Actor.of_user(user), clinic.id, absence_id):
        raise _done("gone")
    raise _done("removed")
