"""The pilot's evidence as CSV: one line per consultation, and one per summary group.

Cells that a spreadsheet would read as a formula are quoted as text; times are local.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from server.clock import iso_local
from server.pilots.evidence import EvidenceRow, Summary

ROW_COLUMNS = (
    "consultation_id", "clinic_id", "gp_id", "gp_name", "engine", "engine_version",
    "offered_at", "consent", "consent_at", "consent_given_at", "audio_seconds",
    "audio_minutes", "call_ended_at", "draft_at", "seconds_to_draft", "opened_at",
    "approved_at", "seconds_to_approve", "discarded", "discarded_at", "distance",
    "draft_words", "edit_rate", "sections_kept", "sections_changed", "sections_added",
    "sections_removed", "section_distances",
)  # fmt: skip
SUMMARY_COLUMNS = (
    "group", "gp_names", "offered", "consent_given", "consent_declined", "consent_withdrawn",
    "drafts", "approved", "discarded", "audio_minutes", "median_seconds_to_draft",
    "median_seconds_to_approve", "mean_distance", "mean_edit_rate", "sections_kept",
    "sections_changed", "sections_added", "sections_removed", "engines", "consultations_held",
    "share_offered", "share_used", "share_refused", "median_seconds_end_to_approved",
)  # fmt: skip

# Columns holding decimal numbers (a spreadsheet download writes them with a comma).
DECIMAL_COLUMNS = frozenset({
    "audio_seconds", "audio_minutes", "seconds_to_draft", "seconds_to_approve", "edit_rate",
    "median_seconds_to_draft", "median_seconds_to_approve", "mean_distance", "mean_edit_rate",
    "share_offered", "share_used", "share_refused", "median_seconds_end_to_approved",
})  # fmt: skip

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """Text a spreadsheet would run as a formula (a name starting with "=") is quoted."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _time(ts: float | None) -> str:
    """ISO 8601 in Copenhagen time with its offset: unambiguous, and the pilot's own clock."""
    return "" if ts is None else iso_local(ts)


def _number(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}"


def _int(value: int | None) -> str:
    return "" if value is None else str(value)


def _csv(columns: Sequence[str], lines: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(lines)
    return out.getvalue()


def _row_cells(r: EvidenceRow) -> list[str]:
    return [
        r.consultation_id,
        r.clinic_id,
        r.gp_id,
        _text(r.gp_name),
        _text(r.engine),
        _text(r.engine_version),
        _time(r.offered_at),
        r.consent,
        _time(r.consent_at),
        _time(r.consent_given_at),
        _number(r.audio_seconds, 1),
        _number(r.audio_minutes, 1),
        _time(r.call_ended_at),
        _time(r.draft_at),
        _number(r.seconds_to_draft, 1),
        _time(r.opened_at),
        _time(r.approved_at),
        _number(r.seconds_to_approve, 1),
        str(int(r.discarded)),
        _time(r.discarded_at),
        _int(r.distance),
        _int(r.draft_words),
        _number(r.edit_rate, 3),
        _int(r.sections_kept),
        _int(r.sections_changed),
        _int(r.sections_added),
        _int(r.sections_removed),
        _text(";".join(f"{key}={d}" for key, d in r.section_distances)),
    ]


def _summary_cells(s: Summary) -> list[str]:
    return [
        s.group,
        _text(";".join(s.gp_names)),
        str(s.offered),
        str(s.consent_given),
        str(s.consent_declined),
        str(s.consent_withdrawn),
        str(s.drafts),
        str(s.approved),
        str(s.discarded),
        _number(s.audio_minutes, 1),
        _number(s.median_seconds_to_draft, 1),
        _number(s.median_seconds_to_approve, 1),
        _number(s.mean_distance, 1),
        _number(s.mean_edit_rate, 3),
        str(s.sections_kept),
        str(s.sections_changed),
        str(s.sections_added),
        str(s.sections_removed),
        _text(";".join(s.engines)),
        "" if s.held is None else str(s.held),
        _number(s.share_offered, 3),
        _number(s.share_used, 3),
        _number(s.share_refused, 3),
        _number(s.median_seconds_end_to_approved, 1),
    ]


def csv_rows(rows: Iterable[EvidenceRow]) -> str:
    """One CSV line per consultation, under the `ROW_COLUMNS` header; blank means "not
    (yet) happened". Section distances read "key=distance", separated by ";"."""
    return _csv(ROW_COLUMNS, map(_row_cells, rows))


def summary_csv(summaries: Iterable[Summary]) -> str:
    """One CSV line per group, under the `SUMMARY_COLUMNS` header; lists are joined by ";"."""
    return _csv(SUMMARY_COLUMNS, map(_summary_cells, summaries))
