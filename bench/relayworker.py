"""A worker process of the relay benchmark: it connects its share of the pairs to one
server, then runs the phases it is told to, and reports each phase's tally.

Pairs run in worker processes so that the server under test has a core of its own; the
worker imports nothing of the server, only aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.relaypeers import AlmenvideoEndpoint, Pair, PeerJSEndpoint, Tally

CONNECT_CONCURRENCY = 50


@dataclass(frozen=True)
class AlmenvideoPair:
    """A booked patient (link and resume token) and a GP login of the same clinic; the GP
    admits the patient, and the two are in a call."""

    patient_url: str
    gp_url: str
    link: str
    resume: str
    cookie: str
    consultation_id: str


@dataclass(frozen=True)
class PeerJSPair:
    url: str
    a_id: str
    b_id: str
    token: str


@dataclass(frozen=True)
class Phase:
    """`paced`: open loop at `rate` messages a second per pair; `ping_pong`: closed loop,
    `rate` the most each socket sends a second."""

    mode: str
    first: int  # the phase's first sequence number, apart from every other phase's
    start_at: float
    seconds: float
    rate: float
    lost_after: float


def worker(specs: list[AlmenvideoPair | PeerJSPair], commands: Any, results: Any) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(_worker(specs, commands, results))


async def _worker(specs: list[AlmenvideoPair | PeerJSPair], commands: Any, results: Any) -> None:
    pairs = [Pair() for _ in specs]
    tasks: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def connect(spec: AlmenvideoPair | PeerJSPair, pair: Pair) -> None:
            async with gate:
                if isinstance(spec, AlmenvideoPair):
                    await _almenvideo(session, spec, pair, tasks)
                else:
                    await _peerjs(session, spec, pair, tasks)

        try:
            await asyncio.gather(*(connect(s, p) for s, p in zip(specs, pairs, strict=True)))
        except Exception as exc:
            results.put(("failed", repr(exc)))
            return
        results.put(("ready", len(pairs)))
        while (phase := await asyncio.to_thread(commands.get)) is not None:
            results.put(("done", *await _run(pairs, phase)))
        for task in tasks:
            task.cancel()


async def _run(pairs: list[Pair], phase: Phase) -> tuple[Tally, float]:
    for pair in pairs:
        pair.new_phase(phase.lost_after)
    cpu = time.process_time()
    await asyncio.sleep(max(0.0, phase.start_at - time.time()))
    until = phase.start_at + phase.seconds
    if phase.mode == "paced":
        await asyncio.gather(*(p.paced(phase.first, phase.rate, until) for p in pairs))
    else:
        await asyncio.gather(*(p.ping_pong(phase.first, phase.rate, until) for p in pairs))
    with contextlib.suppress(TimeoutError):  # what is still out then is lost
        await asyncio.wait_for(asyncio.gather(*(p.drained() for p in pairs)), phase.lost_after)
    total = Tally()
    for tally in (p.finish() for p in pairs):
        total.sent += tally.sent
        total.latencies_ms += tally.latencies_ms
        total.lost += tally.lost
        total.errored += tally.errored
        total.unmatched_errors += tally.unmatched_errors
    return total, time.process_time() - cpu


async def _almenvideo(
    session: aiohttp.ClientSession, spec: AlmenvideoPair, pair: Pair, tasks: list[Any]
) -> None:
    """As the pages do it: the patient says hello and waits, the GP's console says hello,
    the GP admits the patient; each side learns the other's participant id from
    `call.joined`."""
    ws = await session.ws_connect(f"{spec.patient_url}/ws", heartbeat=None, max_msg_size=0)
    patient = AlmenvideoEndpoint(ws, pair)
    tasks.append(asyncio.create_task(patient.run()))
    await ws.send_json({"v": 1, "type": "hello", "link": spec.link, "resume": spec.resume})
    await patient.expect("waiting")
    headers = {"Cookie": f"av_session={spec.cookie}"}  # Secure: a jar keeps it back on http
    ws = await session.ws_connect(
        f"{spec.gp_url}/ws", heartbeat=None, max_msg_size=0, headers=headers
    )
    gp = AlmenvideoEndpoint(ws, pair)
    tasks.append(asyncio.create_task(gp.run()))
    await ws.send_json({"v": 1, "type": "hello"})
    await gp.expect("clinic.state")
    await ws.send_json({"v": 1, "type": "admit", "consultation_id": spec.consultation_id})
    gp_joined = await gp.expect("call.joined")
    patient_joined = await patient.expect("call.joined")
    patient.other, gp.other = gp_joined["participant_id"], patient_joined["participant_id"]
    patient.inbox = gp.inbox = None
    pair.a, pair.b = patient, gp


async def _peerjs(
    session: aiohttp.ClientSession, spec: PeerJSPair, pair: Pair, tasks: list[Any]
) -> None:
    """As the peerjs browser client does it: a socket per peer id, OPEN, heartbeats."""
    ends = []
    for me in (spec.a_id, spec.b_id):
        query = f"key=peerjs&id={me}&token={spec.token}"
        ws = await session.ws_connect(f"{spec.url}/peerjs?{query}", heartbeat=None)
        end = PeerJSEndpoint(ws, pair)
        tasks.append(asyncio.create_task(end.run()))
        await end.expect("OPEN")
        tasks.append(asyncio.create_task(end.heartbeat()))
        end.inbox = None
        ends.append(end)
    ends[0].other, ends[1].other = spec.b_id, spec.a_id
    pair.a, pair.b = ends
