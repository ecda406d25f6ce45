"""The note-taker's audio tap: a server-side aiortc peer that only listens.

The GP's browser opens a second peer connection to it and sends one audio track per speaker:
its own microphone (`gp`), the patient's remote audio (`patient`), and any invited
professional's (`staff`, `staff-2`, ...). The browser names the speaker of each track by the
transceiver's mid, so the engine never has to guess who spoke.

Decisions:
- Audio lives in memory only: decoded frames are resampled to 16 kHz mono PCM, cut into
  chunks of `CHUNK_SECONDS`, handed to the sink and dropped. Nothing is written anywhere.
- Lost packets show as gaps in the RTP timestamps, counted in `lost_frames`. A gap of up to
  `MAX_GAP_SECONDS` is filled with silence, so each speaker's audio stays contiguous; after
  a longer one the next chunk's time jumps past it, so later speech keeps its true time.
- The answer asks for 60 ms Opus packets (`PTIME_MS`).
- Like the line test's echo, the offer is complete (non-trickle) and the answer carries all
  of our candidates, so one HTTP round trip sets a tap up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, AudioResampler

from server.notetaker.protocol import SAMPLE_RATE, SAMPLE_WIDTH

log = logging.getLogger(__name__)

CHUNK_SECONDS = 0.2
# Asked of the browser's Opus encoder: three times fewer packets than the usual 20 ms, and
# so about a third of the server's work per second of audio (most of it is per packet).
# A note-taker does not mind the extra 40 ms of delay.
PTIME_MS = 60
MAX_GAP_SECONDS = 10.0
CHUNK_BYTES = int(SAMPLE_RATE * CHUNK_SECONDS) * SAMPLE_WIDTH

# speaker, 16 kHz mono s16le PCM, seconds since the tap's session started
AudioSink = Callable[[str, bytes, float], Awaitable[None]]


@dataclass
class SpeakerStats:
    frames: int = 0
    lost_frames: int = 0
    seconds: float = 0.0


@dataclass
class TapStats:
    speakers: dict[str, SpeakerStats] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return sum(s.frames for s in self.speakers.values())

    @property
    def lost_frames(self) -> int:
        return sum(s.lost_frames for s in self.speakers.values())

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.speakers.values())


class AudioTap:
    """One browser's tap. `speakers` maps the offer's mids to speaker names; tracks on
    other mids, and video, are ignored. `origin` is the loop time the session started, so a
    tap that replaces another (after a reload) continues the same clock."""

    def __init__(
        self,
        configuration: RTCConfiguration,
        speakers: dict[str, str],
        sink: AudioSink,
        origin: float,
    ) -> None:
        self.pc = RTCPeerConnection(configuration)
        self.stats = TapStats()
        self._speakers = speakers
        self._sink = sink
        self._origin = origin
        self._readers: set[asyncio.Task[None]] = set()
        self._ended = asyncio.Event()
        self._closing: asyncio.Future[None] | None = None
        self.pc.on("track", self._listen)
        self.pc.on("connectionstatechange", self._state_changed)

    async def answer(self, offer_sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return with_ptime(self.pc.localDescription.sdp, PTIME_MS)

    async def wait_ended(self) -> None:
        """Until the browser closes its side, the connection fails, or close() is called."""
        await self._ended.wait()

    async def close(self) -> None:
        """Close once, however many callers ask; flushes what each speaker said last."""
        self._ended.set()
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    def _state_changed(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self._ended.set()

    def _listen(self, track: MediaStreamTrack) -> None:
        mid = next((t.mid for t in self.pc.getTransceivers() if t.receiver.track is track), None)
        speaker = self._speakers.get(mid or "")
        if track.kind != "audio" or speaker is None:
            return
        task = asyncio.create_task(self._read(track, speaker))
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)

    async def _read(self, track: MediaStreamTrack, speaker: str) -> None:
        stats = self.stats.speakers.setdefault(speaker, SpeakerStats())
        resampler = AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        loop = asyncio.get_running_loop()
        pending = bytearray()
        at: float | None = None  # session time of pending's first sample
        next_pts: int | None = None
        try:
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    break
                assert isinstance(frame, AudioFrame)
                stats.frames += 1
                if at is None:
                    at = loop.time() - self._origin
                if next_pts is not None and frame.pts is not None and frame.pts > next_pts:
                    missing = frame.pts - next_pts
                    stats.lost_frames += round(missing / frame.samples)
                    gap = missing / frame.sample_rate
                    if gap <= MAX_GAP_SECONDS:
                        pending += bytes(round(gap * SAMPLE_RATE) * SAMPLE_WIDTH)
                    else:  # a long hole: what came before goes now, the clock jumps over it
                        if pending:
                            at = await self._send(speaker, stats, bytes(pending), at)
                            pending.clear()
                        at += gap
                if frame.pts is not None:
                    next_pts = frame.pts + frame.samples
                for out in resampler.resample(frame):
                    pending += bytes(out.planes[0])[: out.samples * SAMPLE_WIDTH]
                while len(pending) >= CHUNK_BYTES:
                    at = await self._send(speaker, stats, bytes(pending[:CHUNK_BYTES]), at)
                    del pending[:CHUNK_BYTES]
        finally:
            if pending and at is not None:
                await self._send(speaker, stats, bytes(pending), at)

    async def _send(self, speaker: str, stats: SpeakerStats, pcm: bytes, at: float) -> float:
        seconds = len(pcm) / (SAMPLE_RATE * SAMPLE_WIDTH)
        stats.seconds += seconds
        await self._sink(speaker, pcm, at)
        return at + seconds

    async def _close(self) -> None:
        try:
            await self.pc.close()
        except Exception:
            log.exception("closing an audio tap failed")
        # Closing ends every receiver's track, so each reader flushes and returns.
        for outcome in await asyncio.gather(*self._readers, return_exceptions=True):
            if isinstance(outcome, Exception):
                log.error("an audio tap reader failed", exc_info=outcome)


def with_ptime(sdp: str, ptime_ms: int) -> str:
    """The answer with `a=ptime` in each audio section (SDP attributes end a section)."""
    head, *sections = sdp.split("\r\nm=")
    for n, section in enumerate(sections):
        if section.startswith("audio ") and "\r\na=ptime:" not in section:
            body = section.rstrip("\r\n")
            sections[n] = f"{body}\r\na=ptime:{ptime_ms}" + section[len(body) :]
    return "\r\nm=".join([head, *sections])
