"""Pilot programmes for the admin: the list, a new programme with its first rules, and one
programme's page (rules from a date, enrolments, questionnaires, reversals, payout batches,
the per-GP report with cap status, spend against the budget line, quarterly statements).

Every post either changes something and goes back to the page (303), or changes nothing
and shows the page again with the form's problems (422). Amounts are typed and shown in
kroner in the page's language; the ledger holds øre.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from server.accounts import user_actor
from server.appkeys import REDIS
from server.auth.web import require_user
from server.clock import local_day, now
from server.honoraria.enrolment import enrol_gp, record_questionnaire
from server.i18n import request_language
from server.jsonerror import json_error
from server.pages.forms import Form, form_values, read_form
from server.pages.honorariaviews import (
    Ledger,
    csv_response,
    entry_view,
    gp_names,
    statement_view,
)
from server.pages.render import error_page, render
from server.pilots import ledger, statements
from server.pilots.budgets import day_ok
from server.pilots.money import BadAmount, parse_kroner, typed_kroner
from server.pilots.programmes import (
    AMOUNT_FIELDS,
    OPTIONAL_AMOUNTS,
    PilotProgramme,
    Problems,
    amount_problems,
    day_problems,
    enrolment_problems,
    programme_problems,
)
from server.pilots.roadmap import LINES_2025
from server.responses import no_store
from server.store.budgets import BudgetLine, list_lines
from server.store.clinics import list_clinics
from server.store.connection import Redis
from server.store.honoraria import (
    Refused,
    add_rules,
    create_programme,
    enrolments,
    get_enrolment,
    get_programme,
    list_programmes,
    pay,
    read_ledger,
    reverse,
)
from server.store.users import User, UserRole, clinic_users

PROGRAMMES_PATH = "/admin/programmes"
CREATE_FIELDS = ("name", "starts", "ends", "budget_line", *AMOUNT_FIELDS)
FORMS: dict[str, tuple[str, ...]] = {
    "rules": ("effective_from", *AMOUNT_FIELDS),
    "enrol": ("gp_id", "starts", "ends"),
    "questionnaire": ("gp_id", "on"),
    "reverse": ("entry_id", "reason"),
    "payout": ("up_to",),
}

routes = web.RouteTableDef()


async def _budget_lines(redis: Redis) -> list[BudgetLine]:
    """The budget store's lines; the road map's own until they are seeded."""
    return await list_lines(redis) or list(LINES_2025)


async def _gps(redis: Redis) -> list[tuple[User, str]]:
    """Every GP, with their clinic's name, by name."""
    found = [
        (user, clinic.name)
        for clinic in await list_clinics(redis)
        for user in await clinic_users(redis, clinic.id)
        if user.role == UserRole.GP
    ]
    return sorted(found, key=lambda pair: (pair[0].display_name, pair[1]))


def _amounts(values: Mapping[str, str], lang: str) -> dict[str, int | None]:
    """The typed amounts in øre; None for one that is not an amount."""
    read: dict[str, int | None] = {}
    for field in AMOUNT_FIELDS:
        if field in OPTIONAL_AMOUNTS and not values.get(field, "").strip():
            read[field] = 0
            continue
        try:
            read[field] = parse_kroner(values[field], lang)
        except BadAmount:
            read[field] = None
    return read


def _checked(amounts: dict[str, int | None]) -> dict[str, int]:
    return {field: value for field, value in amounts.items() if value is not None}


# The programme list


async def _list_page(
    request: web.Request,
    user: User,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: Problems | None = None,
) -> web.Response:
    redis = request.app[REDIS]
    lang = request_language(request)
    lines = {line.id: line for line in await _budget_lines(redis)}
    entries, _ = await read_ledger(redis)
    shown = [
        {
            "id": p.id,
            "name": p.name,
            "starts": p.starts,
            "ends": p.ends,
            "line": lines[p.budget_line].name(lang) if p.budget_line in lines else p.budget_line,
            "spend_ore": ledger.net(ledger.of(entries, p.id)),
            "enrolled": len(await enrolments(redis, p.id)),
        }
        for p in await list_programmes(redis)
    ]
    defaults = dict.fromkeys(CREATE_FIELDS, "") | {"budget_line": "pilot_honoraria"}
    response = render(
        request,
        "admin_programmes.html",
        status=status,
        here=PROGRAMMES_PATH,
        user=user,
        programmes=shown,
        lines=[(line.id, line.name(lang)) for line in lines.values()],
        values=values or defaults,
        errors=errors or {},
    )
    return no_store(response)


