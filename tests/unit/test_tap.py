"""The audio tap's own work: what it asks of the browser, and how it keeps each speaker's
clock through lost packets."""

from __future__ import annotations

import fractions

import pytest
from aiortc import MediaStreamTrack, RTCConfiguration
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from server.media.tap import CHUNK_BYTES, AudioTap, with_ptime

SDP = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
)


def test_the_answer_asks_for_longer_audio_packets_only_in_audio_sections() -> None:
    answer = with_ptime(SDP, 60)
    audio, video = answer.split("m=video")
    assert audio.endswith("a=mid:0\r\na=ptime:60\r\n")
    assert "ptime" not in video
    assert with_ptime(answer, 60) == answer


class Frames(MediaStreamTrack):
    """20 ms frames of a 48 kHz tone at the given RTP timestamps, then the end."""

    kind = "audio"

    def __init__(self, timestamps: list[int]) -> None:
        super().__init__()
        self._timestamps = iter(timestamps)

    async def recv(self) -> AudioFrame:
        pts = next(self._timestamps, None)
        if pts is None:
            raise MediaStreamError
        frame = AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(bytes(range(256)) * 7 + bytes(128))
        frame.sample_rate = 48_000
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, 48_000)
        return frame


async def _chunks(timestamps: list[int]) -> tuple[list[tuple[float, int]], AudioTap]:
    got: list[tuple[float, int]] = []

    async def sink(speaker: str, pcm: bytes, at: float) -> None:
        got.append((at, len(pcm)))

    tap = AudioTap(RTCConfiguration(iceServers=[]), {}, sink, origin=0.0)
    await tap._read(Frames(timestamps), "patient")
    await tap.close()
    return got, tap


@pytest.mark.parametrize("hole_seconds", [0.5, 30.0])
async def test_a_speakers_clock_survives_a_hole_in_the_packets(hole_seconds: float) -> None:
    """Ten frames, a hole, ten frames: the second run is stamped where it was spoken."""
    hole = int(hole_seconds * 48_000)
    before = [n * 960 for n in range(10)]
    after = [before[-1] + 960 + hole + n * 960 for n in range(10)]
    chunks, tap = await _chunks(before + after)
    start = chunks[0][0]
    end = chunks[-1][0] + chunks[-1][1] / 32_000
    assert end - start == pytest.approx(0.4 + hole_seconds, abs=0.03)
    assert all(size <= CHUNK_BYTES for _, size in chunks)
    assert tap.stats.lost_frames == round(hole / 960)
