"""The FHIR facade's routes, with the vendor's key and within the vendor's clinics.

    GET /fhir/metadata                            CapabilityStatement (no key needed)
    GET /fhir/Appointment/{id}                    the consultation as an Appointment
    GET /fhir/Encounter/{id}                      ... as an Encounter (class VR)
    GET /fhir/DocumentReference/{id}              its note
    GET /fhir/DocumentReference?encounter={id}    its note, as a searchset Bundle

Resource ids are consultation ids. A search for an encounter that is unknown, not the
vendor's, or has no note (any more) finds nothing: an empty Bundle, as FHIR search does.
Anything else at or under /fhir answers an OperationOutcome: 404, or 405 (with `Allow`)
for a write; a write to a resource that exists is a 405 as well, the router's own.
"""

from __future__ import annotations

from aiohttp import web

from server.api.auth import require_vendor
from server.api.notes import gone
from server.api.problems import problem
from server.api.tenancy import served_consultation, vendor_consultation
from server.appkeys import REDIS, SETTINGS
from server.fhir.appointment import appointment
from server.fhir.bundle import searchset
from server.fhir.capability import capability_statement
from server.fhir.documentreference import document_reference
from server.fhir.encounter import encounter
from server.fhir.outcome import fhir_endpoint, fhir_response
from server.fhir.references import Resource
from server.store.audit import audit
from server.store.consultations import Consultation
from server.store.notes import Acked, Note, get_note
from server.store.notetaker import consent_log
from server.store.users import User, get_user
from server.store.vendors import Vendor

READ_METHODS = ("GET", "HEAD")


def _base(request: web.Request) -> str:
    return request.app[SETTINGS].public_base_url + "/fhir"


async def _user(request: web.Request, user_id: str) -> User | None:
    return await get_user(request.app[REDIS], user_id) if user_id else None


async def _read(request: web.Request, vendor: Vendor, c: Consultation) -> None:
    await audit(
        request.app[REDIS], "consultation.read", f"vendor:{vendor.id}",
        consultation_id=c.id, clinic_id=c.clinic_id, channel="fhir",
    )  # fmt: skip


async def _document(request: web.Request, vendor: Vendor, c: Consultation, note: Note) -> Resource:
    await audit(
        request.app[REDIS], "note.read", f"vendor:{vendor.id}",
        consultation_id=c.id, clinic_id=c.clinic_id, channel="fhir",
    )  # fmt: skip
    consent = await consent_log(request.app[REDIS], c.id)
    latest = consent[-1] if consent else None
    return document_reference(note, c, await _user(request, note.approved_by), latest)


async def metadata(request: web.Request) -> web.Response:
    return fhir_response(capability_statement(_base(request)))


@fhir_endpoint
async def read_appointment(request: web.Request) -> web.Response:
    vendor, c, _ = await vendor_consultation(request, request.match_info["id"])
    await _read(request, vendor, c)
    clinician_url = request.app[SETTINGS].public_base_url + "/console"
    return fhir_response(appointment(c, await _user(request, c.practitioner_id), clinician_url))


@fhir_endpoint
async def read_encounter(request: web.Request) -> web.Response:
    vendor, c, clinic = await vendor_consultation(request, request.match_info["id"])
    await _read(request, vendor, c)
    return fhir_response(encounter(c, clinic, await _user(request, c.practitioner_id)))


@fhir_endpoint
async def read_document_reference(request: web.Request) -> web.Response:
    vendor, c, _ = await vendor_consultation(request, request.match_info["id"])
    note = await get_note(request.app[REDIS], c.id)
    if isinstance(note, Acked):
        raise gone(note)
    if note is None:
        raise problem(404, "no_note", "this consultation has no note")
    return fhir_response(await _document(request, vendor, c, note))


@fhir_endpoint
async def search_document_reference(request: web.Request) -> web.Response:
    vendor = await require_vendor(request)
    encounter_id = request.query.get("encounter", "").removeprefix("Encounter/")
    if not encounter_id:
        raise problem(400, "missing_encounter", "search by encounter: ?encounter=<id>")
    documents = []
    if found := await served_consultation(request.app[REDIS], vendor, encounter_id):
        c, _ = found
        note = await get_note(request.app[REDIS], c.id)
        if isinstance(note, Note):
            documents.append(await _document(request, vendor, c, note))
    self_url = request.app[SETTINGS].public_base_url + request.path_qs
    return fhir_response(searchset(documents, _base(request), self_url))


@fhir_endpoint
async def unsupported(request: web.Request) -> web.Response:
    if request.method not in READ_METHODS:
        raise problem(
            405, "read_only", "this FHIR facade is read-only", {"Allow": ", ".join(READ_METHODS)}
        )
    raise problem(404, "not_supported", "not offered here; see /fhir/metadata")


def add_fhir_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/fhir/metadata", metadata)
    router.add_get("/fhir/Appointment/{id}", read_appointment)
    router.add_get("/fhir/Encounter/{id}", read_encounter)
    router.add_get("/fhir/DocumentReference/{id}", read_document_reference)
    router.add_get("/fhir/DocumentReference", search_document_reference)
    # The base itself too: a FHIR client that probes it gets an OperationOutcome, not a page.
    router.add_route("*", "/fhir", unsupported)
    router.add_route("*", "/fhir/{path:.*}", unsupported)
