"""The clinic directory for professionals: search, and one clinic's page with its back-door
number, whether it is open now, and its absences with the substitute.

Municipality staff (`staff`, `org_admin`) and platform admins may read it. GPs may not: they
are not who it is for, and a GP's own clinic's facts are on its settings page. Every clinic
page shown is audited (`directory.viewed`); the search results carry no back-door number.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.appkeys import REDIS
from server.auth.web import require_user
from server.directory.lookup import look_up
from server.directory.search import MAX_QUERY, search
from server.i18n import request_language
from server.pages.render import error_page, format_time, render
from server.phone import tel_uri
from server.responses import no_store
from server.store.absences import Absence
from server.store.clinics import list_clinics
from server.store.users import UserRole
from server.waitingroom.hours import WEEKDAYS, format_spans

READERS = (UserRole.STAFF, UserRole.ORG_ADMIN, UserRole.ADMIN)

routes = web.RouteTableDef()


@routes.get("/directory")
async def directory_page(request: web.Request) -> web.Response:
    user = await require_user(request, *READERS)
    query = request.query.get("q", "").strip()[:MAX_QUERY]
    found = search(await list_clinics(request.app[REDIS]), query) if query else None
    return render(request, "directory.html", user=user, query=query, found=found)


def _absence_view(a: Absence | None, lang: str) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "kind": a.kind,
        "start": format_time(a.start, lang),
        "end": format_time(a.end, lang),
        "substitute": a.substitute,
        "tel": tel_uri(a.substitute.phone),
    }


@routes.get("/directory/clinics/{ydernummer}")
async def clinic_page(request: web.Request) -> web.Response:
    user = await require_user(request, *READERS)
    lang = request_language(request)
    entry = await look_up(
        request.app[REDIS],
        request.match_info["ydernummer"],
        actor=f"user:{user.id}",
        organisation_id=user.organisation_id,
        channel="web",
        lang=lang,
    )
    if entry is None:
        return error_page(request, 404, "clinic_unknown")
    clinic, state = entry.clinic, entry.openness
    response = render(
        request,
        "directory_clinic.html",
        user=user,
        clinic=clinic,
        state=state,
        back_door_tel=tel_uri(clinic.back_door_phone),
        phone_tel=tel_uri(clinic.phone),
        next_change=format_time(state.next_change, lang),
        today=format_spans(state.today),
        week=[(day, format_spans(clinic.opening_hours.get(day, []))) for day in WEEKDAYS],
        has_hours=any(clinic.opening_hours.values()),
        current=_absence_view(state.current_absence, lang),
        upcoming=_absence_view(state.next_absence, lang),
    )
    return no_store(response)  # it carries the back-door number
