"""The draft an engine without language understanding produces, filed in a Danish record."""

from __future__ import annotations

from integrations.notetaker.drafts import transcript_draft, transcript_title
from server.notetaker.protocol import TranscriptFinal


def final(speaker: str, start: float, text: str, segment: str) -> TranscriptFinal:
    return TranscriptFinal(segment, speaker, start, start + 2, text, 0.9)


def test_the_sections_are_titled_in_danish_and_the_clinical_ones_left_empty() -> None:
    sections = transcript_draft(
        [final("patient", 3, "ondt i halsen", "p-1"), final("gp", 1, "hvad er der galt", "g-1")],
        ("gp", "patient"),
    )
    titles = {s.key: s.title for s in sections}
    assert titles == {
        "reason": "Kontaktårsag",
        "history": "Anamnese",
        "findings": "Objektive fund",
        "assessment": "Vurdering",
        "plan": "Plan",
        "transcript.gp": "Udskrift: lægen",
        "transcript.patient": "Udskrift: patienten",
    }
    assert all(s.text == "" for s in sections if not s.key.startswith("transcript."))
    said = {s.key: (s.text, s.spans) for s in sections}
    assert said["transcript.patient"] == ("[00:03] ondt i halsen", ("p-1",))


def test_a_speaker_without_a_danish_name_keeps_their_own() -> None:
    assert transcript_title("staff-7") == "Udskrift: staff-7"
