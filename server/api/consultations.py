"""The LPS's consultations: booking, reading, rescheduling, cancelling, listing a clinic's
day, and a fresh patient link. Everything is scoped to the clinics the vendor serves; a
consultation elsewhere answers 404, as if it did not exist.

Decisions where the issue is silent:
- `practitioner` is the GP's user name here (the LPS maps its own users to ours once).
- `patient.reference` is the LPS's pseudonymous patient id; `patient.cpr`, if sent, is
  kept only as a keyed hash (server.auth.cprkey) and never returned or logged.
- `patient_url` is in the answer only when a link is made (booking, `patient-link`): the
  link is stored hashed and cannot be shown again.
- Rescheduling is for booked consultations (409 `not_reschedulable` once the patient is
  waiting or later). Cancelling a waiting patient takes them out of the queue and tells
  them; a call in progress cannot be cancelled (409 `in_call`); cancelling twice is fine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from server import safejson
from server.api.auth import require_vendor
from server.api.idempotency import IdempotencyKey, fingerprint
from server.api.problems import invalid_body, problem
from server.api.spec import ApiRoutes
from server.api.tenancy import vendor_consultation
from server.api.validation import valid_query
from server.appkeys import CPR_KEY, REDIS, ROOM, SETTINGS
from server.clock import iso_local, now
from server.consultations.linkrules import link_ttl
from server.consultations.links import issue_link
from server.daterange import SaneDate, SaneDatetime
from server.phone import phone_ok
from server.store import keys
from server.store.audit import audit
from server.store.clinics import Clinic, find_clinic
from server.store.consultations import (
    Consultation,
    Kind,
    Status,
    consultations_on_day,
    create_consultation,
    reschedule,
)
from server.store.cpr import CPR
from server.store.events import EventType, append_event
from server.store.retention import record_access
from server.store.users import UserRole, find_user, get_user
from server.store.vendors import Vendor
from server.waitingroom.room import CancelOutcome

routes = ApiRoutes(tag="consultations")

Text = Annotated[str, Field(min_length=1, max_length=100)]


class PatientIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reference: Text  # the LPS's pseudonymous patient id; never a CPR number
    display_name: Annotated[str, Field(min_length=1, max_length=60)]
    phone: Annotated[str, Field(max_length=30)] | None = None
    cpr: Annotated[str, Field(max_length=11)] | None = None  # kept only as a keyed hash

    @field_validator("phone")
    @classmethod
    def _phone(cls, phone: str | None) -> str | None:
        if phone is not None and not phone_ok(phone):
            raise ValueError("a phone number with 8 to 15 digits")
        return phone

    @field_validator("cpr")
    @classmethod
    def _cpr(cls, cpr: str | None) -> str | None:
        if cpr is not None and not CPR.match(cpr):
            raise ValueError("a CPR number is ten digits, e.g. 010203-1234")
        return cpr


Minutes = Annotated[int, Field(ge=5, le=240)]


class ConsultationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: Text  # the LPS's booking id; unique per vendor
    clinic: Annotated[str, Field(pattern=r"^[0-9]{6}$")]  # ydernummer
    practitioner: Text  # the GP's user name
    patient: PatientIn
    kind: Literal["video", "cross_sector"] = "video"
    scheduled_start: SaneDatetime
    duration_minutes: Minutes = 15


class ConsultationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheduled_start: SaneDatetime | None = None
    duration_minutes: Minutes | None = None


class PatientOut(BaseModel):
    reference: str
    display_name: str


class ConsultationOut(BaseModel):
    id: str
    external_id: str
    status: Literal["booked", "waiting", "in_call", "ended", "cancelled"]
    clinic: str
    practitioner: str | None
    kind: Literal["video", "cross_sector"]
    scheduled_start: datetime | None
    duration_minutes: int
    patient: PatientOut
    patient_url: str | None = None  # only when a link was just made
    clinician_url: str
    billing_code: str | None
    started_at: datetime | None
    ended_at: datetime | None


class ConsultationList(BaseModel):
    consultations: list[ConsultationOut]


class DayQuery(BaseModel):
    clinic: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    date: SaneDate


class PatientLink(BaseModel):
    patient_url: str


def _iso(ts: float | None) -> str | None:
    return iso_local(ts) if ts is not None else None


async def _out(
    request: web.Request, c: Consultation, clinic: Clinic, link: str = ""
) -> dict[str, Any]:
    redis = request.app[REDIS]
    base = request.app[SETTINGS].public_base_url
    gp = await get_user(redis, c.practitioner_id) if c.practitioner_id else None
    body = {
        "id": c.id,
        "external_id": c.external_id,
        "status": c.status,
        "clinic": clinic.ydernummer,
        "practitioner": gp.username if gp else None,
        "kind": c.purpose,
        "scheduled_start": _iso(c.scheduled_start),
        "duration_minutes": c.duration_minutes,
        "patient": {"reference": c.patient_ref, "display_name": c.patient_name},
        "patient_url": f"{base}/j/{link}" if link else None,
        "clinician_url": f"{base}/console",
        "billing_code": c.billing_code or None,
        "started_at": _iso(c.started_at),
        "ended_at": _iso(c.ended_at),
    }
    return ConsultationOut.model_validate(body).model_dump(mode="json")


UNKNOWN_CLINIC = "no clinic has this ydernummer"


async def _served_clinic(
    redis: Any, vendor: Vendor, ydernummer: str, code: str = "invalid_body"
) -> Clinic:
    """The clinic a body or query names. One it does not know is a 422 about that field
    (`unknown_clinic` alone is the 404 of a clinic named by the path)."""
    clinic = await find_clinic(redis, ydernummer)
    if clinic is None:
        unknown = {"field": "clinic", "code": "unknown_clinic", "message": UNKNOWN_CLINIC}
        raise problem(422, code, UNKNOWN_CLINIC, errors=[unknown])
    if clinic.id not in vendor.clinic_ids:
        raise problem(403, "clinic_not_served", "this API key's vendor does not serve this clinic")
    await record_access(redis, clinic.id, now())
    return clinic


async def _changed(request: web.Request, kind: EventType, c: Consultation, vendor: Vendor) -> None:
    """Record the change for integrations, and show it on the clinic's consoles."""
    redis = request.app[REDIS]
    await append_event(
        redis, kind, consultation_id=c.id, clinic_id=c.clinic_id, vendor_id=vendor.id
    )
    await request.app[ROOM].details_changed(c)


