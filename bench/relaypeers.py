"""The relay benchmark's clients: pairs of peers exchanging offer, answer and candidate-sized
messages through a signalling server, the same code for almenvideo and for PeerJS.

Only the frame differs between the servers: almenvideo's `signal` with `to` (and a `ref`
its `error` replies echo), PeerJS's OFFER/ANSWER/CANDIDATE with `dst`. The body is the same
bytes for both, and carries the send time and a sequence number (`x-bench SEQ NS`), so the
receiving peer measures the relay latency itself (one machine, one clock).

Every message ends as one of: delivered (arrived within `lost_after` seconds), errored (the
server answered an `error` naming it, counted by its code, whatever the code) or lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

MARK = "x-bench "
STAMP = re.compile(r"x-bench (\d+) (\d+)")
PEERJS_HEARTBEAT_SECONDS = 5.0  # what the peerjs browser client sends, by default

_SDP_LINES = (
    "a=candidate:1467250027 1 udp 2122260223 192.0.2.10 46243 typ host generation 0\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;"
    "useinbandfec=1\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 nack pli\r\na=ssrc:3735928559 cname:4TOk42mSjXCkVIa6\r\n"
)
FILLER = {  # an SDP offer is ~4 KB, an answer ~3 KB; a trickled candidate ~200 B
    "offer": (_SDP_LINES * 20)[:4000],
    "answer": (_SDP_LINES * 15)[:3000],
}
CANDIDATE = "candidate:842163049 1 udp 1677729535 198.51.100.7 54321 typ srflx raddr 0.0.0.0"


def kind_of(seq: int) -> str:
    """An offer, its answer, then eight trickled candidates, over and over."""
    return {0: "offer", 1: "answer"}.get(seq % 10, "candidate")


def body(seq: int) -> dict[str, Any]:
    mark = f"{MARK}{seq} {time.time_ns()}"
    kind = kind_of(seq)
    if kind == "candidate":
        line = f"{CANDIDATE} rport 0 generation 0 ufrag EsAw network-id 1 {mark}"
        return {"candidate": {"candidate": line, "sdpMid": "0", "sdpMLineIndex": 0}}
    return {"description": {"type": kind, "sdp": f"v=0\r\na={mark}\r\n{FILLER[kind]}"}}


def stamp(raw: str) -> tuple[int, int]:
    """The sequence number and send time (ns) a relayed body carries."""
    found = STAMP.search(raw)
    assert found is not None, raw[:200]
    return int(found[1]), int(found[2])


@dataclass
class Tally:
    """One phase's outcome in one worker."""

    sent: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    late: int = 0  # arrived, but after `lost_after`: counted as lost
    lost: int = 0
    errored: Counter[str] = field(default_factory=Counter)
    unmatched_errors: Counter[str] = field(default_factory=Counter)  # naming no message


