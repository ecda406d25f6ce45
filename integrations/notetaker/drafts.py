"""The draft an engine without language understanding may honestly produce.

A speech recogniser knows who said what and when, not which words are history and which are
an assessment. Sorting utterances into clinical sections by speaker would invent structure,
so the template sections stay empty for the GP to write, and the transcript follows them,
one section per speaker in time order, each citing the segments it quotes.

The titles are Danish: they are filed in a Danish practice's record as they stand.
"""

from __future__ import annotations

from collections.abc import Iterable

from server.notetaker.protocol import DraftSection, TranscriptFinal

TEMPLATE: tuple[tuple[str, str], ...] = (
    ("reason", "Kontaktårsag"),
    ("history", "Anamnese"),
    ("findings", "Objektive fund"),
    ("assessment", "Vurdering"),
    ("plan", "Plan"),
)
SPEAKERS = {"gp": "lægen", "patient": "patienten"}


def transcript_title(speaker: str) -> str:
    """ "Udskrift: lægen" for the speaker "gp"; an unknown speaker by their own name."""
    return f"Udskrift: {SPEAKERS.get(speaker, speaker)}"


def transcript_draft(
    finals: Iterable[TranscriptFinal], speakers: Iterable[str]
) -> tuple[DraftSection, ...]:
    ordered = sorted(finals, key=lambda f: (f.start, f.segment_id))
    names = list(dict.fromkeys([*speakers, *(f.speaker for f in ordered)]))
    sections = [DraftSection(key, title, "", ()) for key, title in TEMPLATE]
    for speaker in names:
        said = [f for f in ordered if f.speaker == speaker and f.text]
        sections.append(
            DraftSection(
                key=f"transcript.{speaker}",
                title=transcript_title(speaker),
                text="\n".join(f"[{_clock(f.start)}] {f.text}" for f in said),
                spans=tuple(f.segment_id for f in said),
            )
        )
    return tuple(sections)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"
