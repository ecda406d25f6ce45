"""The note-taker's capacity: concurrent audio taps on ONE server process, and the
pocketsphinx engine's real-time factor.

    python bench/notetaker.py            # ramp 10, 15, 20, 25, ... taps; 20 s windows
    python bench/notetaker.py --quick    # 4 and 8 taps, 3 s windows, 20 s of speech (CI)

Taps: this process is the server. It runs N `AudioTap`s (host candidates only) whose sink only
counts bytes, so the tap itself is measured and not an engine. One spawned worker process runs
N browser stand-ins: a peer connection each, with two sendonly audio tracks (`gp`, `patient`)
that replay an Opus-encoded tone in the packets the tap's answer asks for (`a=ptime`, 60 ms, as
Chromium then sends). The tone is encoded once, so the
clients spend no CPU encoding; they still share this machine's cores with the server. N rises in
steps; each step adds peers, lets them settle, then measures a window:
- frames the taps received against frames the clients sent and wall-clock expectation
  (one a packet time a track), and the taps' `lost_frames`;
- audio seconds handed to the sink against wall time;
- the server process's CPU time (decoder threads included), so CPU per tap;
- event-loop lag: the worst delay of a 50 ms timer in the server process.
The ramp stops at the first step where frames were lost or late (the taps received under 98 %
of what the clients sent in the window), or where the clients could not keep up.
Target: >= 40 concurrent tapped consultations per core with no frame loss.

Engine: espeak-ng speech, resampled to 16 kHz, fed to `PocketsphinxEngine` in 200 ms chunks as
fast as it decodes; reported as its real-time factor and live streams per core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiortc import RTCConfiguration

from bench.engine_speed import BYTES_PER_SECOND, SPEECH, engine_rtf
from bench.measure import cpu_seconds, lift_fd_limit
from bench.tapclients import PACKETS_PER_SECOND, SPEAKERS, clients
from server.media.tap import AudioTap

KEEP_UP = 0.98  # share of frames that must arrive within a window to count as keeping up
LAG_PERIOD = 0.05
REPLY_TIMEOUT = 120.0


# ---- the server: this process ---------------------------------------------------------------


class Listener:
    """One tapped consultation: its tap, and a sink that only counts the PCM it is handed, so
    the tap is measured and not an engine."""

    def __init__(self, speakers: dict[str, str]) -> None:
        self.bytes = 0
        self.flowing = asyncio.Event()
        self._heard: set[str] = set()
        origin = asyncio.get_running_loop().time()
        self.tap = AudioTap(RTCConfiguration(iceServers=[]), speakers, self._count, origin)

    async def _count(self, speaker: str, pcm: bytes, at: float) -> None:
        self.bytes += len(pcm)
        self._heard.add(speaker)
        if len(self._heard) == len(SPEAKERS):
            self.flowing.set()


class LoopLag:
    """The worst delay of a 50 ms timer: how late the loop gets to anything, RTP included."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LAG_PERIOD
            await asyncio.sleep(LAG_PERIOD)
            self.worst = max(self.worst, loop.time() - due)


@dataclass
class Step:
    taps: int
    seconds: float
    expected: int  # frames, by the wall clock
    sent: int
    received: int
    lost: int
    lost_while_connecting: int
    sink_seconds: float
    server_cpu_seconds: float
    client_cpu_seconds: float
    loop_lag_ms: float

    @property
    def server_cores(self) -> float:
        return self.server_cpu_seconds / self.seconds

    @property
    def cpu_per_tap_pct(self) -> float:
        return 100 * self.server_cores / self.taps

    @property
    def clients_kept_up(self) -> bool:
        return self.sent >= KEEP_UP * self.expected

    @property
    def lossless(self) -> bool:
        return self.lost == 0 and self.received >= KEEP_UP * self.sent


