"""Every route that shows a professional patient data leaves an audit entry naming the
consultation. The app's GET routes are all listed here, as read (and walked) or as showing
no patient data (with why), so a new route fails until someone decides which it is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiohttp import ClientSession

from server.clock import local_day
from server.store.audit import read_audit
from server.store.connection import Redis
from server.store.notes import Section, save_draft
from server.store.organisations import create_organisation
from server.store.users import create_user
from server.store.vendors import set_vendor_origins
from tests.integration.helpers import GP_PASSWORD, Client, browser, login
from tests.integration.served import Served, served_consultation


@dataclass(frozen=True)
class Setting:
    client: Client
    redis: Redis
    lps: Served


Read = Callable[[Setting], Awaitable[None]]


async def _as(s: Setting, username: str, path: str) -> None:
    session: ClientSession
    async with browser(s.client) as session:
        await login(session, username)
        response = await session.get(path, allow_redirects=False)
        assert response.status == 200, await response.text()


async def _api(s: Setting, path: str) -> None:
    response = await s.client.get(path, headers=s.lps.auth)
    assert response.status == 200, await response.text()


async def console_focus(s: Setting) -> None:
    await _as(s, s.lps.gp.username, f"/console?consultation={s.lps.consultation.id}")


async def console_note(s: Setting) -> None:
    await _as(s, s.lps.gp.username, f"/console/consultations/{s.lps.consultation.id}/note")


async def api_day(s: Setting) -> None:
    day = local_day(s.lps.consultation.scheduled_start or 0)
    await _api(s, f"/api/v1/consultations?clinic={s.lps.clinic.ydernummer}&date={day}")


async def invitation(s: Setting) -> None:
    org = await create_organisation(s.redis, "Aarhus Kommune", "751")
    await create_user(
        s.redis, "nurse-751", GP_PASSWORD, "Sygeplejerske", "staff", organisation_id=org.id
    )
    async with browser(s.client) as gp:
        await login(gp, s.lps.gp.username)
        made = await gp.post(
            f"/console/consultations/{s.lps.consultation.id}/invitations",
            json={"organisation_id": org.id, "invitee_user_id": ""},
        )
        assert made.status == 201, await made.text()
        url = (await made.json())["url"]
    await _as(s, "nurse-751", "/i/" + url.rsplit("/i/", 1)[1])


async def embed(s: Setting) -> None:
    await set_vendor_origins(s.redis, s.lps.consultation.vendor_id, ["https://lps.example"])
    made = await s.client.post(
        f"/api/v1/consultations/{s.lps.consultation.id}/embed-session",
        json={"practitioner": s.lps.gp.username},
        headers=s.lps.auth,
    )
    assert made.status == 201, await made.text()
    token = str((await made.json())["url"]).split("/embed/")[1]
    opened = await s.client.get(f"/embed/{token}", allow_redirects=False)
    assert opened.status == 303


def api(path: str) -> Read:
    async def read(s: Setting) -> None:
        await _api(s, path.format(id=s.lps.consultation.id))

    return read


READS: dict[str, Read] = {
    "/console": console_focus,
    "/console/consultations/{consultation_id}/note": console_note,
    "/i/{token}": invitation,
    "/embed/{token}": embed,
    "/api/v1/consultations": api_day,
    "/api/v1/consultations/{consultation_id}": api("/api/v1/consultations/{id}"),
    "/api/v1/consultations/{consultation_id}/note": api("/api/v1/consultations/{id}/note"),
    "/fhir/Appointment/{id}": api("/fhir/Appointment/{id}"),
    "/fhir/Encounter/{id}": api("/fhir/Encounter/{id}"),
    "/fhir/DocumentReference/{id}": api("/fhir/DocumentReference/{id}"),
    "/fhir/DocumentReference": api("/fhir/DocumentReference?encounter={id}"),
}

NO_PATIENT_DATA: dict[str, str] = {
    "/": "start page",
    "/favicon.ico": "icon",
    "/static": "files",
    "/healthz": "health",
    "/login": "login form",
    "/ws": "live signalling; a professional's part in a call is in the event stream",
    "/j/{token}": "the patient's own page",
    "/d/{token}": "the drop-in page a patient opens",
    "/admin": "organisations",
    "/admin/audit": "ids of who read what: the audit itself",
    "/admin/audit.csv": "ids of who read what: the audit itself",
    "/admin/budgets": "budget lines",
    "/admin/budgets.csv": "budget lines",
    "/admin/calls": "call attempts by id, no names",
    "/admin/calls.csv": "call attempts by id, no names",
    "/admin/programmes": "honoraria programmes (GPs, not patients)",
    "/admin/programmes/{programme_id}": "honoraria programmes (GPs, not patients)",
    "/admin/programmes/{programme_id}/statements.csv": "honoraria (GPs, not patients)",
    "/admin/retention": "clinics",
    "/admin/subject": "a form; its POST is the read, audited (test_admin_retention)",
    "/admin/subscriptions": "clinics and invoices",
    "/admin/subscriptions/invoices.csv": "invoices",
    "/admin/subscriptions/issued/{number}.csv": "an issued invoice: clinics and amounts",
    "/api/v1/clinics/{ydernummer}/absences": "the clinic's absences",
    "/api/v1/directory/clinics/{ydernummer}": "clinic facts; audited as directory.viewed",
    "/api/v1/events": "ids and status changes, no names",
    "/api/v1/invoices": "the vendor's invoice lines: clinics and amounts",
    "/api/v1/prices": "subscription prices",
    "/api/v1/openapi.json": "the API's description",
    "/api/v1/webhook": "the vendor's webhook",
    "/api/v1/webhook/dead-letters": "ids and status changes, no names",
    "/clinic/settings": "the clinic's settings",
    "/directory": "clinic facts; audited as directory.viewed",
    "/directory/clinics/{ydernummer}": "clinic facts; audited as directory.viewed",
    "/fhir/metadata": "the FHIR capability statement",
    "/fhir": "unsupported FHIR paths answer an error",
    "/fhir/{path}": "unsupported FHIR paths answer an error",
    "/org": "the municipality's staff",
    "/pilot/notetaker": "pilot evidence: ids, times, counts (no patient)",
    "/pilot/notetaker.csv": "pilot evidence: ids, times, counts (no patient)",
    "/statement": "a GP's honoraria",
    "/statement.csv": "a GP's honoraria",
}


def test_every_get_route_is_either_an_audited_read_or_shows_no_patient_data(
    client: Client,
) -> None:
    routes = {
        r.resource.canonical
        for r in client.app.router.routes()
        if r.method in ("GET", "*") and r.resource is not None
    }
    unclassified = sorted(routes - set(READS) - set(NO_PATIENT_DATA))
    assert not unclassified, (
        f"routes not classified in {__file__}: {unclassified}; add each to READS (and audit "
        "its reads) or to NO_PATIENT_DATA with why"
    )
    assert not set(READS) & set(NO_PATIENT_DATA)
    assert not (set(READS) | set(NO_PATIENT_DATA)) - routes, "a listed route no longer exists"


@pytest.mark.parametrize("route", sorted(READS))
async def test_a_professionals_read_is_audited(client: Client, redis: Redis, route: str) -> None:
    lps = await served_consultation(redis)
    await save_draft(redis, lps.consultation, [Section("plan", "Plan", "Kontrol")], engine="demo")
    before = len(await read_audit(redis))

    await READS[route](Setting(client, redis, lps))

    new = (await read_audit(redis))[before:]
    naming = [
        e
        for e in new
        if e.data.get("consultation_id") == lps.consultation.id
        or lps.consultation.id in list(e.data.get("consultation_ids", []))  # type: ignore[call-overload]
    ]
    assert naming, f"{route} left no audit entry naming the consultation: {new}"
    assert all(e.actor.startswith(("user:", "vendor:")) for e in naming)