@routes.get(PROGRAMMES_PATH)
async def programmes_page(request: web.Request) -> web.Response:
    return await _list_page(request, await require_user(request, UserRole.ADMIN))


@routes.post(PROGRAMMES_PATH)
async def create_programme_post(request: web.Request) -> web.Response:
    user = await require_user(request, UserRole.ADMIN)
    redis = request.app[REDIS]
    lang = request_language(request)
    values = form_values(await read_form(request), CREATE_FIELDS)
    lines = {line.id: line.budget_ore for line in await _budget_lines(redis)}
    amounts = _amounts(values, lang)
    problems = programme_problems(
        values["name"], values["starts"], values["ends"], values["budget_line"], lines
    ) | amount_problems(amounts)
    if problems:
        return await _list_page(request, user, 422, values, problems)
    programme = await create_programme(
        redis, values["name"], values["starts"], values["ends"], values["budget_line"],
        _checked(amounts), user_actor(user),
    )  # fmt: skip
    raise web.HTTPSeeOther(f"{PROGRAMMES_PATH}/{programme.id}")


# One programme


def _form_defaults(programme: PilotProgramme, lang: str) -> dict[str, dict[str, str]]:
    today = local_day(now())
    day = min(max(today, programme.starts), programme.ends)
    rules = programme.current_rules(today)
    return {
        "rules": {"effective_from": day}
        | {field: typed_kroner(getattr(rules, f"{field}_ore", 0), lang) for field in AMOUNT_FIELDS},
        "enrol": {"gp_id": "", "starts": programme.starts, "ends": programme.ends},
        "questionnaire": {"gp_id": "", "on": day},
        "reverse": {"entry_id": "", "reason": ""},
        "payout": {"up_to": today},
    }


async def _programme_page(
    request: web.Request,
    user: User,
    programme: PilotProgramme,
    status: int = 200,
    form: str = "",
    values: dict[str, str] | None = None,
    errors: Problems | None = None,
) -> web.Response:
    redis = request.app[REDIS]
    lang = request_language(request)
    today = local_day(now())
    entries, payouts = await read_ledger(redis)
    own = ledger.of(entries, programme.id)
    gps = await _gps(redis)
    names = await gp_names(redis, {e.gp_id for e in own} | {u.id for u, _ in gps})
    rules = programme.current_rules(today)
    cap = rules.cap_ore if rules else 0
    enrolled = sorted(await enrolments(redis, programme.id), key=lambda e: names.get(e.gp_id, ""))
    line = next((x for x in await _budget_lines(redis) if x.id == programme.budget_line), None)
    line_spend = sum(
        ledger.net(ledger.of(entries, other.id))
        for other in await list_programmes(redis)
        if other.budget_line == programme.budget_line
    )
    quarter = request.query.get("quarter", "")
    quarters = statements.quarters(own)
    if quarter not in quarters:
        quarter = quarters[0] if quarters else ""
    forms = {
        name: {"values": v, "errors": {}} for name, v in _form_defaults(programme, lang).items()
    }
    if form:
        forms[form] = {"values": values or {}, "errors": errors or {}}
    reversed_ids = ledger.reversed_ids(own)
    own_payouts = [p for p in payouts if p.programme_id == programme.id]
    tables = Ledger(own, own_payouts)
    response = render(
        request,
        "admin_programme.html",
        status=status,
        here=f"{PROGRAMMES_PATH}/{programme.id}",
        user=user,
        programme=programme,
        rules=sorted(programme.rules, key=lambda r: r.version, reverse=True),
        current_rules=rules,
        budget={
            "line": line,
            "line_name": line.name(lang) if line else programme.budget_line,
            "spend_ore": ledger.net(own),
            "line_spend_ore": line_spend,
            "over": line is not None and line_spend > line.budget_ore,
        },
        report=[
            {
                "gp": names.get(e.gp_id, e.gp_id),
                "enrolment": e,
                "figures": ledger.balance(ledger.of(own, programme.id, e.gp_id), payouts, cap),
            }
            for e in enrolled
        ],
        entries=[
            entry_view(e, names, tables, reversible=e.id not in reversed_ids)
            for e in sorted(own, key=lambda e: e.at, reverse=True)
        ],
        payouts=[
            {
                "number": tables.numbers[p.id],
                "on": p.on,
                "count": len(p.pays),
                "total_ore": sum(e.amount_ore for e in own if e.id in p.pays),
            }
            for p in own_payouts
        ],
        quarters=quarters,
        quarter=quarter,
        statement=statement_view(own, payouts, quarter, {programme.id: programme.name}, names),
        gps=[(u.id, f"{u.display_name} ({clinic})") for u, clinic in gps],
        enrolled_gps=[(e.gp_id, names.get(e.gp_id, e.gp_id)) for e in enrolled],
        forms=forms,
    )
    return no_store(response)


