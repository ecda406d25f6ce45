"""The GP's browser's side of the note-taker's audio tap, as a real aiortc peer.

The console page opens a second peer connection to the server and sends one audio track
per speaker (its own microphone, the patient's remote audio), naming each by its mid. Here
each speaker is a tone of its own, paced in real time like a microphone.
"""

from __future__ import annotations

import asyncio
import math
from array import array
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError
from av import AudioFrame

RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms
AMPLITUDE = 8000


class Tone(AudioStreamTrack):
    """A sine of `hertz` in 20 ms 48 kHz s16 mono frames, each due 20 ms after the last."""

    def __init__(self, hertz: float) -> None:
        super().__init__()
        self._samples = array(
            "h",
            (
                int(AMPLITUDE * math.sin(2 * math.pi * hertz * i / RATE))
                for i in range(FRAME_SAMPLES * 50)  # one second, whole periods for 1 Hz steps
            ),
        ).tobytes()
        self._pts = 0
        self._started: float | None = None

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._started is None:
            self._started = loop.time()
        else:
            await asyncio.sleep(self._started + self._pts / RATE - loop.time())
        offset = (self._pts % (FRAME_SAMPLES * 50)) * 2
        frame = AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(self._samples[offset : offset + FRAME_SAMPLES * 2])
        frame.sample_rate = RATE
        frame.pts, frame.time_base = self._pts, Fraction(1, RATE)
        self._pts += FRAME_SAMPLES
        return frame


async def tap_peer(speakers: Sequence[str]) -> tuple[RTCPeerConnection, dict[str, Any]]:
    """A peer sending one tone per speaker, and the tap request's body: its complete offer
    (aiortc gathers ICE before `setLocalDescription` returns) and the speaker of each mid."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    for n, _ in enumerate(speakers):
        pc.addTransceiver(Tone(440.0 + 220.0 * n), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    mids = [t.mid for t in pc.getTransceivers()]
    assert all(mids), "every transceiver has a mid once the offer is set"
    body = {
        "sdp": pc.localDescription.sdp,
        "type": "offer",
        "speakers": {str(mid): speaker for mid, speaker in zip(mids, speakers, strict=True)},
    }
    return pc, body