@dataclass
class Snapshot:
    wall: float
    sent: int
    frames: int
    lost: int
    sink_bytes: int
    server_cpu: float
    client_cpu: float

    @classmethod
    def take(cls, listeners: list[Listener], peers: Clients) -> Snapshot:
        return cls(
            wall=time.monotonic(),
            sent=peers.sent.value,
            frames=sum(listener.tap.stats.frames for listener in listeners),
            lost=sum(listener.tap.stats.lost_frames for listener in listeners),
            sink_bytes=sum(listener.bytes for listener in listeners),
            server_cpu=time.process_time(),
            client_cpu=cpu_seconds(peers.pid),
        )


class Clients:
    """The worker process that plays the browsers, and the pipe to it."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._link, their_end = ctx.Pipe()
        self.sent = ctx.RawValue("q", 0)
        self._process = ctx.Process(target=clients, args=(their_end, self.sent), daemon=True)
        self._process.start()
        their_end.close()  # so a dead worker reads as end of file, not silence
        assert self._process.pid is not None
        self.pid = self._process.pid

    async def ask(self, command: str, payload: Any) -> Any:
        await asyncio.to_thread(self._link.send, (command, payload))
        if not await asyncio.to_thread(self._link.poll, REPLY_TIMEOUT):
            raise TimeoutError(f"the client process did not answer {command!r}")
        return self._link.recv()

    async def stop(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError):
                self._link.send(("stop", None))
        await asyncio.to_thread(self._process.join, REPLY_TIMEOUT)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._link.close()


async def add_listeners(peers: Clients, count: int) -> list[Listener]:
    """`count` more consultations: offers from the clients, answers from new taps, and back
    once every new speaker's audio reaches its sink."""
    offers: list[tuple[str, dict[str, str]]] = await peers.ask("add", count)
    new = [Listener(speakers) for _, speakers in offers]
    answers = await asyncio.gather(
        *(listener.tap.answer(sdp) for listener, (sdp, _) in zip(new, offers, strict=True))
    )
    up = await peers.ask("answers", answers)
    if up != count:
        raise RuntimeError(f"only {up} of {count} client peers connected")
    await asyncio.wait_for(asyncio.gather(*(listener.flowing.wait() for listener in new)), 60)
    return new


async def ramp(steps: list[int], window: float, settle: float) -> list[Step]:
    lift_fd_limit()
    peers = Clients()
    lag = LoopLag()
    lag_task = asyncio.create_task(lag.run())
    listeners: list[Listener] = []
    results: list[Step] = []
    try:
        for n in steps:
            before = Snapshot.take(listeners, peers)
            listeners += await add_listeners(peers, n - len(listeners))
            await asyncio.sleep(settle)
            start = Snapshot.take(listeners, peers)
            lag.worst = 0.0
            await asyncio.sleep(window)
            end = Snapshot.take(listeners, peers)
            seconds = end.wall - start.wall
            step = Step(
                taps=n,
                seconds=round(seconds, 2),
                expected=round(seconds * PACKETS_PER_SECOND * len(SPEAKERS) * n),
                sent=end.sent - start.sent,
                received=end.frames - start.frames,
                lost=end.lost - start.lost,
                lost_while_connecting=start.lost - before.lost,
                sink_seconds=round((end.sink_bytes - start.sink_bytes) / BYTES_PER_SECOND, 2),
                server_cpu_seconds=round(end.server_cpu - start.server_cpu, 3),
                client_cpu_seconds=round(end.client_cpu - start.client_cpu, 3),
                loop_lag_ms=round(lag.worst * 1000, 1),
            )
            results.append(step)
            print_step(step)
            if not (step.lossless and step.clients_kept_up):
                break
    finally:
        lag_task.cancel()
        await peers.stop()
        await asyncio.gather(*(listener.tap.close() for listener in listeners))
    return results


def print_step(step: Step) -> None:
    expected = step.expected or 1
    wall_audio = step.seconds * len(SPEAKERS) * step.taps
    print(
        f"  {step.taps:4d} taps: frames received {step.received:6d} / sent {step.sent:6d} "
        f"/ expected {step.expected:6d} ({100 * step.received / expected:5.1f} %), "
        f"lost {step.lost} (while connecting {step.lost_while_connecting}); "
        f"sink audio {100 * step.sink_seconds / wall_audio:5.1f} % of wall time; "
        f"server CPU {100 * step.server_cores:5.1f} % = {step.cpu_per_tap_pct:.2f} % a tap; "
        f"loop lag max {step.loop_lag_ms:4.0f} ms; "
        f"clients CPU {100 * step.client_cpu_seconds / step.seconds:5.1f} %",
        flush=True,
    )