class Endpoint:
    """One peer's socket. `send` frames a body for the server; `read` turns each frame into
    an arrival (seq, sent ns), an error (code, seq or None) or nothing."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, pair: Pair) -> None:
        self.ws = ws
        self.pair = pair
        self.other = ""  # the other peer's id on this server
        self.inbox: asyncio.Queue[dict[str, Any]] | None = asyncio.Queue()  # during set-up

    async def send(self, seq: int) -> None:
        raise NotImplementedError

    def read(self, message: dict[str, Any], raw: str) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            self.read(message, frame.data)
            if self.inbox is not None:
                self.inbox.put_nowait(message)

    async def expect(self, kind: str) -> dict[str, Any]:
        assert self.inbox is not None
        while True:
            message = await self.inbox.get()
            if message.get("type") == kind:
                return message
            if message.get("type") in ("error", "ERROR"):
                raise RuntimeError(f"set-up refused: {message}")


class AlmenvideoEndpoint(Endpoint):
    async def send(self, seq: int) -> None:
        frame = {"v": 1, "type": "signal", "to": self.other, "ref": str(seq), **body(seq)}
        await self.ws.send_str(json.dumps(frame))

    def read(self, message: dict[str, Any], raw: str) -> None:
        kind = message.get("type")
        if kind == "signal":
            self.pair.arrived(*stamp(raw))
        elif kind == "error":
            ref = message.get("ref")
            self.pair.refused(str(message.get("code")), int(ref) if ref else None)


class PeerJSEndpoint(Endpoint):
    async def send(self, seq: int) -> None:
        frame = {"type": kind_of(seq).upper(), "dst": self.other, "payload": body(seq)}
        await self.ws.send_str(json.dumps(frame))

    def read(self, message: dict[str, Any], raw: str) -> None:
        kind = message.get("type")
        if kind in ("OFFER", "ANSWER", "CANDIDATE"):
            self.pair.arrived(*stamp(raw))
        elif kind in ("ERROR", "EXPIRE", "ID-TAKEN", "INVALID-KEY"):
            self.pair.refused(str(kind).lower(), None)

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(PEERJS_HEARTBEAT_SECONDS)
            await self.ws.send_str('{"type":"HEARTBEAT"}')


class Pair:
    """Two peers of one call. Even messages go from `a` to `b`, odd ones back."""

    def __init__(self) -> None:
        self.a: Endpoint | None = None
        self.b: Endpoint | None = None
        self.tally = Tally()
        self.lost_after_ns = 10**10
        self.outstanding: dict[int, int] = {}  # seq -> sent ns
        self.answered = asyncio.Event()  # the message in flight has an outcome
        self.empty = asyncio.Event()  # nothing in flight

    def sides(self, seq: int) -> Endpoint:
        side = self.a if seq % 2 == 0 else self.b
        assert side is not None
        return side

    async def send(self, seq: int) -> None:
        self.answered.clear()
        self.empty.clear()
        self.outstanding[seq] = time.time_ns()
        self.tally.sent += 1
        await self.sides(seq).send(seq)

    def arrived(self, seq: int, sent_ns: int) -> None:
        if self.outstanding.pop(seq, None) is None:
            return  # already counted as lost, or from an earlier phase
        late = time.time_ns() - sent_ns
        if late > self.lost_after_ns:
            self.tally.late += 1
        else:
            self.tally.latencies_ms.append(late / 1e6)
        self._answered()

    def refused(self, code: str, seq: int | None) -> None:
        if seq is not None and self.outstanding.pop(seq, None) is not None:
            self.tally.errored[code] += 1
            self._answered()
        else:
            self.tally.unmatched_errors[code] += 1

    def _answered(self) -> None:
        self.answered.set()
        if not self.outstanding:
            self.empty.set()

    async def drained(self) -> None:
        """Every message sent has arrived or been refused."""
        if self.outstanding:
            await self.empty.wait()

    def new_phase(self, lost_after: float) -> None:
        self.tally = Tally()
        self.lost_after_ns = int(lost_after * 1e9)
        self.outstanding.clear()

    async def paced(self, first: int, rate: float, until: float) -> None:
        """Open loop, as browsers trickle: one message every 1/rate s, turn about, whether or
        not the last has arrived."""
        at = time.time() + random.random() / rate
        seq = first
        while at < until:
            await asyncio.sleep(max(0.0, at - time.time()))
            await self.send(seq)
            seq += 1
            at += 1 / rate

    async def ping_pong(self, first: int, per_socket: float, until: float) -> None:
        """Closed loop: the next message once the last one arrived (or was refused, or
        lost), each socket sending at most `per_socket` a second."""
        last_sent = {0: 0.0, 1: 0.0}
        seq = first
        await asyncio.sleep(random.random() / per_socket)
        while time.time() < until:
            await asyncio.sleep(max(0.0, last_sent[seq % 2] + 1 / per_socket - time.time()))
            last_sent[seq % 2] = time.time()
            await self.send(seq)
            with contextlib.suppress(TimeoutError):  # lost: counted when the phase is summed
                await asyncio.wait_for(self.answered.wait(), self.lost_after_ns / 1e9)
            seq += 1

    def finish(self) -> Tally:
        """Whatever is still out now has been out longer than `lost_after`: lost."""
        self.tally.lost = len(self.outstanding) + self.tally.late
        self.outstanding.clear()
        return self.tally
