"""The success rate of calls (admin only): per ISO week and clinic, attempts, success rate,
setup p50/p95 and share relayed; the failures of a week with their reasons; and the
figures as CSV. The rules of what counts are in server/callquality/success.py."""

from __future__ import annotations

import re

from aiohttp import web

from server.appkeys import REDIS
from server.auth.web import require_user
from server.callquality.export import DECIMAL_COLUMNS, calls_csv
from server.callquality.success import (
    Attempt,
    Verdict,
    failures,
    iso_week,
    judge,
    reason_counts,
    weekly,
)
from server.clock import local_day, now
from server.i18n import request_language
from server.pages.csvexport import csv_export
from server.pages.render import format_time, render
from server.responses import no_store
from server.store.callattempts import RETENTION_SECONDS, attempts_between
from server.store.clinics import get_clinic
from server.store.connection import Redis
from server.store.users import UserRole

CALLS_PATH = "/admin/calls"
WEEK = re.compile(r"^\d{4}-W\d{2}$")
NONE = "–"

routes = web.RouteTableDef()


async def _judged(redis: Redis, at: float) -> list[tuple[Attempt, Verdict]]:
    return [(a, judge(a, at)) for a in await attempts_between(redis, at - RETENTION_SECONDS, at)]


async def _clinic_names(redis: Redis, clinic_ids: set[str]) -> dict[str, str]:
    names = {}
    for clinic_id in sorted(clinic_ids):
        clinic = await get_clinic(redis, clinic_id)
        names[clinic_id] = clinic.name if clinic else clinic_id
    return names


def _percent(per_mille: int | None, lang: str) -> str:
    if per_mille is None:
        return NONE
    whole, tenth = divmod(per_mille, 10)
    return f"{whole}{',' if lang == 'da' else '.'}{tenth} %"


def _seconds(ms: int | None, lang: str) -> str:
    if ms is None:
        return NONE
    text = f"{ms / 1000:.1f} s"
    return text.replace(".", ",") if lang == "da" else text


@routes.get(CALLS_PATH)
async def calls_page(request: web.Request) -> web.Response:
    user = await require_user(request, UserRole.ADMIN)
    redis = request.app[REDIS]
    lang = request_language(request)
    at = now()
    this_week = iso_week(at)
    last_week = iso_week(at - 7 * 86400)
    asked = request.query.get("week", "")
    week = asked if WEEK.match(asked) else last_week
    judged = await _judged(redis, at)
    rows = weekly(judged)
    failed = failures(judged, week)
    names = await _clinic_names(redis, {r.clinic_id for r in rows})
    weeks = sorted({this_week, last_week, week, *(r.week for r in rows)}, reverse=True)
    response = render(
        request,
        "admin_calls.html",
        user=user,
        week=week,
        weeks=weeks,
        rows=[
            {
                "week": r.week,
                "clinic": names.get(r.clinic_id, r.clinic_id),
                "attempts": r.attempts,
                "succeeded": r.succeeded,
                "failed": r.failed,
                "success_rate": _percent(r.success_per_mille, lang),
                "p50": _seconds(r.setup_p50_ms, lang),
                "p95": _seconds(r.setup_p95_ms, lang),
                "relayed": _percent(r.relayed_per_mille, lang),
            }
            for r in rows
        ],
        reasons=[{"reason": str(k), "count": n} for k, n in reason_counts(failed).items()],
        failures=[
            {
                "at": format_time(a.started_at, lang),
                "clinic": names.get(a.clinic_id, a.clinic_id),
                "consultation_id": a.consultation_id,
                "reason": str(reason),
            }
            for a, reason in failed
        ],
    )
    return no_store(response)


@routes.get(f"{CALLS_PATH}.csv")
async def calls_csv_download(request: web.Request) -> web.Response:
    await require_user(request, UserRole.ADMIN)
    redis = request.app[REDIS]
    rows = weekly(await _judged(redis, now()))
    names = await _clinic_names(redis, {r.clinic_id for r in rows})
    filename = f"almenvideo-calls-{local_day(now())}.csv"
    return csv_export(request, calls_csv(rows, names), filename, DECIMAL_COLUMNS)
