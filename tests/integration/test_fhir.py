"""The FHIR facade over HTTP, as an LPS's FHIR client reads it; every answer is checked
against the R4B models of `fhir.resources`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.auth.cprkey import CprKey
from server.fhir import systems
from server.store.connection import Redis
from server.store.consultations import Status, update_consultation
from server.store.notes import Section, approve, delete_note, save_draft
from tests.integration.helpers import Client
from tests.integration.served import Served, served_consultation
from tests.support.fhir import validated

FHIR_JSON = "application/fhir+json"
CPR_NUMBER = "0102031234"


@pytest.fixture
async def lps(redis: Redis) -> Served:
    return await served_consultation(redis, cpr_hash=CprKey(bytes(32)).hash(CPR_NUMBER))


async def fhir_get(client: Client, path: str, lps: Served | None, status: int = 200) -> Any:
    """GET `path`, check the status and that the body is a valid FHIR resource; return it."""
    response = await client.get(path, headers=lps.auth if lps else {})
    assert response.status == status, await response.text()
    assert response.content_type == FHIR_JSON
    body = await response.text()
    hashed = lps.consultation.cpr_hash if lps else ""
    assert CPR_NUMBER not in body and (not hashed or hashed not in body)
    return validated(json.loads(body))


async def note_search(client: Client, lps: Served, as_vendor: Served | None = None) -> Any:
    bundle = await fhir_get(
        client, f"/fhir/DocumentReference?encounter={lps.consultation.id}", as_vendor or lps
    )
    assert (bundle.type, bundle.total) == ("searchset", len(bundle.entry or []))
    return bundle


async def test_the_appointment(client: Client, lps: Served) -> None:
    appointment = await fhir_get(client, f"/fhir/Appointment/{lps.consultation.id}", lps)

    assert (appointment.id, appointment.status) == (lps.consultation.id, "booked")
    (service,) = appointment.extension
    assert service.url == systems.VIRTUAL_SERVICE
    parts = {e.url: e for e in service.extension}
    assert parts["address"].valueUrl.endswith("/console")
    assert parts["sessionKey"].valueString == lps.consultation.id
    patient = appointment.participant[0].actor
    assert patient.identifier.value == "pt-77"
    assert patient.identifier.system.startswith(f"{systems.OURS}/NamingSystem/vendor/")
    assert appointment.participant[1].actor.identifier.value == lps.gp.username


async def test_the_encounter_after_the_call(client: Client, redis: Redis, lps: Served) -> None:
    c = lps.consultation
    assert (await fhir_get(client, f"/fhir/Encounter/{c.id}", lps)).status == "planned"
    await update_consultation(
        redis, c, status=Status.ENDED, started_at=c.created_at + 60, ended_at=c.created_at + 660,
        billing_code="0126",
    )  # fmt: skip

    encounter = await fhir_get(client, f"/fhir/Encounter/{c.id}", lps)

    assert encounter.status == "finished"
    assert (encounter.class_fhir.system, encounter.class_fhir.code) == (systems.ACT_CODE, "VR")
    assert encounter.period.end.timestamp() - encounter.period.start.timestamp() == 600
    assert encounter.extension[0].valueCoding.code == "0126"
    assert encounter.serviceProvider.identifier.value == lps.clinic.ydernummer
    appointment = await fhir_get(client, f"/fhir/Appointment/{c.id}", lps)
    assert appointment.status == "fulfilled"


async def test_the_note_goes_from_preliminary_to_final_then_away(
    client: Client, redis: Redis, lps: Served
) -> None:
    c = lps.consultation
    assert (await note_search(client, lps)).total == 0

    await save_draft(redis, c, (Section("plan", "Plan", "Røntgen."),), engine="pocketsphinx")
    (entry,) = (await note_search(client, lps)).entry
    draft = entry.resource
    assert draft.docStatus == "preliminary"
    assert [t.code for t in draft.meta.tag] == ["AIAST"]
    assert entry.fullUrl.endswith(f"/fhir/DocumentReference/{c.id}")
    assert draft.context.encounter[0].reference == f"Encounter/{c.id}"

    await approve(redis, c, lps.gp.id, text="Plan: røntgen af thorax.")
    (entry,) = (await note_search(client, lps)).entry
    final = entry.resource
    assert final.docStatus == "final" and final.meta.tag is None
    assert final.content[0].attachment.data.decode() == "Plan: røntgen af thorax."
    assert final.authenticator.identifier.value == lps.gp.username
    read = await fhir_get(client, f"/fhir/DocumentReference/{c.id}", lps)
    assert read.docStatus == "final"

    await delete_note(redis, c)
    assert (await note_search(client, lps)).total == 0
    outcome = await fhir_get(client, f"/fhir/DocumentReference/{c.id}", lps, 410)
    assert outcome.issue[0].code == "deleted"


async def test_the_search_takes_an_encounter_reference_too(
    client: Client, redis: Redis, lps: Served
) -> None:
    await approve(redis, lps.consultation, lps.gp.id, text="Note.")
    path = f"/fhir/DocumentReference?encounter=Encounter/{lps.consultation.id}"

    assert (await fhir_get(client, path, lps)).total == 1


async def test_vendor_y_cannot_read_vendor_xs_consultation(
    client: Client, redis: Redis, lps: Served
) -> None:
    other = await served_consultation(redis)
    await approve(redis, lps.consultation, lps.gp.id, text="Fortroligt.")
    c = lps.consultation

    for kind in ("Appointment", "Encounter", "DocumentReference"):
        outcome = await fhir_get(client, f"/fhir/{kind}/{c.id}", other, 404)
        assert outcome.issue[0].code == "not-found"
        assert outcome.issue[0].details.coding[0].code == "unknown_consultation"
    assert (await note_search(client, lps, as_vendor=other)).total == 0
    assert (await note_search(client, lps)).total == 1


async def test_unknown_ids_are_404(client: Client, lps: Served) -> None:
    outcome = await fhir_get(client, "/fhir/Encounter/no-such-id", lps, 404)

    assert outcome.issue[0].severity == "error"
    no_note = await fhir_get(client, f"/fhir/DocumentReference/{lps.consultation.id}", lps, 404)
    assert no_note.issue[0].details.coding[0].code == "no_note"


async def test_a_key_is_required(client: Client, lps: Served) -> None:
    response = await client.get(f"/fhir/Appointment/{lps.consultation.id}")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert validated(await response.json(content_type=FHIR_JSON)).issue[0].code == "login"

    wrong = {"Authorization": "Bearer avk_not-a-key"}
    response = await client.get(f"/fhir/Encounter/{lps.consultation.id}", headers=wrong)
    assert response.status == 401


async def test_what_is_not_offered_answers_in_fhir(client: Client, lps: Served) -> None:
    assert (await fhir_get(client, "/fhir/Patient/pt-77", lps, 404)).issue[0].code == "not-found"
    missing = await fhir_get(client, "/fhir/DocumentReference", lps, 400)
    assert missing.issue[0].code == "invalid"

    response = await client.put(f"/fhir/Appointment/{lps.consultation.id}", headers=lps.auth)
    assert response.status == 405
    outcome = validated(await response.json(content_type=FHIR_JSON))
    assert outcome.issue[0].code == "not-supported"


async def test_the_capability_statement(client: Client) -> None:
    statement = await fhir_get(client, "/fhir/metadata", None)

    assert statement.fhirVersion == "4.0.1"
    offered = {r.type: [i.code for i in r.interaction] for r in statement.rest[0].resource}
    assert offered == {
        "Appointment": ["read"],
        "Encounter": ["read"],
        "DocumentReference": ["read", "search-type"],
    }
