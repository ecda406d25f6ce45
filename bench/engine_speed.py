"""The pocketsphinx engine's speed: espeak-ng speech, resampled to 16 kHz, fed in 200 ms
chunks as fast as it decodes; its real-time factor and live streams per core."""

from __future__ import annotations

import math
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import av

from integrations.notetaker.pocketsphinx_engine import PocketsphinxEngine
from server.notetaker.protocol import SAMPLE_RATE, SAMPLE_WIDTH, SessionContext, TranscriptFinal

BYTES_PER_SECOND = SAMPLE_RATE * SAMPLE_WIDTH
ENGINE_CHUNK = int(SAMPLE_RATE * 0.2) * SAMPLE_WIDTH
SPEECH = (
    "Good morning doctor. I have had a sore throat and a fever for three days. "
    "It hurts when I swallow, and I feel very tired. "
    "Let me have a look at your throat. Please open your mouth and say ah. "
    "Your tonsils are red and swollen. I will take a swab, and we will call you tomorrow."
)


def speech_pcm(seconds: float) -> tuple[bytes, float]:
    """espeak-ng's speech, resampled to the engine's 16 kHz, repeated with a pause between
    until it lasts `seconds`, then a second's quiet as a consultation ends; also the length
    of one reading."""
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), SPEECH], check=True)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        once = bytearray()
        with av.open(str(wav)) as container:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    once += bytes(out.planes[0])[: out.samples * SAMPLE_WIDTH]
            for out in resampler.resample(None):
                once += bytes(out.planes[0])[: out.samples * SAMPLE_WIDTH]
    once += bytes(BYTES_PER_SECOND // 2)
    reading = len(once) / BYTES_PER_SECOND
    speech = (bytes(once) * math.ceil(seconds / reading))[: int(seconds * BYTES_PER_SECOND)]
    return speech + bytes(BYTES_PER_SECOND), reading


async def engine_rtf(seconds: float) -> dict[str, Any]:
    pcm, reading = speech_pcm(seconds)
    engine = PocketsphinxEngine()
    await engine.start(SessionContext("bench", "en", ("patient",)))
    began = time.perf_counter()
    for offset in range(0, len(pcm), ENGINE_CHUNK):
        at = offset / BYTES_PER_SECOND
        await engine.feed("patient", pcm[offset : offset + ENGINE_CHUNK], at)
    await engine.stop()
    wall = time.perf_counter() - began
    finals = [event async for event in engine.events() if isinstance(event, TranscriptFinal)]
    rtf = engine.real_time_factor or 0.0
    audio = engine.audio_seconds
    return {
        "name": "pocketsphinx",
        "version": PocketsphinxEngine.info.version,
        "speech_seconds": round(audio, 1),
        "one_reading_seconds": round(reading, 1),
        "real_time_factor": round(rtf, 3),
        "wall_real_time_factor": round(wall / audio, 3),
        "live_streams_per_core": round(1 / rtf, 1) if rtf else None,
        "utterances": len(finals),
        "transcript": " ".join(f.text for f in finals if f.text),
    }
