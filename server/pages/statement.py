"""A GP's own honorarium statement: per programme they are enrolled in, what they earned,
were paid and are still owed, with the cap; and a quarter's entries, with the rule or the
reason behind each, as a page and as CSV. Only ever the GP's own entries.
"""

from __future__ import annotations

from aiohttp import web

from server.appkeys import REDIS
from server.auth.web import require_user
from server.clock import local_day, now
from server.pages.honorariaviews import csv_response, statement_view
from server.pages.render import render
from server.pilots import ledger, statements
from server.responses import no_store
from server.store.honoraria import gp_enrolments, read_ledger
from server.store.users import UserRole

routes = web.RouteTableDef()


@routes.get("/statement")
async def statement_page(request: web.Request) -> web.Response:
    user = await require_user(request, UserRole.GP)
    redis = request.app[REDIS]
    entries, payouts = await read_ledger(redis)
    enrolled = await gp_enrolments(redis, user.id)
    own = [e for e in entries if e.gp_id == user.id]
    today = local_day(now())
    programmes = []
    for programme, enrolment in enrolled:
        rules = programme.current_rules(today)
        figures = ledger.balance(
            ledger.of(own, programme.id), payouts, rules.cap_ore if rules else 0
        )
        programmes.append(
            {
                "id": programme.id,
                "name": programme.name,
                "starts": enrolment.starts,
                "ends": enrolment.ends,
                "figures": figures,
            }
        )
    quarters = statements.quarters(own)
    quarter = request.query.get("quarter", "")
    if quarter not in quarters:
        quarter = quarters[0] if quarters else ""
    names = {p.id: p.name for p, _ in enrolled}
    response = render(
        request,
        "statement.html",
        user=user,
        programmes=programmes,
        quarters=quarters,
        quarter=quarter,
        statement=statement_view(own, payouts, quarter, names, {user.id: user.display_name}),
    )
    return no_store(response)


@routes.get("/statement.csv")
async def statement_csv(request: web.Request) -> web.Response:
    """`?quarter=2025Q1`: the GP's own entries of that quarter."""
    user = await require_user(request, UserRole.GP)
    redis = request.app[REDIS]
    entries, payouts = await read_ledger(redis)
    own = [e for e in entries if e.gp_id == user.id]
    names = {p.id: p.name for p, _ in await gp_enrolments(redis, user.id)}
    return csv_response(
        request, own, payouts, names, {user.id: user.display_name}, "almenvideo-honorar"
    )
