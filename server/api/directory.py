"""The clinic directory for other systems (the Kontakt Læge app, the municipalities' care
records): `GET /api/v1/directory/clinics/{ydernummer}` with an organisation's API key.
Each look-up is audited as the organisation's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from server.api.absences import AbsenceOut, absence_json
from server.api.auth import require_organisation
from server.api.problems import problem
from server.api.spec import ApiRoutes
from server.appkeys import REDIS
from server.clock import iso_local
from server.directory.lookup import Entry, look_up
from server.responses import NO_STORE
from server.waitingroom.hours import WEEKDAYS


class Hours(BaseModel):
    opens: str
    closes: str


class DirectoryEntry(BaseModel):
    ydernummer: str
    name: str
    address: str
    back_door_phone: str
    open_now: bool
    status_reason: str
    next_change: datetime | None
    opening_hours: dict[str, list[Hours]]
    current_absence: AbsenceOut | None
    next_absence: AbsenceOut | None


routes = ApiRoutes(tag="directory", auth="organisation")


def entry_json(entry: Entry) -> dict[str, Any]:
    clinic, state = entry.clinic, entry.openness
    return {
        "ydernummer": clinic.ydernummer,
        "name": clinic.name,
        "address": clinic.address,
        "back_door_phone": clinic.back_door_phone,
        "open_now": state.open,
        "status_reason": state.reason,
        "next_change": iso_local(state.next_change) if state.next_change else None,
        "opening_hours": {
            day: [{"opens": a, "closes": b} for a, b in clinic.opening_hours.get(day, [])]
            for day in WEEKDAYS
        },
        "current_absence": absence_json(state.current_absence) if state.current_absence else None,
        "next_absence": absence_json(state.next_absence) if state.next_absence else None,
    }


@routes.get(
    "/api/v1/directory/clinics/{ydernummer}",
    summary="A clinic's back-door number, opening state and absences (professionals only)",
    responses={200: DirectoryEntry},
    errors=(404,),
)
async def directory_clinic(request: web.Request) -> web.Response:
    org = await require_organisation(request)
    entry = await look_up(
        request.app[REDIS],
        request.match_info["ydernummer"],
        actor=f"organisation:{org.id}",
        organisation_id=org.id,
        channel="api",
    )
    if entry is None:
        raise problem(404, "unknown_clinic", "no clinic has this ydernummer")
    return web.json_response(entry_json(entry), headers=NO_STORE)  # has the back-door number
