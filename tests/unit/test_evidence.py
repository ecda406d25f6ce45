"""The note-taker pilot's evidence: edit distance, draft against approved note, summaries,
and the CSV exports."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from server.pilots.evidence import WHOLE_PILOT, EvidenceRow, by_gp, summarise, whole_pilot
from server.pilots.evidencecsv import ROW_COLUMNS, SUMMARY_COLUMNS, csv_rows, summary_csv
from server.pilots.notecomparison import SectionChange, compare, word_edit_distance, words
from server.store.notes import Section, sections_text

T0 = 1_780_000_000.0  # 2026-05-28, summer time in Copenhagen


def row(consultation_id: str = "c1", gp_id: str = "gp1", **fields: object) -> EvidenceRow:
    """An offered consultation with nothing else happened yet, changed by `fields`."""
    base = EvidenceRow(
        consultation_id=consultation_id, clinic_id="clinic1", gp_id=gp_id,
        gp_name=f"Dr. {gp_id}", engine="pocketsphinx", engine_version="5.0.3",
        offered_at=T0, consent="", consent_at=None, consent_given_at=None,
        audio_seconds=0.0, call_ended_at=None, draft_at=None, opened_at=None,
        approved_at=None, discarded_at=None, distance=None, draft_words=None,
        sections_kept=None, sections_changed=None, sections_added=None,
        sections_removed=None,
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_words_split_on_any_whitespace_and_keep_case_and_punctuation() -> None:
    assert words("  Hoste i\n3 dage.\tFeber ") == ["Hoste", "i", "3", "dage.", "Feber"]
    assert words("") == [] and words(" \n ") == []


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("", "tre ord her", 3),
        ("tre ord her", "", 3),
        ("hoste i tre dage", "hoste i tre dage", 0),
        ("hoste i tre dage", "hoste\n  i tre   dage", 0),
        ("hoste i dage", "hoste i tre dage", 1),
        ("hoste dage", "tør hoste i tre dage", 3),
        ("hoste i tre dage", "hoste i fire dage", 1),
        ("hoste i tre dage", "feber i fire uger", 3),
        ("Hoste", "hoste", 1),
        ("a b c d", "b c d e", 2),
        ("kitten sitting", "sitting kitten", 2),
    ],
)
def test_word_edit_distance(a: str, b: str, distance: int) -> None:
    assert word_edit_distance(a, b) == distance
    assert word_edit_distance(b, a) == distance


def test_sections_are_kept_changed_added_or_removed_by_key() -> None:
    draft = [
        Section("reason", "Årsag", "Hoste i tre dage"),
        Section("history", "Anamnese", "Ingen feber"),
        Section("findings", "Fund", ""),
        Section("assessment", "Vurdering", "Virus"),
        Section("plan", "Plan", "Kontrol efter behov"),
    ]
    approved = [
        Section("reason", "Årsag", "Hoste  i tre\ndage"),
        Section("history", "Anamnese", "Ingen feber, ingen åndenød"),
        Section("findings", "Fund", "Rene lunger"),
        Section("assessment", "Vurdering", "  "),
        Section("medication", "Medicin", "Ingen"),
    ]
    result = compare(draft, approved, sections_text(approved))
    assert result.sections == (
        SectionChange("reason", 0, "kept"),
        SectionChange("history", 3, "changed"),
        SectionChange("findings", 2, "added"),
        SectionChange("assessment", 1, "removed"),
        SectionChange("plan", 3, "removed"),
        SectionChange("medication", 1, "added"),
    )
    assert (result.kept, result.changed, result.added, result.removed) == (1, 1, 2, 2)
    assert result.draft_words == len(words(sections_text(draft)))
    assert result.distance == word_edit_distance(sections_text(draft), sections_text(approved))


def test_a_draft_approved_as_it_was_has_no_edits() -> None:
    draft = [Section("reason", "Årsag", "Hoste"), Section("plan", "Plan", "Kontrol")]
    result = compare(draft, draft, sections_text(draft))
    assert result.distance == 0
    assert (result.kept, result.changed, result.added, result.removed) == (2, 0, 0, 0)


def test_sections_empty_on_both_sides_say_nothing() -> None:
    result = compare([Section("findings", "Fund", "")], [Section("findings", "Fund", " ")], "")
    assert result.sections == ()


def test_a_free_text_approval_gets_no_section_verdicts_only_the_overall_distance() -> None:
    draft = [Section("reason", "Årsag", "Hoste i tre dage"), Section("plan", "Plan", "Kontrol")]
    result = compare(draft, [], "Hoste i tre dage. Kontrol om en uge.")
    assert result.sections == ()
    assert (result.kept, result.changed, result.added, result.removed) == (0, 0, 0, 0)
    assert result.draft_words == 7  # the titles count, as the LPS files them
    assert result.distance > 0


def test_the_derived_times_need_both_ends() -> None:
    r = row(audio_seconds=90.0, call_ended_at=T0 + 600, draft_at=T0 + 642.5)
    assert r.audio_minutes == 1.5
    assert r.seconds_to_draft == 42.5
    assert r.seconds_to_approve is None
    assert replace(r, opened_at=T0 + 700, approved_at=T0 + 760).seconds_to_approve == 60
    assert row(draft_at=T0).seconds_to_draft is None
    assert not r.discarded and row(discarded_at=T0).discarded
    assert r.edit_rate is None
    assert row(distance=5, draft_words=20).edit_rate == 0.25
    assert row(distance=0, draft_words=0).edit_rate is None


def test_summaries_per_gp_and_for_the_whole_pilot() -> None:
    rows = [
        row("c1", "gp1", consent="given", consent_given_at=T0, audio_seconds=120.0,
            call_ended_at=T0, draft_at=T0 + 10, opened_at=T0 + 20, approved_at=T0 + 80,
            distance=4, draft_words=40, sections_kept=3, sections_changed=1, sections_added=0,
            sections_removed=1),
        row("c2", "gp2", consent="declined"),
        row("c3", "gp1", consent="withdrawn", consent_given_at=T0, audio_seconds=30.0),
        row("c4", "gp1", consent="given", consent_given_at=T0, audio_seconds=60.0,
            call_ended_at=T0, draft_at=T0 + 30, opened_at=T0 + 40, approved_at=T0 + 160,
            distance=0, draft_words=10, sections_kept=2, sections_changed=0, sections_added=1,
            sections_removed=0),
        row("c5", "gp1", consent="given", consent_given_at=T0, call_ended_at=T0,
            draft_at=T0 + 60, discarded_at=T0 + 90, engine_version="5.0.4"),
    ]  # fmt: skip
    [pilot] = summarise(rows, whole_pilot)
    assert pilot.group == WHOLE_PILOT
    assert pilot.gp_names == ("Dr. gp1", "Dr. gp2")
    assert (pilot.offered, pilot.consent_given, pilot.consent_declined) == (5, 3, 1)
    assert pilot.consent_withdrawn == 1
    assert (pilot.drafts, pilot.approved, pilot.discarded) == (3, 2, 1)
    assert pilot.audio_minutes == 3.5
    assert pilot.median_seconds_to_draft == 30  # of 10, 30, 60
    assert pilot.median_seconds_to_approve == 90  # of 60 and 120
    assert pilot.mean_distance == 2
    assert pilot.mean_edit_rate == pytest.approx(0.05)  # of 0.1 and 0
    assert (pilot.sections_kept, pilot.sections_changed) == (5, 1)
    assert (pilot.sections_added, pilot.sections_removed) == (1, 1)
    assert pilot.engines == ("pocketsphinx 5.0.3", "pocketsphinx 5.0.4")

    gp1, gp2 = summarise(rows, by_gp)
    assert (gp1.group, gp1.offered, gp1.approved) == ("gp1", 4, 2)
    assert (gp2.group, gp2.gp_names, gp2.offered, gp2.consent_declined) == (
        "gp2", ("Dr. gp2",), 1, 1,
    )  # fmt: skip
    assert gp2.drafts == 0 and gp2.audio_minutes == 0
    assert gp2.median_seconds_to_draft is None and gp2.median_seconds_to_approve is None
    assert gp2.mean_distance is None and gp2.mean_edit_rate is None


def test_nothing_to_summarise_gives_no_groups() -> None:
    assert summarise([], whole_pilot) == []


def test_the_consultations_csv_parses_back_with_its_numbers() -> None:
    rows = [
        row("c1", audio_seconds=125.0, consent="given", consent_at=T0 + 5,
            consent_given_at=T0 + 5, call_ended_at=T0 + 600, draft_at=T0 + 642,
            opened_at=T0 + 700, approved_at=T0 + 790, distance=6, draft_words=48,
            sections_kept=3, sections_changed=1, sections_added=1, sections_removed=0,
            section_distances=(("reason", 0), ("plan", 6))),
        row("c2", gp_id="gp2", gp_name="=HYPERLINK(\"x\")", discarded_at=T0 + 60),
    ]  # fmt: skip
    text = csv_rows(rows)
    assert text.splitlines()[0] == ",".join(ROW_COLUMNS)
    first, second = parse(text)
    assert first["consultation_id"] == "c1" and first["gp_id"] == "gp1"
    assert first["offered_at"] == "2026-05-28T22:26:40+02:00"
    assert first["consent"] == "given"
    assert (first["audio_seconds"], first["audio_minutes"]) == ("125.0", "2.1")
    assert (first["seconds_to_draft"], first["seconds_to_approve"]) == ("42.0", "90.0")
    assert (first["distance"], first["draft_words"], first["edit_rate"]) == ("6", "48", "0.125")
    assert (first["sections_kept"], first["sections_removed"]) == ("3", "0")
    assert first["section_distances"] == "reason=0;plan=6"
    assert (first["discarded"], first["discarded_at"]) == ("0", "")
    assert second["discarded"] == "1"
    assert second["gp_name"] == '\'=HYPERLINK("x")'  # a spreadsheet shows it, never runs it
    assert second["distance"] == second["draft_at"] == second["seconds_to_draft"] == ""


def test_the_summary_csv_parses_back_with_its_numbers() -> None:
    rows = [
        row("c1", "gp1", call_ended_at=T0, draft_at=T0 + 12, audio_seconds=90.0),
        row("c2", "gp2", consent="declined"),
    ]
    text = summary_csv(summarise(rows, by_gp))
    assert text.splitlines()[0] == ",".join(SUMMARY_COLUMNS)
    gp1, gp2 = parse(text)
    assert (gp1["group"], gp1["gp_names"], gp1["offered"]) == ("gp1", "Dr. gp1", "1")
    assert (gp1["audio_minutes"], gp1["median_seconds_to_draft"]) == ("1.5", "12.0")
    assert gp1["engines"] == "pocketsphinx 5.0.3"
    assert (gp2["consent_declined"], gp2["drafts"], gp2["mean_distance"]) == ("1", "0", "")
    [pilot] = parse(summary_csv(summarise(rows, whole_pilot)))
    assert (pilot["group"], pilot["gp_names"], pilot["offered"]) == ("all", "Dr. gp1;Dr. gp2", "2")


def test_the_evidence_has_its_denominators_and_the_time_from_call_end_to_approval() -> None:
    rows = [
        row("c1", "gp1", consent="given", call_ended_at=T0, draft_at=T0 + 20,
            opened_at=T0 + 30, approved_at=T0 + 300),
        row("c2", "gp1", consent="declined"),
        row("c3", "gp2", consent="given", call_ended_at=T0, draft_at=T0 + 20,
            opened_at=T0 + 600, approved_at=T0 + 900),
    ]  # fmt: skip
    held = {"gp1": 10, "gp2": 2, "gp3": 7}  # gp3 held calls but never offered: not a group
    [pilot] = summarise(rows, whole_pilot, held)
    assert pilot.held == 12
    assert (pilot.share_offered, pilot.share_used, pilot.share_refused) == (
        pytest.approx(3 / 12), pytest.approx(2 / 12), pytest.approx(1 / 12),
    )  # fmt: skip
    assert pilot.median_seconds_end_to_approved == 600  # of 300 and 900
    gp1, gp2 = summarise(rows, by_gp, held)
    assert (gp1.held, gp1.share_offered, gp1.share_refused) == (10, 0.2, 0.1)
    assert (gp2.held, gp2.share_used) == (2, 0.5)
    [unknown] = summarise(rows, whole_pilot)
    assert unknown.held is None and unknown.share_offered is None
    [line] = parse(summary_csv([pilot]))
    assert (line["consultations_held"], line["share_used"]) == ("12", "0.167")
    assert line["median_seconds_end_to_approved"] == "600.0"
