"""The AI note-taker pilot's evidence: how far a GP had to edit the engine's draft, how
long things took, and who consented, per consultation, per GP and for the whole pilot.

Pure functions only: the store (`server.store.pilotevidence`) records the numbers (the edit
measurements come from `notecomparison`), the page and `evidencecsv` show them. Nothing
here ever holds the text of a note, only what was measured on it, because this evidence
outlives the notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean, median

GIVEN = "given"
DECLINED = "declined"
WITHDRAWN = "withdrawn"
CONSENT_ANSWERS = (GIVEN, DECLINED, WITHDRAWN)

WHOLE_PILOT = "all"


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
