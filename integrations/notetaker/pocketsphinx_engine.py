"""A real, offline, English-only demonstration engine: CMU PocketSphinx with its bundled model.

Not for clinical use: the model is small, US-English and general vocabulary. Decoding runs in
worker threads so the event loop that carries the call never blocks. Its draft is the
transcript only (see `drafts.py`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any, ClassVar

from pocketsphinx import Decoder, Endpointer

from integrations.notetaker.drafts import transcript_draft
from integrations.notetaker.eventqueue import EventQueue
from server.notetaker.protocol import (
    SAMPLE_RATE,
    SAMPLE_WIDTH,
    DraftReady,
    EngineEvent,
    EngineInfo,
    SessionContext,
    TranscriptFinal,
    TranscriptPartial,
)


class PocketsphinxEngine:
    info: ClassVar[EngineInfo] = EngineInfo(
        name="pocketsphinx",
        version=version("pocketsphinx"),
        languages=("en",),
        clinical_use=False,
        label="English only, not for clinical use",
    )

    @classmethod
    def unavailable_reason(cls, **options: Any) -> str | None:
        return None

    def __init__(self) -> None:
        self._events = EventQueue()
        self._ctx: SessionContext | None = None
        self._speakers: dict[str, _SpeakerDecoder] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._finals: list[TranscriptFinal] = []
        self.audio_seconds = 0.0
        self.decode_seconds = 0.0

    @property
    def real_time_factor(self) -> float | None:
        """Decoding time per second of audio; below 1 keeps up with a live call."""
        if not self.audio_seconds:
            return None
        return self.decode_seconds / self.audio_seconds

    async def start(self, ctx: SessionContext) -> None:
        self._ctx = ctx
        for speaker in ctx.speakers:
            await self._decoder(speaker)

    async def feed(self, speaker: str, pcm: bytes, at: float) -> None:
        if self._events.closed:
            return
        async with self._lock(speaker):
            decoder = await self._decoder(speaker)
            began = time.perf_counter()
            events = await asyncio.to_thread(decoder.process, pcm, at)
            self.decode_seconds += time.perf_counter() - began
            self.audio_seconds += len(pcm) / (SAMPLE_RATE * SAMPLE_WIDTH)
            self._publish(events)

    async def stop(self) -> None:
        if self._events.closed:
            return
        for speaker, decoder in list(self._speakers.items()):
            async with self._lock(speaker):
                self._publish(await asyncio.to_thread(decoder.finish))
        speakers = self._ctx.speakers if self._ctx else ()
        self._events.put(DraftReady(transcript_draft(self._finals, speakers)))
        self._forget()

    async def cancel(self) -> None:
        self._forget()

    def events(self) -> EventQueue:
        return self._events

    def _publish(self, events: list[EngineEvent]) -> None:
        for event in events:
            if isinstance(event, TranscriptFinal):
                self._finals.append(event)
            self._events.put(event)

    def _forget(self) -> None:
        self._speakers.clear()
        self._finals.clear()
        self._events.close()

    def _lock(self, speaker: str) -> asyncio.Lock:
        return self._locks.setdefault(speaker, asyncio.Lock())

    async def _decoder(self, speaker: str) -> _SpeakerDecoder:
        if speaker not in self._speakers:
            self._speakers[speaker] = await asyncio.to_thread(_SpeakerDecoder, speaker)
        return self._speakers[speaker]


@dataclass
class _SpeakerDecoder:
    """One speaker's stream: voice activity cuts utterances, the decoder transcribes them."""

    speaker: str
    origin: float | None = None
    decoder: Decoder = field(init=False)
    endpointer: Endpointer = field(init=False)
    pending: bytes = b""
    utterances: int = 0

    def __post_init__(self) -> None:
        self.decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self.endpointer = Endpointer(sample_rate=SAMPLE_RATE)

    def process(self, pcm: bytes, at: float) -> list[EngineEvent]:
        if self.origin is None:
            self.origin = at
        data = self.pending + pcm
        size = self.endpointer.frame_bytes
        whole = len(data) - len(data) % size
        self.pending = data[whole:]
        events: list[EngineEvent] = []
        for offset in range(0, whole, size):
            was_speech = self.endpointer.in_speech
            speech = self.endpointer.process(data[offset : offset + size])
            if speech is None:
                continue
            if not was_speech:
                self.decoder.start_utt()
            self.decoder.process_raw(speech)
            if self.endpointer.in_speech:
                partial = self._partial()
                if partial is not None:
                    events.append(partial)
            else:
                events.append(self._final())
        return events

    def finish(self) -> list[EngineEvent]:
        if not self.endpointer.in_speech:
            return []
        # end_stream needs some audio: with none pending, one silent sample flushes it.
        tail = self.pending[: self.endpointer.frame_bytes] or bytes(SAMPLE_WIDTH)
        speech = self.endpointer.end_stream(tail)
        self.pending = b""
        if speech is not None and len(speech):
            self.decoder.process_raw(speech)
        return [self._final()]

    def _partial(self) -> TranscriptPartial | None:
        hyp = self.decoder.hyp()
        if hyp is None or not hyp.hypstr:
            return None
        start = (self.origin or 0.0) + self.endpointer.speech_start
        end = start + self.decoder.n_frames() / _FRAMES_PER_SECOND
        return TranscriptPartial(self.speaker, start, end, hyp.hypstr, self._confidence())

    def _final(self) -> TranscriptFinal:
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        self.utterances += 1
        return TranscriptFinal(
            segment_id=f"{self.speaker}-{self.utterances}",
            speaker=self.speaker,
            start=(self.origin or 0.0) + self.endpointer.speech_start,
            end=(self.origin or 0.0) + self.endpointer.speech_end,
            text=hyp.hypstr if hyp is not None else "",
            confidence=self._confidence(),
        )

    def _confidence(self) -> float:
        """Mean word posterior; silence and filler tokens are not words."""
        probs = [seg.prob for seg in self.decoder.seg() if not seg.word.startswith(("<", "[", "+"))]
        return sum(probs) / len(probs) if probs else 0.0


_FRAMES_PER_SECOND = 100