async def _json(request: web.Request) -> Any:
    try:
        return safejson.loads(await request.read() or b"null")
    except safejson.BadJSON as error:
        raise problem(400, "malformed", f"the body must be JSON: {error}") from None


@routes.post(
    "/api/v1/consultations",
    summary="Book a video consultation",
    body=ConsultationIn,
    responses={201: ConsultationOut},
    errors=(400, 403, 409, 422),
    headers=("Idempotency-Key",),
)
async def create(request: web.Request) -> web.Response:
    vendor = await require_vendor(request)
    redis = request.app[REDIS]
    raw = await _json(request)
    idempotency_key = request.headers.get("Idempotency-Key")
    idem = (
        IdempotencyKey(redis, vendor.id, idempotency_key, fingerprint(raw))
        if idempotency_key
        else None
    )
    if idem is not None and (replay := await idem.replay_or_reserve()) is not None:
        return replay
    try:
        status, body = await _book(request, vendor, raw)
    except BaseException:
        if idem is not None:
            await idem.release()
        raise
    if idem is not None:
        await idem.remember(status, body)
    return web.json_response(
        body, status=status, headers={"Location": f"/api/v1/consultations/{body['id']}"}
    )


async def _book(request: web.Request, vendor: Vendor, raw: Any) -> tuple[int, dict[str, Any]]:
    redis = request.app[REDIS]
    try:
        body = ConsultationIn.model_validate(raw)
    except ValidationError as error:
        raise invalid_body(error) from None
    clinic = await _served_clinic(redis, vendor, body.clinic)
    gp = await find_user(redis, body.practitioner)
    if gp is None or gp.role != UserRole.GP or gp.clinic_id != clinic.id:
        raise problem(422, "unknown_practitioner", "no GP with this user name in the clinic")
    start = body.scheduled_start.timestamp()
    if start + body.duration_minutes * 60 < now():
        raise problem(422, "in_the_past", "the consultation would be over already")
    external = keys.consultation_by_external(vendor.id, body.external_id)
    if await redis.exists(external):
        raise problem(409, "duplicate_external_id", "a consultation with this external_id exists")
    c = await create_consultation(
        redis, clinic.id, Kind.SCHEDULED, scheduled_start=start,
        duration_minutes=body.duration_minutes, practitioner_id=gp.id,
        patient_ref=body.patient.reference, patient_name=body.patient.display_name,
        vendor_id=vendor.id,
        external_id=body.external_id, purpose=body.kind, patient_phone=body.patient.phone or "",
        cpr_hash=request.app[CPR_KEY].hash(body.patient.cpr) if body.patient.cpr else "",
    )  # fmt: skip
    if not await redis.set(external, c.id, nx=True):  # a racing twin won
        raise problem(409, "duplicate_external_id", "a consultation with this external_id exists")
    link, c = await issue_link(redis, c)
    await _changed(request, EventType.CONSULTATION_CREATED, c, vendor)
    return 201, await _out(request, c, clinic, link)