async def _own_programme(request: web.Request) -> tuple[User, PilotProgramme | None]:
    user = await require_user(request, UserRole.ADMIN)
    programme = await get_programme(request.app[REDIS], request.match_info["programme_id"])
    return user, programme


def _done(programme: PilotProgramme, section: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PROGRAMMES_PATH}/{programme.id}#{section}")


@routes.get(PROGRAMMES_PATH + "/{programme_id}")
async def programme_page(request: web.Request) -> web.Response:
    user, programme = await _own_programme(request)
    if programme is None:
        return error_page(request, 404, "not_found")
    return await _programme_page(request, user, programme)


@routes.post(PROGRAMMES_PATH + "/{programme_id}/{action}")
async def programme_post(request: web.Request) -> web.Response:
    """`/admin/programmes/{id}/{action}`: rules, enrol, questionnaire, reverse or payout."""
    user, programme = await _own_programme(request)
    action = request.match_info["action"]
    if programme is None or action not in FORMS:
        return error_page(request, 404, "not_found")
    form = await read_form(request)
    values = form_values(form, FORMS[action])
    problems = await _apply(request, user, programme, action, values, form)
    if problems:
        return await _programme_page(request, user, programme, 422, action, values, problems)
    raise _done(programme, action)


async def _apply(
    request: web.Request,
    user: User,
    programme: PilotProgramme,
    action: str,
    values: dict[str, str],
    form: Form,
) -> Problems:
    """Do what the form asks; the problems if it changed nothing."""
    redis = request.app[REDIS]
    lang = request_language(request)
    actor = user_actor(user)
    if action == "rules":
        amounts = _amounts(values, lang)
        problems = day_problems(programme, "effective_from", values["effective_from"])
        problems |= amount_problems(amounts)
        if not problems:
            await add_rules(redis, programme.id, values["effective_from"], _checked(amounts), actor)
        return problems
    if action == "enrol":
        problems = enrolment_problems(programme, values["starts"], values["ends"])
        if values["gp_id"] not in {u.id for u, _ in await _gps(redis)}:
            problems["gp_id"] = "prog.error_gp"
        if not problems:
            await enrol_gp(
                redis, programme, values["gp_id"], values["starts"], values["ends"], actor
            )
        return problems
    if action == "questionnaire":
        problems = day_problems(programme, "on", values["on"])
        if await get_enrolment(redis, programme.id, values["gp_id"]) is None:
            problems["gp_id"] = "prog.error_not_enrolled"
        if not problems:
            await record_questionnaire(redis, programme, values["gp_id"], values["on"], actor)
        return problems
    try:
        if action == "reverse":
            entries, _ = await read_ledger(redis)
            if values["entry_id"] not in {e.id for e in ledger.of(entries, programme.id)}:
                return {"entry_id": "prog.error_entry"}
            await reverse(redis, values["entry_id"], values["reason"], actor)
        else:
            selected = tuple(str(v) for v in form.getall("entry", []))[:1000]
            if not selected and not day_ok(values["up_to"]):
                return {"up_to": "prog.error_date"}
            up_to = None if selected else values["up_to"]
            await pay(redis, programme.id, actor, up_to=up_to, selected=selected)
    except Refused as refused:
        return refused.problems
    return {}


@routes.get(PROGRAMMES_PATH + "/{programme_id}/statements.csv")
async def statements_csv(request: web.Request) -> web.Response:
    """`?quarter=2025Q1`: the programme's entries of that quarter."""
    await require_user(request, UserRole.ADMIN)
    redis = request.app[REDIS]
    programme = await get_programme(redis, request.match_info["programme_id"])
    if programme is None:
        return json_error(404, "unknown_programme", "no such programme")
    entries, payouts = await read_ledger(redis)
    own = ledger.of(entries, programme.id)
    names = await gp_names(redis, {e.gp_id for e in own})
    return csv_response(
        request, own, payouts, {programme.id: programme.name}, names,
        f"almenvideo-honoraria-{programme.id}",
    )  # fmt: skip
