"""A note as a DocumentReference: preliminary and labelled AI while a draft, final once approved."""

from __future__ import annotations

from server.fhir.documentreference import AI_ASSERTED, CONSENT_POLICY, document_reference
from server.store.notes import APPROVED, DRAFT, Note, Section
from server.store.notetaker import ConsentRecord
from tests.support.fhir import validated
from tests.unit.fhirdata import GP, T0, consultation

TEXT = "Kontaktårsag\nHoste i tre uger."
DRAFTED = Note(
    "0123456789abcdef", DRAFT, TEXT, (Section("reason", "Kontaktårsag", "Hoste i tre uger."),),
    True, "pocketsphinx", T0,
)  # fmt: skip
APPROVED_NOTE = Note(
    DRAFTED.consultation_id, APPROVED, TEXT + "\nPlan: røntgen.", (), True, "pocketsphinx", T0,
    T0 + 600, GP.id,
)  # fmt: skip


def text_of(resource: object) -> str:
    """The attachment's text (the model has decoded its base64 already)."""
    data: bytes = resource.content[0].attachment.data  # type: ignore[attr-defined]
    return data.decode()


def test_an_ai_draft_is_preliminary_and_labelled_ai() -> None:
    resource = validated(document_reference(DRAFTED, consultation(), None))

    assert (resource.status, resource.docStatus) == ("current", "preliminary")
    ai = (AI_ASSERTED["system"], AI_ASSERTED["code"])
    assert [(t.system, t.code) for t in resource.meta.tag] == [ai]
    assert [(s.system, s.code) for s in resource.meta.security] == [ai]
    assert resource.author[0].type == "Device"
    assert resource.content[0].attachment.contentType.startswith("text/plain")
    assert text_of(resource) == TEXT
    assert resource.context.encounter[0].reference == "Encounter/0123456789abcdef"
    assert resource.subject.identifier.value == "pt-77"


def test_the_approved_note_is_final_and_the_gps() -> None:
    resource = validated(document_reference(APPROVED_NOTE, consultation(), GP))

    assert resource.docStatus == "final"
    assert resource.meta.tag is None and resource.meta.security is None
    assert resource.author[0].identifier.value == "lise.holm"
    assert resource.authenticator.display == GP.display_name
    assert resource.date.timestamp() == T0 + 600
    assert text_of(resource) == APPROVED_NOTE.text


def test_a_draft_the_gp_wrote_is_not_labelled_ai() -> None:
    own = Note(DRAFTED.consultation_id, DRAFT, "Egen tekst.", (), False, "", T0)
    resource = validated(document_reference(own, consultation(), None))

    assert resource.docStatus == "preliminary" and resource.meta.tag is None
    assert resource.author is None


def test_the_consent_proof_travels_with_the_note_as_a_contained_consent() -> None:
    record = ConsentRecord("given", "p-1", "patient", T0 - 60, "v3", "da", "patient screen")
    raw = document_reference(APPROVED_NOTE, consultation(), GP, record)
    resource = validated(raw)
    [consent] = resource.contained
    assert consent.__resource_type__ == "Consent"
    assert (consent.status, consent.policy[0].uri) == ("active", f"{CONSENT_POLICY}/v3")
    assert consent.sourceAttachment.language == "da"
    assert resource.context.related[0].reference == "#consent"
    withdrawn = ConsentRecord("withdrawn", "p-1", "patient", T0, "v3", "en", "patient screen")
    again = validated(document_reference(DRAFTED, consultation(), None, withdrawn))
    assert again.contained[0].status == "inactive"
    assert "contained" not in document_reference(DRAFTED, consultation(), None)
