"""What a note-taker engine *is*: audio per speaker in, transcript and a draft note out.

Audio is 16 kHz mono signed 16-bit little-endian PCM. Speakers are known from the audio tap
(one track per participant), so engines never diarise. `at` is the time, in seconds since
the session started, of the first sample of a chunk; chunks of one speaker are contiguous.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import ClassVar, Protocol

SAMPLE_RATE = 16_000
SAMPLE_WIDTH = 2


@dataclass(frozen=True)
class SessionContext:
    consultation_id: str
    language: str
    speakers: tuple[str, ...]


@dataclass(frozen=True)
class EngineInfo:
    name: str
    version: str
    languages: tuple[str, ...]
    clinical_use: bool
    label: str


@dataclass(frozen=True)
class TranscriptPartial:
    """An unstable guess for the utterance in progress; a later event replaces it."""

    speaker: str
    start: float
    end: float
    text: str
    confidence: float


@dataclass(frozen=True)
class TranscriptFinal:
    """A settled utterance; `segment_id` is what draft sections cite as their source."""

    segment_id: str
    speaker: str
    start: float
    end: float
    text: str
    confidence: float


@dataclass(frozen=True)
class DraftSection:
    key: str
    title: str
    text: str
    spans: tuple[str, ...]


@dataclass(frozen=True)
class DraftReady:
    sections: tuple[DraftSection, ...]


@dataclass(frozen=True)
class EngineFailed:
    """The engine gave up; the consultation carries on without a note."""

    reason: str


EngineEvent = TranscriptPartial | TranscriptFinal | DraftReady | EngineFailed


class EngineUnavailable(Exception):
    """The engine cannot run here (missing package, model or configuration)."""


class Engine(Protocol):
    """One engine instance serves one consultation.

    `events()` yields until the engine is done: after `DraftReady`, `EngineFailed`, or `cancel()`.
    `cancel()` is consent withdrawal: stop at once, emit no draft, forget all audio and text.
    """

    info: ClassVar[EngineInfo]

    async def start(self, ctx: SessionContext) -> None: ...

    async def feed(self, speaker: str, pcm: bytes, at: float) -> None: ...

    async def stop(self) -> None: ...

    async def cancel(self) -> None: ...

    def events(self) -> AsyncIterator[EngineEvent]: ...
