"""Local Whisper through faster-whisper, for sites that install a model themselves.

Never downloads: the model is loaded from a configured directory with `local_files_only`.
For Danish use large-v3 or a Danish fine-tune; tiny and base score WER 90-120% on CoRal
(see CONTEXT.md). Audio is held in memory per speaker and transcribed when the call stops,
so this engine sends no partials. Its draft is the transcript only (see `drafts.py`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from pathlib import Path
from typing import Any, ClassVar

from integrations.notetaker.drafts import transcript_draft
from integrations.notetaker.eventqueue import EventQueue
from server.notetaker.protocol import (
    DraftReady,
    EngineInfo,
    EngineUnavailable,
    SessionContext,
    TranscriptFinal,
)

MODEL_DIR_ENV = "ALMENVIDEO_WHISPER_MODEL_DIR"


class FasterWhisperEngine:
    info: ClassVar[EngineInfo] = EngineInfo(
        name="faster-whisper",
        version="1",
        languages=("da", "en"),
        clinical_use=False,
        label="Local Whisper; Danish needs large-v3 or a Danish fine-tune",
    )

    @classmethod
    def unavailable_reason(cls, **options: Any) -> str | None:
        if importlib.util.find_spec("faster_whisper") is None:
            return "the faster-whisper package is not installed"
        model_dir = _model_dir(options.get("model_dir"))
        if model_dir is None:
            return f"no local model directory configured (model_dir or {MODEL_DIR_ENV})"
        if not (model_dir / "model.bin").is_file():
            return f"{model_dir} holds no CTranslate2 model (model.bin)"
        return None

    def __init__(
        self, *, model_dir: str | None = None, device: str = "cpu", compute_type: str = "int8"
    ) -> None:
        path = _model_dir(model_dir)
        if path is None:
            raise EngineUnavailable(f"no local model directory configured ({MODEL_DIR_ENV})")
        self._model_dir = path
        self._device = device
        self._compute_type = compute_type
        self._model: Any = None
        self._ctx: SessionContext | None = None
        self._audio: dict[str, bytearray] = {}
        self._events = EventQueue()

    async def start(self, ctx: SessionContext) -> None:
        self._ctx = ctx
        self._audio = {speaker: bytearray() for speaker in ctx.speakers}
        self._model = await asyncio.to_thread(self._load)

    async def feed(self, speaker: str, pcm: bytes, at: float) -> None:
        if not self._events.closed:
            self._audio.setdefault(speaker, bytearray()).extend(pcm)

    async def stop(self) -> None:
        if self._events.closed or self._ctx is None:
            return
        finals: list[TranscriptFinal] = []
        for speaker, pcm in self._audio.items():
            for final in await asyncio.to_thread(self._transcribe, speaker, bytes(pcm)):
                finals.append(final)
                self._events.put(final)
        self._events.put(DraftReady(transcript_draft(finals, self._ctx.speakers)))
        await self.cancel()

    async def cancel(self) -> None:
        self._audio.clear()
        self._events.close()

    def events(self) -> EventQueue:
        return self._events

    def _load(self) -> Any:
        from faster_whisper import WhisperModel

        return WhisperModel(
            str(self._model_dir),
            device=self._device,
            compute_type=self._compute_type,
            local_files_only=True,
        )

    def _transcribe(self, speaker: str, pcm: bytes) -> list[TranscriptFinal]:
        import numpy as np

        samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        assert self._ctx is not None
        segments, _ = self._model.transcribe(
            samples, language=self._ctx.language, vad_filter=True, beam_size=5
        )
        return [
            TranscriptFinal(
                segment_id=f"{speaker}-{n}",
                speaker=speaker,
                start=seg.start,
                end=seg.end,
                text=seg.text.strip(),
                confidence=float(np.exp(seg.avg_logprob)),
            )
            for n, seg in enumerate(segments, start=1)
        ]


def _model_dir(configured: str | None) -> Path | None:
    value = configured or os.environ.get(MODEL_DIR_ENV)
    return Path(value) if value else None
