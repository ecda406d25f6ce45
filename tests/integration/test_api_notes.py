"""The LPS collects a consultation's note over the API and acknowledges it."""

from __future__ import annotations

import pytest

from server.store import keys
from server.store.audit import read_audit
from server.store.connection import Redis
from server.store.events import read_events
from server.store.notes import Section, approve, save_draft
from server.store.notetaker import ConsentRecord, add_consent
from tests.integration.helpers import Client
from tests.integration.served import Served, served_consultation

SECTIONS = (Section("reason", "Kontaktårsag", "Hoste."), Section("plan", "Plan", "Røntgen."))


@pytest.fixture
async def lps(redis: Redis) -> Served:
    return await served_consultation(redis)


def note_url(lps: Served) -> str:
    return f"/api/v1/consultations/{lps.consultation.id}/note"


async def problem_code(response: object) -> str:
    assert response.content_type == "application/problem+json"  # type: ignore[attr-defined]
    return str((await response.json())["code"])  # type: ignore[attr-defined]


async def test_no_note_yet_is_404(client: Client, lps: Served) -> None:
    response = await client.get(note_url(lps), headers=lps.auth)

    assert response.status == 404
    assert await problem_code(response) == "no_note"


async def test_the_lps_reads_the_draft(client: Client, redis: Redis, lps: Served) -> None:
    await save_draft(redis, lps.consultation, SECTIONS, engine="pocketsphinx")

    response = await client.get(note_url(lps), headers=lps.auth)

    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    note = await response.json()
    assert note["status"] == "draft" and note["ai_generated"] is True
    assert note["engine"] == "pocketsphinx"
    assert [s["key"] for s in note["sections"]] == ["reason", "plan"]
    assert note["text"] == "Kontaktårsag\nHoste.\n\nPlan\nRøntgen."
    assert note["approved_at"] is None and note["approved_by"] is None
    (entry,) = [e for e in await read_audit(redis) if e.action == "note.read"]
    assert entry.data["consultation_id"] == lps.consultation.id
    assert entry.actor.startswith("vendor:")


async def test_a_draft_cannot_be_acked(client: Client, redis: Redis, lps: Served) -> None:
    await save_draft(redis, lps.consultation, SECTIONS, engine="x")

    response = await client.post(note_url(lps) + "/ack", headers=lps.auth)

    assert response.status == 409
    assert await problem_code(response) == "note_not_approved"
    assert (await client.get(note_url(lps), headers=lps.auth)).status == 200


async def test_acking_the_approved_note_deletes_it(
    client: Client, redis: Redis, lps: Served
) -> None:
    await save_draft(redis, lps.consultation, SECTIONS, engine="x")
    await approve(redis, lps.consultation, lps.gp.id, text="Hoste. Røntgen bestilt.")
    approved = await (await client.get(note_url(lps), headers=lps.auth)).json()
    assert (approved["status"], approved["approved_by"]) == ("approved", lps.gp.id)

    ack = await client.post(note_url(lps) + "/ack", headers=lps.auth)

    assert ack.status == 204
    gone = await client.get(note_url(lps), headers=lps.auth)
    assert gone.status == 410
    assert await problem_code(gone) == "note_deleted"
    assert (await client.post(note_url(lps) + "/ack", headers=lps.auth)).status == 204
    acked = [e for _, kind, e in await read_events(redis) if kind == "note.acked"]
    assert acked == [{"consultation_id": lps.consultation.id, "clinic_id": lps.clinic.id}]


async def test_acking_nothing_is_404(client: Client, lps: Served) -> None:
    response = await client.post(note_url(lps) + "/ack", headers=lps.auth)

    assert response.status == 404
    assert await problem_code(response) == "no_note"


async def test_another_vendors_note_does_not_exist(
    client: Client, redis: Redis, lps: Served
) -> None:
    other = await served_consultation(redis)
    await approve(redis, lps.consultation, lps.gp.id, text="Fortroligt.")

    read = await client.get(note_url(lps), headers=other.auth)
    ack = await client.post(note_url(lps) + "/ack", headers=other.auth)

    assert (read.status, ack.status) == (404, 404)
    assert await problem_code(read) == await problem_code(ack) == "unknown_consultation"
    assert (await client.get(note_url(lps), headers=lps.auth)).status == 200


async def test_without_a_key_is_401(client: Client, lps: Served) -> None:
    response = await client.get(note_url(lps))

    assert response.status == 401
    assert await problem_code(response) == "missing_api_key"


async def test_the_note_operations_are_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()

    path = "/api/v1/consultations/{consultation_id}/note"
    assert set(document["paths"][path]) == {"get"}
    assert set(document["paths"][path + "/ack"]) == {"post"}
    assert document["paths"][path]["get"]["responses"]["410"]
    assert "NoteOut" in document["components"]["schemas"]


async def test_the_consent_proof_comes_with_the_note_and_lives_as_long_as_it(
    client: Client, redis: Redis, lps: Served
) -> None:
    c = lps.consultation
    given = ConsentRecord("given", "p-1", "patient", 1_760_000_000.0, "v3", "da", "patient screen")
    await add_consent(redis, c.id, given)
    await redis.expire(keys.consultation_consent(c.id), 60)  # nearly gone, as after 14 days
    await save_draft(redis, c, SECTIONS, engine="x", ttl_seconds=30 * 24 * 3600)
    assert await redis.ttl(keys.consultation_consent(c.id)) > 29 * 24 * 3600  # as the note

    note = await (await client.get(note_url(lps), headers=lps.auth)).json()
    proof = [(r["answer"], r["role"], r["text_version"], r["language"]) for r in note["consent"]]
    assert proof == [("given", "patient", "v3", "da")]
    assert "p-1" not in str(note["consent"])
    path = f"/fhir/DocumentReference/{c.id}"
    fhir = await (await client.get(path, headers=lps.auth)).json()
    assert fhir["contained"][0]["resourceType"] == "Consent"
    assert fhir["context"]["related"] == [{"reference": "#consent"}]
