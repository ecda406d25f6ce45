"""The budget dashboard (admin only): each road-map line's budget, spent and remaining, a
chart of the same figures, a form to record spending, and the lines as CSV.

The table, the chart and the export are built from the same figures, so they never
disagree. Spending is only ever added; a mistake is corrected from the list of spendings,
which fills the form with a negative amount naming the original.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from markupsafe import Markup

from server.accounts import user_actor
from server.appkeys import LOCALES, REDIS
from server.auth.web import require_user
from server.clock import local_day, now
from server.i18n import request_language
from server.pages.csvexport import csv_export
from server.pages.forms import form_values, read_form
from server.pages.render import render
from server.pilots.budgetchart import Bar, Group, Words, budget_chart
from server.pilots.budgets import Figures, Problems, Spending, entry_problems, spent_on, total
from server.pilots.money import BadAmount, format_kroner, parse_kroner, plain, typed_kroner
from server.pilots.roadmap import PROGRAMMES
from server.responses import no_store
from server.store.budgets import (
    BudgetLine,
    SpendingRefused,
    get_line,
    ledgers,
    list_lines,
    record_spending,
)
from server.store.connection import Redis
from server.store.users import User, UserRole, get_user

BUDGETS_PATH = "/admin/budgets"
FIELDS = ("line", "on", "amount", "text", "corrects")
LATEST = 5  # spendings shown per line
NONE = "–"
CSV_HEADER = (
    "programme_id", "programme", "line_id", "line", "year", "budget", "spent", "remaining",
)  # fmt: skip
DECIMAL_COLUMNS = frozenset({"budget", "spent", "remaining"})

routes = web.RouteTableDef()


def _percent(per_mille: int | None, lang: str) -> str:
    if per_mille is None:
        return NONE
    sign = "-" if per_mille < 0 else ""
    whole, tenth = divmod(abs(per_mille), 10)
    return f"{sign}{whole}{',' if lang == 'da' else '.'}{tenth} %"


def _figures_view(f: Figures, lang: str) -> dict[str, Any]:
    return {
        "budget_ore": f.budget_ore,
        "spent_ore": f.spent_ore,
        "remaining_ore": f.remaining_ore,
        "used": _percent(f.per_mille_used, lang),
        "overspent": f.overspent,
    }


def _programme_name(programme_id: str, lang: str) -> str:
    return next((p.name(lang) for p in PROGRAMMES if p.id == programme_id), programme_id)


def _by_programme(lines: Sequence[BudgetLine]) -> list[tuple[str, list[BudgetLine]]]:
    """Lines grouped by programme in the road map's order; within one, by year, then in
    the road map's order."""
    groups: dict[str, list[BudgetLine]] = {p.id: [] for p in PROGRAMMES}
    for line in sorted(lines, key=lambda x: (x.year, x.position)):
        groups.setdefault(line.programme_id, []).append(line)
    return [(programme_id, found) for programme_id, found in groups.items() if found]


async def _names(redis: Redis, spendings: Sequence[Spending]) -> dict[str, str]:
    """Who recorded each spending, as people read it: a user's name, else the actor itself."""
    names: dict[str, str] = {}
    for actor in {s.actor for s in spendings}:
        kind, _, user_id = actor.partition(":")
        user = await get_user(redis, user_id) if kind == "user" else None
        names[actor] = user.display_name if user else actor
    return names


def _spending_view(
    s: Spending, ledger: Sequence[Spending], names: dict[str, str]
) -> dict[str, Any]:
    left = s.amount_ore + sum(c.amount_ore for c in ledger if c.corrects == s.id)
    return {
        "id": s.id,
        "on": s.on,
        "amount_ore": s.amount_ore,
        "text": s.text,
        "who": names[s.actor],
        "correction_of": next((o for o in ledger if o.id == s.corrects), None),
        "correct_url": (  # an original with something left to correct
            f"{BUDGETS_PATH}?line={s.line_id}&corrects={s.id}#record"
            if s.corrects is None and left > 0
            else None
        ),
    }


def _correction_values(
    line_id: str, corrects: str, ledger: Sequence[Spending], lang: str
) -> dict[str, str] | None:
    """The form filled in to correct one original spending: what is left of it, negated."""
    original = next((s for s in ledger if s.id == corrects and s.corrects is None), None)
    if original is None:
        return None
    left = original.amount_ore + sum(s.amount_ore for s in ledger if s.corrects == corrects)
    return {
        "line": line_id,
        "on": original.on,  # the line's year: a correction is booked where the original was
        "amount": typed_kroner(-left, lang),
        "text": "",
        "corrects": corrects,
    }


