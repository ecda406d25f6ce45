"""LPS vendors push a clinic's absences: the same absences the settings page enters and the
waiting room obeys, under the same rules (`server.store.absences`), added and removed by the
same functions (`server.directory.absences`).

    GET    /api/v1/clinics/{ydernummer}/absences         the current and coming absences
    POST   /api/v1/clinics/{ydernummer}/absences         {kind, start, end, substitute{name, phone}}
    DELETE /api/v1/clinics/{ydernummer}/absences/{id}

A vendor may touch only the clinics it serves. Times are ISO 8601 with an offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from server.api.auth import require_vendor
from server.api.problems import problem
from server.api.spec import ApiRoutes
from server.api.validation import valid_body
from server.appkeys import REDIS
from server.auth.actor import Actor
from server.clock import iso_local, now
from server.daterange import SaneDatetime
from server.directory.absences import add_absence, remove_absence
from server.phone import phone_ok
from server.store.absences import (
    KINDS,
    PERIOD_PROBLEMS,
    Absence,
    Substitute,
    list_absences,
    period_problem,
    substitute_name_ok,
)
from server.store.clinics import Clinic, find_clinic
from server.store.retention import record_access
from server.store.vendors import Vendor


class SubstituteBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str
    phone: str

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not substitute_name_ok(name):
            raise PydanticCustomError(
                "substitute_name", "the substitute clinic's name, 1-100 characters"
            )
        return name

    @field_validator("phone")
    @classmethod
    def _phone(cls, phone: str) -> str:
        if not phone_ok(phone):
            raise PydanticCustomError("phone", "a phone number with 8 to 15 digits")
        return phone


class AbsenceBody(BaseModel):
    """Validated with `context={"at": now}`, the moment that decides what is past."""

    model_config = ConfigDict(
        extra="forbid",
        # What no JSON Schema keyword can say (it compares fields, or a field with now),
        # stated for the document; each breach is a 422 with the field error's code.
        json_schema_extra={
            "description": "Beyond this schema: "
            + "; ".join(
                f"{message} (`absence_{code}`)" for code, message in PERIOD_PROBLEMS.items()
            ),
            "x-rules": [
                {"code": f"absence_{code}", "rule": message}
                for code, message in PERIOD_PROBLEMS.items()
            ],
        },
    )

    kind: str = Field(json_schema_extra={"enum": list(KINDS)})
    start: SaneDatetime
    end: SaneDatetime = Field(description="after `start` and after now, at most 366 days on")
    substitute: SubstituteBody

    @field_validator("kind")
    @classmethod
    def _kind(cls, kind: str) -> str:
        if kind not in KINDS:
            raise PydanticCustomError("kind", "one of {kinds}", {"kinds": ", ".join(KINDS)})
        return kind

    @field_validator("end")
    @classmethod
    def _period(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        at = info.context["at"] if info.context else now()
        found = period_problem(start.timestamp() if start else None, end.timestamp(), at)
        if found:
            raise PydanticCustomError(f"absence_{found}", PERIOD_PROBLEMS[found])
        return end


class SubstituteOut(BaseModel):
    name: str
    phone: str


class AbsenceOut(BaseModel):
    id: str
    kind: str
    start: datetime
    end: datetime
    substitute: SubstituteOut


class AbsenceList(BaseModel):
    ydernummer: str
    absences: list[AbsenceOut]


routes = ApiRoutes(tag="absences")
ABSENCES = "/api/v1/clinics/{ydernummer}/absences"


def absence_json(a: Absence) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind,
        "start": iso_local(a.start),
        "end": iso_local(a.end),
        "substitute": {"name": a.substitute.name, "phone": a.substitute.phone},
    }


async def _served_clinic(request: web.Request) -> tuple[Vendor, Clinic]:
    vendor = await require_vendor(request)
    clinic = await find_clinic(request.app[REDIS], request.match_info["ydernummer"])
    if clinic is None:
        raise problem(404, "unknown_clinic", "no clinic has this ydernummer")
    if clinic.id not in vendor.clinic_ids:
        raise problem(403, "clinic_not_served", "this API key's vendor does not serve this clinic")
    await record_access(request.app[REDIS], clinic.id, now())
    return vendor, clinic


@routes.get(
    ABSENCES, summary="A clinic's current and coming absences", responses={200: AbsenceList},
    errors=(403, 404),
)  # fmt: skip
async def list_clinic_absences(request: web.Request) -> web.Response:
    _, clinic = await _served_clinic(request)
    at = now()
    absences = await list_absences(request.app[REDIS], clinic.id)
    return web.json_response(
        {
            "ydernummer": clinic.ydernummer,
            "absences": [absence_json(a) for a in absences if a.end > at],
        }
    )


@routes.post(
    ABSENCES, summary="Add an absence, with the clinic that covers", body=AbsenceBody,
    responses={201: AbsenceOut}, errors=(403, 404, 422),
)  # fmt: skip
async def add_clinic_absence(request: web.Request) -> web.Response:
    vendor, clinic = await _served_clinic(request)
    at = now()
    body = await valid_body(request, AbsenceBody, "the absence is not valid", {"at": at})
    substitute = Substitute(body.substitute.name, body.substitute.phone)
    start, end = body.start.timestamp(), body.end.timestamp()
    absence = await add_absence(
        request.app[REDIS], Actor.of_vendor(vendor), clinic.id, body.kind, start, end,
        substitute, at=at,
    )  # fmt: skip
    location = f"/api/v1/clinics/{clinic.ydernummer}/absences/{absence.id}"
    return web.json_response(absence_json(absence), status=201, headers={"Location": location})


@routes.delete(
    ABSENCES + "/{absence_id}", summary="Remove an absence", responses={204: None},
    errors=(403, 404),
)  # fmt: skip
async def remove_clinic_absence(request: web.Request) -> web.Response:
    vendor, clinic = await _served_clinic(request)
    absence_id = request.match_info["absence_id"]
    if not await remove_absence(request.app[REDIS], Actor.of_vendor(vendor), clinic.id, absence_id):
        raise problem(404, "unknown_absence", "this clinic has no absence with this id")
    return web.Response(status=204)
