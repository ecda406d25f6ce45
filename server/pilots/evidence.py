"""The AI note-taker pilot's evidence: how far a GP had to edit the engine's draft, how
long things took, and who consented, per consultation, per GP and for the whole pilot.

Pure functions only: the store (`server.store.pilotevidence`) records the numbers, the page
and the CSV export show them. Nothing here ever holds the text of a note, only what was
measured on it, because this evidence outlives the notes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean, median

from server.clock import iso_local
from server.store.notes import Section, sections_text

KEPT = "kept"
CHANGED = "changed"
ADDED = "added"
REMOVED = "removed"

GIVEN = "given"
DECLINED = "declined"
WITHDRAWN = "withdrawn"
CONSENT_ANSWERS = (GIVEN, DECLINED, WITHDRAWN)

WHOLE_PILOT = "all"


def words(text: str) -> list[str]:
    """The text's words, split on any whitespace. Case and punctuation stay part of a word:
    a GP who turns "hypertension" into "Hypertension." has edited the draft, and the pilot
    asks how much editing a draft needs. Reflowed lines or spacing are not edits."""
    return text.split()


def word_edit_distance(a: str, b: str) -> int:
    """Levenshtein distance over words (insert, delete, substitute each cost 1): O(n·m)
    time, but memory for one row over the shorter text only, as notes can be long."""
    long, short = words(a), words(b)
    if len(long) < len(short):
        long, short = short, long
    previous = list(range(len(short) + 1))
    for i, word in enumerate(long, 1):
        current = [i]
        for j, other in enumerate(short, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
            )
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class SectionChange:
    key: str
    distance: int  # words inserted, deleted or substituted in this section
    status: str  # kept | changed | added | removed


@dataclass(frozen=True)
class Comparison:
    """The draft against the note the GP approved: measurements only, no text."""

    distance: int
    draft_words: int
    sections: tuple[SectionChange, ...]

    def _count(self, status: str) -> int:
        return sum(s.status == status for s in self.sections)

    @property
    def kept(self) -> int:
        return self._count(KEPT)

    @property
    def changed(self) -> int:
        return self._count(CHANGED)

    @property
    def added(self) -> int:
        return self._count(ADDED)

    @property
    def removed(self) -> int:
        return self._count(REMOVED)


def _texts_by_key(sections: Sequence[Section]) -> dict[str, str]:
    """Section text per key; a key given twice has its texts joined rather than one lost."""
    texts: dict[str, str] = {}
    for s in sections:
        texts[s.key] = f"{texts[s.key]}\n{s.text}" if s.key in texts else s.text
    return texts


def _status(draft: list[str], approved: list[str]) -> str | None:
    if not draft:
        return ADDED if approved else None
    if not approved:
        return REMOVED
    return KEPT if draft == approved else CHANGED


def compare(
    draft: Sequence[Section], approved: Sequence[Section], approved_text: str
) -> Comparison:
    """Compare by section key; titles only count in the overall distance.

    A section is "kept" when its words are unchanged, "changed" otherwise, "added" when the
    draft had no words for it, and "removed" when the approved note has none. A section
    empty on both sides tells nothing and is left out.

    An approved note without sections is free text the GP wrote instead of the sections:
    there is nothing to match them against, and calling every draft section "removed"
    would claim the GP threw away text that may well be in the free text. Such a note gets
    no section verdicts, and only the overall distance says how much was edited."""
    draft_text = sections_text(draft)
    changes: list[SectionChange] = []
    if approved:
        before, after = _texts_by_key(draft), _texts_by_key(approved)
        for key in [*before, *(k for k in after if k not in before)]:
            old, new = before.get(key, ""), after.get(key, "")
            status = _status(words(old), words(new))
            if status is not None:
                changes.append(SectionChange(key, word_edit_distance(old, new), status))
    return Comparison(
        word_edit_distance(draft_text, approved_text), len(words(draft_text)), tuple(changes)
    )


@dataclass(frozen=True)
class EvidenceRow:
    """One pilot consultation, from the GP's offer of the note-taker to the approved note.

    Times are UTC epoch seconds, None until the step happened. The comparison's numbers
    are None until a note is approved."""

    consultation_id: str
    clinic_id: str
    gp_id: str
    gp_name: str
    engine: str
    engine_version: str
    offered_at: float | None
    consent: str  # the latest answer: "" (not asked) | given | declined | withdrawn
    consent_at: float | None  # when the latest answer was given
    consent_given_at: float | None  # the first "given", kept after a withdrawal
    audio_seconds: float  # audio tapped, every speaker's summed
    call_ended_at: float | None
    draft_at: float | None
    opened_at: float | None  # the GP's first look at the draft
    approved_at: float | None
    discarded_at: float | None
    distance: int | None
    draft_words: int | None
    sections_kept: int | None
    sections_changed: int | None
    sections_added: int | None
    sections_removed: int | None
    section_distances: tuple[tuple[str, int], ...] = ()  # (section key, distance)

    @property
    def discarded(self) -> bool:
        return self.discarded_at is not None

    @property
    def audio_minutes(self) -> float:
        return self.audio_seconds / 60

    @property
    def seconds_to_draft(self) -> float | None:
        if self.draft_at is None or self.call_ended_at is None:
            return None
        return self.draft_at - self.call_ended_at

    @property
    def seconds_to_approve(self) -> float | None:
        if self.approved_at is None or self.opened_at is None:
            return None
        return self.approved_at - self.opened_at

    @property
    def seconds_end_to_approved(self) -> float | None:
        """From the call's end to the GP's approved note: the time the GP waits for it."""
        if self.approved_at is None or self.call_ended_at is None:
            return None
        return self.approved_at - self.call_ended_at

    @property
    def edit_rate(self) -> float | None:
        """Edits per drafted word: 0 is a draft approved as it was."""
        if self.distance is None or not self.draft_words:
            return None
        return self.distance / self.draft_words


@dataclass(frozen=True)
class Summary:
    """A group's consultations (one GP's, or the whole pilot's) in figures. Means and
    medians are None when no consultation in the group had the figure."""

    group: str
    gp_names: tuple[str, ...]
    offered: int
    consent_given: int  # by the latest answer
    consent_declined: int
    consent_withdrawn: int
    drafts: int
    approved: int
    discarded: int
    audio_minutes: float
    median_seconds_to_draft: float | None
    median_seconds_to_approve: float | None
    mean_distance: float | None  # per approved note
    mean_edit_rate: float | None  # distance per drafted word, per approved note
    sections_kept: int
    sections_changed: int
    sections_added: int
    sections_removed: int
    engines: tuple[str, ...]  # "name version"
    # The denominator: the group's consultations held (calls that ended with a billing
    # code); None when not known. Shares are of those.
    held: int | None = None
    median_seconds_end_to_approved: float | None = None

    def _share(self, count: int) -> float | None:
        return None if not self.held else count / self.held

    @property
    def share_offered(self) -> float | None:
        return self._share(self.offered)

    @property
    def share_used(self) -> float | None:
        """Consultations in which the note-taker made a draft."""
        return self._share(self.drafts)

    @property
    def share_refused(self) -> float | None:
        """Consultations in which the patient declined the note-taker."""
        return self._share(self.consent_declined)


def by_gp(row: EvidenceRow) -> str:
    return row.gp_id


def whole_pilot(row: EvidenceRow) -> str:
    return WHOLE_PILOT


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return median(present) if present else None


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return fmean(present) if present else None


def _summary(group: str, rows: Sequence[EvidenceRow], held: int | None = None) -> Summary:
    answers = [r.consent for r in rows]
    return Summary(
        held=held,
        median_seconds_end_to_approved=_median(r.seconds_end_to_approved for r in rows),
        group=group,
        gp_names=tuple(sorted({r.gp_name for r in rows})),
        offered=len(rows),
        consent_given=answers.count(GIVEN),
        consent_declined=answers.count(DECLINED),
        consent_withdrawn=answers.count(WITHDRAWN),
        drafts=sum(r.draft_at is not None for r in rows),
        approved=sum(r.approved_at is not None for r in rows),
        discarded=sum(r.discarded for r in rows),
        audio_minutes=sum(r.audio_seconds for r in rows) / 60,
        median_seconds_to_draft=_median(r.seconds_to_draft for r in rows),
        median_seconds_to_approve=_median(r.seconds_to_approve for r in rows),
        mean_distance=_mean(r.distance for r in rows),
        mean_edit_rate=_mean(r.edit_rate for r in rows),
        sections_kept=sum(r.sections_kept or 0 for r in rows),
        sections_changed=sum(r.sections_changed or 0 for r in rows),
        sections_added=sum(r.sections_added or 0 for r in rows),
        sections_removed=sum(r.sections_removed or 0 for r in rows),
        engines=tuple(sorted({f"{r.engine} {r.engine_version}".strip() for r in rows})),
    )


def summarise(
    rows: Iterable[EvidenceRow],
    key: Callable[[EvidenceRow], str],
    held: Mapping[str, int] | None = None,
) -> list[Summary]:
    """One summary per group `key` puts rows in (`by_gp`, `whole_pilot`), in the order the
    groups first appear in `rows`. `held` (GP id -> consultations held) gives each group
    its denominator: the held consultations of the GPs in it."""
    groups: dict[str, list[EvidenceRow]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return [
        _summary(
            group,
            members,
            None if held is None else sum(held.get(g, 0) for g in {r.gp_id for r in members}),
        )
        for group, members in groups.items()
    ]


# Column names are part of the export's contract: analyses read them, so they only grow.
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
