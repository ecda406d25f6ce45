"""How far a GP edited the note-taker's draft before approving it: a word edit distance
overall and a verdict per section (kept, changed, added, removed). Measurements only: the
result holds no text, because the pilot's evidence outlives the notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.store.notes import Section, sections_text

KEPT = "kept"
CHANGED = "changed"
ADDED = "added"
REMOVED = "removed"


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
