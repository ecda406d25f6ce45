from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from array import array
from pathlib import Path

import pytest

from integrations.notetaker.pocketsphinx_engine import PocketsphinxEngine
from server.notetaker.protocol import (
    DraftReady,
    EngineEvent,
    SessionContext,
    TranscriptFinal,
)

ESPEAK = shutil.which("espeak-ng") or "espeak-ng is missing: run ./scripts/test, which installs it"
CHUNK = 3200  # 100 ms of 16 kHz 16-bit audio
SILENCE = 16_000  # 0.5 s


def speech(tmp_path: Path, *sentences: str) -> bytes:
    """espeak-ng speaks at 22050 Hz; the engine hears 16 kHz, sentences apart by silence."""
    silence = bytes(SILENCE)
    pcm = silence
    for n, text in enumerate(sentences):
        wav = tmp_path / f"speech-{n}.wav"
        subprocess.run([ESPEAK, "-v", "en-us", "-s", "160", "-w", str(wav), text], check=True)
        with wave.open(str(wav)) as source:
            raw = source.readframes(source.getnframes())
            rate = source.getframerate()
        pcm += resample(raw, rate) + silence + silence
    return pcm


def resample(raw: bytes, rate: int) -> bytes:
    """Linear interpolation to 16 kHz: crude, but enough for a recogniser test."""
    source = array("h", raw)
    step = rate / 16_000
    out = array("h")
    for n in range(int((len(source) - 1) / step)):
        position = n * step
        i = int(position)
        frac = position - i
        out.append(round(source[i] * (1 - frac) + source[i + 1] * frac))
    return out.tobytes()


def entries(folder: Path) -> list[Path]:
    return list(folder.iterdir())


async def transcribe(pcm: bytes) -> list[EngineEvent]:
    engine = PocketsphinxEngine()
    await engine.start(SessionContext("c-1", "en", ("gp", "patient")))
    for offset in range(0, len(pcm), CHUNK):
        await engine.feed("patient", pcm[offset : offset + CHUNK], offset / 32_000)
    await engine.stop()
    assert engine.real_time_factor is not None and engine.real_time_factor > 0
    return [event async for event in engine.events()]


async def test_english_speech_is_transcribed_for_the_patient(tmp_path: Path) -> None:
    events = await transcribe(speech(tmp_path, "yes.", "good morning doctor.", "I have pain."))
    finals = [e for e in events if isinstance(e, TranscriptFinal)]
    words = " ".join(f.text for f in finals if f.speaker == "patient").split()
    assert "yes" in words
    assert all(f.speaker == "patient" for f in finals)
    draft = events[-1]
    assert isinstance(draft, DraftReady)
    sections = {s.key: s for s in draft.sections}
    assert [sections[k].text for k in ("reason", "history", "findings", "assessment", "plan")] == [
        ""
    ] * 5
    assert sections["transcript.patient"].spans == tuple(f.segment_id for f in finals)
    assert "yes" in sections["transcript.patient"].text
    assert sections["transcript.gp"].text == ""


async def test_the_engine_writes_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pcm = speech(tmp_path, "yes.")
    scratch, cwd = tmp_path / "tmp", tmp_path / "cwd"
    scratch.mkdir()
    cwd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.chdir(cwd)
    await transcribe(pcm)
    assert entries(scratch) == []
    assert entries(cwd) == []


async def test_cancel_emits_no_draft(tmp_path: Path) -> None:
    engine = PocketsphinxEngine()
    await engine.start(SessionContext("c-1", "en", ("patient",)))
    await engine.feed("patient", speech(tmp_path, "yes."), 0.0)
    await engine.cancel()
    assert [e async for e in engine.events() if isinstance(e, DraftReady)] == []


async def test_a_call_ending_mid_sentence_still_drafts(tmp_path: Path) -> None:
    """Hung up mid-word, wherever the cut falls (a whole voice-activity frame pending,
    a part of one, or none): stop() still flushes the utterance and drafts."""
    pcm = speech(tmp_path, "good morning doctor, I have had a sore throat for three days.")
    middle = len(pcm) // 2 // 960 * 960
    for cut in (middle, middle + 2, middle + 480, middle + 958):
        events = await transcribe(pcm[:cut])
        assert isinstance(events[-1], DraftReady), cut
