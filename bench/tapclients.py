"""The note-taker bench's browser stand-ins, run in a worker process: peer connections with
one sendonly audio track per speaker, replaying a tone Opus-encoded once, so the clients
spend no CPU encoding and the server's taps are what is measured."""

from __future__ import annotations

import asyncio
import fractions
import math
import random
from array import array
from multiprocessing.connection import Connection
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from bench.measure import lift_fd_limit
from server.media.tap import PTIME_MS

SPEAKERS = ("gp", "patient")
OPUS_RATE = 48_000
PACKET_SAMPLES = OPUS_RATE * PTIME_MS // 1000  # what the tap's answer asks browsers to send
PACKETS_PER_SECOND = OPUS_RATE / PACKET_SAMPLES


def tone_packets() -> list[bytes]:
    """One second of a voiced tone (a 150 Hz fundamental, its harmonics, a 4 Hz syllable
    rhythm and some breath noise), Opus-encoded once at a browser's 32 kbit/s voice rate."""
    codec = av.CodecContext.create("libopus", "w")
    codec.bit_rate = 32_000
    codec.format = "s16"
    codec.layout = "mono"
    codec.sample_rate = OPUS_RATE
    codec.time_base = fractions.Fraction(1, OPUS_RATE)
    codec.options = {"application": "voip", "frame_duration": str(PTIME_MS)}
    noise = random.Random(1)
    packets: list[bytes] = []
    count = math.ceil(PACKETS_PER_SECOND)
    for index in range(count + 5):  # the encoder holds a few frames back
        samples = array("h")
        for n in range(index * PACKET_SAMPLES, (index + 1) * PACKET_SAMPLES):
            t = n / OPUS_RATE
            level = 0.5 + 0.5 * math.sin(2 * math.pi * 4 * t)
            voiced = sum(math.sin(2 * math.pi * 150 * k * t) / k for k in range(1, 6))
            samples.append(int(6000 * level * voiced + noise.gauss(0, 300)))
        frame = av.AudioFrame(format="s16", layout="mono", samples=PACKET_SAMPLES)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate = OPUS_RATE
        frame.pts = index * PACKET_SAMPLES
        frame.time_base = codec.time_base
        packets.extend(bytes(packet) for packet in codec.encode(frame))
    return packets[:count]


class ToneTrack(MediaStreamTrack):
    """Replays pre-encoded Opus packets, paced in real time like a microphone."""

    kind = "audio"

    def __init__(self, packets: list[bytes], sent: Any) -> None:
        super().__init__()
        self._packets = packets
        self._sent = sent
        self._count = 0
        self._began: float | None = None

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._began is None:
            self._began = loop.time()
        else:
            await asyncio.sleep(
                self._began + self._count * PACKET_SAMPLES / OPUS_RATE - loop.time()
            )
        packet = av.Packet(self._packets[self._count % len(self._packets)])
        packet.pts = self._count * PACKET_SAMPLES
        packet.time_base = fractions.Fraction(1, OPUS_RATE)
        self._count += 1
        self._sent.value += 1
        return packet


async def offer(
    pc: RTCPeerConnection, packets: list[bytes], sent: Any
) -> tuple[str, dict[str, str]]:
    """A complete offer with one sendonly track per speaker, and the speaker of each mid."""
    transceivers = [
        pc.addTransceiver(ToneTrack(packets, sent), direction="sendonly") for _ in SPEAKERS
    ]
    await pc.setLocalDescription(await pc.createOffer())
    mids = {t.mid: speaker for t, speaker in zip(transceivers, SPEAKERS, strict=True) if t.mid}
    return pc.localDescription.sdp, mids


async def connected(pc: RTCPeerConnection) -> bool:
    settled = asyncio.Event()

    @pc.on("connectionstatechange")
    def changed() -> None:
        if pc.connectionState in ("connected", "failed", "closed"):
            settled.set()

    changed()
    await asyncio.wait_for(settled.wait(), timeout=60)
    return pc.connectionState == "connected"


def clients(link: Connection, sent: Any) -> None:
    lift_fd_limit()
    asyncio.run(_clients(link, sent))


async def _clients(link: Connection, sent: Any) -> None:
    """Serves the server's commands: ("add", n) -> n offers; ("answers", sdps) -> how many
    of those peers connected; ("stop", None) -> close every peer and return."""
    packets = tone_packets()
    peers: list[RTCPeerConnection] = []
    new: list[RTCPeerConnection] = []
    try:
        while True:
            command, payload = await asyncio.to_thread(link.recv)
            if command == "add":
                new = [RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(payload)]
                peers += new
                link.send(await asyncio.gather(*(offer(pc, packets, sent) for pc in new)))
            elif command == "answers":
                up = [asyncio.ensure_future(connected(pc)) for pc in new]
                for pc, sdp in zip(new, payload, strict=True):
                    await pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
                link.send(sum(await asyncio.gather(*up)))
            else:
                break
    finally:
        await asyncio.gather(*(pc.close() for pc in peers), return_exceptions=True)
