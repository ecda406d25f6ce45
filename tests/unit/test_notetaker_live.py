from __future__ import annotations

from server.notetaker.live import merge_sections
from server.store.notes import Section


def test_two_drafts_of_one_consultation_merge_section_by_section() -> None:
    earlier = (
        Section("reason", "Reason", "", ()),
        Section("transcript.patient", "Patient", "[00:01] yes", ("patient-1",)),
    )
    later = [
        Section("reason", "Reason", "", ()),
        Section("transcript.patient", "Patient", "[00:09] I have pain", ("patient-1",)),
        Section("transcript.gp", "GP", "[00:05] good morning", ("gp-1",)),
    ]
    merged = merge_sections(earlier, later)
    assert [s.key for s in merged] == ["reason", "transcript.patient", "transcript.gp"]
    assert merged[1].text == "[00:01] yes\n[00:09] I have pain"
    assert merged[1].spans == ("patient-1", "patient-1")
    assert merged[0].text == ""