# ---- report ---------------------------------------------------------------------------------


def summarise(steps: list[Step]) -> dict[str, Any]:
    passed = [s for s in steps if s.lossless and s.clients_kept_up]
    best = passed[-1] if passed else None
    last = steps[-1]
    if best is last:
        stopped = "no loss up to the last step: a lower bound"
    elif not last.clients_kept_up:
        stopped = f"the clients could not keep up at {last.taps} taps: a lower bound"
    else:
        stopped = f"frames lost or late at {last.taps} taps"
    per_core = best.taps / best.server_cores if best and best.server_cores else 0.0
    return {
        "largest_lossless_taps": best.taps if best else 0,
        "server_cores_at_largest": round(best.server_cores, 2) if best else None,
        "cpu_per_tap_pct": round(best.cpu_per_tap_pct, 2) if best else None,
        "taps_per_core": round(per_core, 1),
        "target_met": per_core >= 40,
        "ramp_stopped": stopped,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="4 and 8 taps, short windows (CI)")
    parser.add_argument(
        "--steps",
        default="10,15,20,25,30,35,40,50,60,80,100,120,150,200",
        help="tap counts to ramp through (comma-separated)",
    )
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured a step")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after connecting")
    parser.add_argument("--speech", type=float, default=30.0, help="seconds of speech to decode")
    args = parser.parse_args()
    if args.quick:
        steps, window, settle, speech = [4, 8], 3.0, 1.0, 20.0
    else:
        steps = [int(n) for n in args.steps.split(",")]
        window, settle, speech = args.window, args.settle, args.speech

    print(
        f"audio taps: the server is this one process (AudioTaps, host candidates only, a sink "
        f"that only counts bytes: the tap is measured, not an engine); the clients are one "
        f"other process on the same {os.cpu_count()}-core machine, so they compete for CPU. "
        f"Two Opus tracks a tap, {window:g} s windows.",
        flush=True,
    )
    steps_run = asyncio.run(ramp(steps, window, settle))
    taps = summarise(steps_run)
    print(
        f"largest N with no frame loss on one server process: {taps['largest_lossless_taps']} "
        f"taps ({taps['ramp_stopped']})"
        + (
            f"; the server process used {taps['server_cores_at_largest']} cores there, "
            f"{taps['cpu_per_tap_pct']} % of a core a tap "
            f"-> {taps['taps_per_core']} taps per core of server CPU"
            if taps["largest_lossless_taps"]
            else ""
        )
    )
    print(
        "target: >= 40 concurrent tapped consultations per core with no frame loss: "
        + ("met" if taps["target_met"] else "NOT met")
    )

    engine = asyncio.run(engine_rtf(speech))
    print(
        f"engine pocketsphinx {engine['version']}: "
        f"real-time factor {engine['real_time_factor']} "
        f"(wall {engine['wall_real_time_factor']}) over {engine['speech_seconds']} s "
        f"of espeak-ng speech in 200 ms chunks "
        f"-> {engine['live_streams_per_core']} live streams per core"
    )
    words = engine["transcript"].split()
    print(f'  heard: "{" ".join(words[:30])}{" ..." if len(words) > 30 else ""}"')
    print(f'  said:  "{" ".join(SPEECH.split()[:30])} ..."')

    result = {
        "benchmark": "notetaker",
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "window_seconds": window,
        "steps": [
            asdict(s)
            | {
                "server_cores": round(s.server_cores, 3),
                "cpu_per_tap_pct": round(s.cpu_per_tap_pct, 2),
                "lossless": s.lossless,
                "clients_kept_up": s.clients_kept_up,
            }
            for s in steps_run
        ],
        **taps,
        "engine": engine,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
