"""The admin's audit viewer: who read or changed what, filtered, and as CSV."""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from server.appkeys import REDIS
from server.auth.web import require_user
from server.clock import iso_utc, local_day, now
from server.i18n import request_language
from server.pages.csvexport import csv_export
from server.pages.render import format_time, render
from server.responses import no_store
from server.retention.auditview import AuditFilter, audit_csv, newest_first
from server.retention.job import day_start
from server.store.audit import read_audit
from server.store.users import UserRole

PATH = "/admin/audit"
SCANNED = 50_000  # the newest entries a view searches
SHOWN = 500
IN_CSV = 20_000

routes = web.RouteTableDef()


def _filter(request: web.Request) -> tuple[AuditFilter, dict[str, str]]:
    q = {
        k: request.query.get(k, "").strip()[:100]
        for k in ("action", "actor", "subject", "from", "to")
    }
    try:
        since = day_start(q["from"]) if q["from"] else None
        until = day_start(q["to"]) + 86400 if q["to"] else None
    except ValueError:
        raise web.HTTPBadRequest(text="from and to are days: YYYY-MM-DD") from None
    return AuditFilter(q["action"], q["actor"], q["subject"], since, until), q


@routes.get(PATH)
async def audit_page(request: web.Request) -> web.Response:
    user = await require_user(request, UserRole.ADMIN)
    wanted, values = _filter(request)
    lang = request_language(request)
    found = newest_first(await read_audit(request.app[REDIS], SCANNED), wanted, SHOWN)
    rows = [
        {
            "at": format_time(e.at, lang),
            "at_utc": iso_utc(e.at),
            "action": e.action,
            "actor": e.actor,
            "data": ", ".join(f"{k}={v}" for k, v in sorted(e.data.items())),
        }
        for e in found
    ]
    csv_url = URL(f"{PATH}.csv").with_query({k: v for k, v in values.items() if v})
    response = render(
        request, "admin_audit.html", here=PATH, user=user, rows=rows, values=values,
        shown=SHOWN, csv_url=str(csv_url),
    )  # fmt: skip
    return no_store(response)


@routes.get(f"{PATH}.csv")
async def audit_csv_download(request: web.Request) -> web.Response:
    await require_user(request, UserRole.ADMIN)
    wanted, _ = _filter(request)
    found = newest_first(await read_audit(request.app[REDIS], SCANNED), wanted, IN_CSV)
    return csv_export(request, audit_csv(found), f"almenvideo-audit-{local_day(now())}.csv")