@routes.get(
    "/api/v1/consultations/{consultation_id}",
    summary="Read a consultation",
    responses={200: ConsultationOut},
    errors=(404,),
)
async def read(request: web.Request) -> web.Response:
    vendor, c, clinic = await vendor_consultation(request, request.match_info["consultation_id"])
    await audit(
        request.app[REDIS], "consultation.read", f"vendor:{vendor.id}",
        consultation_id=c.id, clinic_id=clinic.id, channel="api",
    )  # fmt: skip
    return web.json_response(await _out(request, c, clinic))


@routes.patch(
    "/api/v1/consultations/{consultation_id}",
    summary="Reschedule a booked consultation",
    body=ConsultationPatch,
    responses={200: ConsultationOut},
    errors=(400, 404, 409, 422),
)
async def patch(request: web.Request) -> web.Response:
    vendor, c, clinic = await vendor_consultation(request, request.match_info["consultation_id"])
    redis = request.app[REDIS]
    try:
        body = ConsultationPatch.model_validate(await _json(request))
    except ValidationError as error:
        raise invalid_body(error) from None
    if c.status != Status.BOOKED:
        raise problem(409, "not_reschedulable", f"the consultation is {c.status}")
    start = body.scheduled_start.timestamp() if body.scheduled_start else c.scheduled_start or now()
    minutes = body.duration_minutes or c.duration_minutes
    if start + minutes * 60 < now():
        raise problem(422, "in_the_past", "the consultation would be over already")
    c = await reschedule(redis, c, start, minutes)
    if c.link_hash:  # the link lives as long as its new window
        await redis.expire(keys.join_link(c.link_hash), link_ttl(c, now()))
    await _changed(request, EventType.CONSULTATION_UPDATED, c, vendor)
    return web.json_response(await _out(request, c, clinic))


@routes.delete(
    "/api/v1/consultations/{consultation_id}",
    summary="Cancel a consultation",
    responses={204: None},
    errors=(404, 409),
)
async def cancel(request: web.Request) -> web.Response:
    vendor, c, _ = await vendor_consultation(request, request.match_info["consultation_id"])
    outcome = await request.app[ROOM].cancel(c, vendor_id=vendor.id)
    if outcome in (CancelOutcome.IN_CALL, CancelOutcome.ENDED):
        raise problem(409, outcome.value, f"the consultation is {outcome.value}")
    return web.Response(status=204)


@routes.get(
    "/api/v1/consultations",
    summary="A clinic's consultations on one day (Copenhagen time)",
    query=DayQuery,
    responses={200: ConsultationList},
    errors=(403, 422),
)
async def list_day(request: web.Request) -> web.Response:
    vendor = await require_vendor(request)
    redis = request.app[REDIS]
    query = valid_query(request, DayQuery)
    clinic = await _served_clinic(redis, vendor, query.clinic, "invalid_query")
    day = await consultations_on_day(redis, clinic.id, query.date.isoformat())
    if day:
        await audit(
            redis, "consultation.day_read", f"vendor:{vendor.id}",
            consultation_ids=[c.id for c in day], clinic_id=clinic.id, channel="api",
        )  # fmt: skip
    return web.json_response({"consultations": [await _out(request, c, clinic) for c in day]})


@routes.post(
    "/api/v1/consultations/{consultation_id}/patient-link",
    summary="A new patient link; the previous one stops working",
    responses={201: PatientLink},
    errors=(404, 409),
)
async def new_patient_link(request: web.Request) -> web.Response:
    vendor, c, _ = await vendor_consultation(request, request.match_info["consultation_id"])
    if c.status in (Status.ENDED, Status.CANCELLED):
        raise problem(409, "consultation_closed", f"the consultation is {c.status}")
    redis = request.app[REDIS]
    link, c = await issue_link(redis, c)
    await _changed(request, EventType.CONSULTATION_UPDATED, c, vendor)
    base = request.app[SETTINGS].public_base_url
    return web.json_response({"patient_url": f"{base}/j/{link}"}, status=201)