def _chart(
    grouped: list[tuple[str, list[BudgetLine]]],
    figures: dict[str, Figures],
    t: Callable[..., str],
    lang: str,
) -> Markup:
    groups = [
        Group(
            _programme_name(programme_id, lang),
            [
                Bar(
                    line.id,
                    line.name(lang),
                    t(
                        "budget.detail",
                        spent=format_kroner(figures[line.id].spent_ore, lang),
                        budget=format_kroner(figures[line.id].budget_ore, lang),
                        used=_percent(figures[line.id].per_mille_used, lang),
                    ),
                    figures[line.id].budget_ore,
                    figures[line.id].spent_ore,
                )
                for line in members
            ],
        )
        for programme_id, members in grouped
    ]
    words = Words(
        t("budget.chart_title"), t("budget.chart_desc"), t("budget.budget"),
        t("budget.spent"), t("budget.over"),
    )  # fmt: skip
    return budget_chart(groups, words)


async def _page(
    request: web.Request,
    user: User,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: Problems | None = None,
) -> web.Response:
    redis = request.app[REDIS]
    lang = request_language(request)
    lines = await list_lines(redis)
    books = await ledgers(redis, [line.id for line in lines])
    figures = {line.id: Figures(line.budget_ore, spent_on(books[line.id])) for line in lines}
    names = await _names(redis, [s for ledger in books.values() for s in ledger])
    grouped = _by_programme(lines)

    if values is None:
        line_id, corrects = request.query.get("line", ""), request.query.get("corrects", "")
        values = _correction_values(line_id, corrects, books.get(line_id, []), lang) or {
            "line": "", "on": local_day(now()), "amount": "", "text": "", "corrects": "",
        }  # fmt: skip
    corrected = next((s for s in books.get(values["line"], []) if s.id == values["corrects"]), None)

    def t(key: str, **vals: object) -> str:
        return request.app[LOCALES].translate(lang, key, **vals)

    programmes = [
        {
            "id": programme_id,
            "name": _programme_name(programme_id, lang),
            "lines": [
                {
                    "id": line.id,
                    "year": line.year,
                    "name": line.name(lang),
                    **_figures_view(figures[line.id], lang),
                    "latest": [
                        _spending_view(s, books[line.id], names)
                        for s in reversed(books[line.id][-LATEST:])
                    ],
                }
                for line in members
            ],
            "total": _figures_view(total(figures[line.id] for line in members), lang),
        }
        for programme_id, members in grouped
    ]
    response = render(
        request,
        "admin_budgets.html",
        status=status,
        here=BUDGETS_PATH,
        user=user,
        programmes=programmes,
        overall=_figures_view(total(figures.values()), lang),
        years=[
            {
                "year": year,
                **_figures_view(total(figures[ln.id] for ln in lines if ln.year == year), lang),
            }
            for year in sorted({line.year for line in lines})
        ],
        chart=_chart(grouped, figures, t, lang),
        values=values,
        errors={field: f"budget.error.{code}" for field, code in (errors or {}).items()},
        correcting=corrected,
        recorded="recorded" in request.query,
        latest=LATEST,
    )
    return no_store(response)


@routes.get(BUDGETS_PATH)
async def budgets_page(request: web.Request) -> web.Response:
    return await _page(request, await require_user(request, UserRole.ADMIN))


@routes.post(f"{BUDGETS_PATH}/spendings")
async def record_spending_post(request: web.Request) -> web.Response:
    """Record a spending or a correction; bad input shows the page again (422), unchanged."""
    user = await require_user(request, UserRole.ADMIN)
    redis = request.app[REDIS]
    lang = request_language(request)
    values = form_values(await read_form(request), FIELDS)
    try:
        amount_ore = parse_kroner(values["amount"], lang)
    except BadAmount:
        problems = entry_problems(values["on"], values["text"]) | {"amount": "amount"}
        if await get_line(redis, values["line"]) is None:
            problems["line"] = "line"
        return await _page(request, user, 422, values, problems)
    try:
        await record_spending(
            redis, values["line"], amount_ore, values["on"], values["text"],
            user_actor(user), values["corrects"] or None,
        )  # fmt: skip
    except SpendingRefused as refused:
        return await _page(request, user, 422, values, refused.problems)
    raise web.HTTPSeeOther(f"{BUDGETS_PATH}?recorded=1#spendings-{values['line']}")


@routes.get(f"{BUDGETS_PATH}.csv")
async def budgets_csv(request: web.Request) -> web.Response:
    """The lines with budget, spent and remaining in kroner ("1234.50"), names in the
    reader's language."""
    await require_user(request, UserRole.ADMIN)
    redis = request.app[REDIS]
    lang = request_language(request)
    lines = await list_lines(redis)
    books = await ledgers(redis, [line.id for line in lines])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for line in (line for _, members in _by_programme(lines) for line in members):
        f = Figures(line.budget_ore, spent_on(books[line.id]))
        writer.writerow(
            [
                line.programme_id, _programme_name(line.programme_id, lang), line.id,
                line.name(lang), str(line.year), plain(f.budget_ore), plain(f.spent_ore),
                plain(f.remaining_ore),
            ]
        )  # fmt: skip
    filename = f"almenvideo-budgets-{local_day(now())}.csv"
    return csv_export(request, out.getvalue(), filename, DECIMAL_COLUMNS)
