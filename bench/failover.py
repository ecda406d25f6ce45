"""Faults under a waiting room: two instances, one Redis, patients and GPs as real
WebSocket clients that reconnect as the pages (behind a load balancer) do.

    python bench/failover.py            # 40 patients; Redis down 5, 45 and 120 s, kill -9, SIGTERM
    python bench/failover.py --quick    # 10 patients; Redis down 5 s, kill -9, SIGTERM

Each fault gets a fresh deployment (tests/support/stack.py) with the product's presence
grace (30 s): one clinic, its patients booked in order and spread over both instances, one
GP on each instance. Timed from the fault's end (Redis back, or the signal sent):
- places: until every patient's place is confirmed again: still in the queue in the same
  order, present (their presence key held by a live instance), re-asserted by the server
  since the fault if the fault touched them (everyone for an outage, the stopped
  instance's patients otherwise: their last beat is newer than the fault's end) and their
  screen showing the true place;
- GP lists: until every GP's console is connected (again, to the other instance if its
  own was stopped) and its list holds exactly the waiting patients, each "connected";
  Both are the moment the state last became right, once it then stayed right for a
  presence round;
- lost: patients no longer in the queue once things settled (target 0): after the grace
  and a presence round (a sweep would have removed anyone still judged absent), or after
  5 s in --quick.
Prints one line per fault and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from server.signalling.presencekeeper import BEAT_SECONDS
from server.store import keys
from server.store.consultations import get_consultation
from server.waitingroom.queue import waiting_ids
from tests.support.sockets import Clinic, GpView, PatientSocket, populate
from tests.support.stack import Stack

GRACE_SECONDS = 30  # the product's default
CONVERGE_SECONDS = 90  # a fault whose effects last longer than this counts as not healed
STABLE_SECONDS = BEAT_SECONDS + 2  # right for a whole presence round: right for good


class Scene:
    """One deployment with its patients and GPs, while a fault is injected."""

    def __init__(self, stack: Stack, clinic: Clinic, participants: list[str]) -> None:
        self.stack = stack
        self.clinic = clinic
        self.participants = participants
        self.order = [b.consultation_id for b in clinic.patients]
        urls = stack.urls
        self.patients = [
            PatientSocket(b, urls[i % 2], also=[urls[(i + 1) % 2]])
            for i, b in enumerate(clinic.patients)
        ]
        self.gps = [GpView(), GpView()]
        self.live = set(stack.urls)
        self.touched = list(participants)  # whose place the fault put in doubt
        self.fault_ended = 0.0  # wall clock, as presence beats are recorded

    async def places_confirmed(self) -> bool:
        async with self.stack.client() as redis:
            if await waiting_ids(redis, self.clinic.id) != self.order:
                return False
            holders = await redis.mget([keys.presence(p) for p in self.participants])
            beats = await redis.zmscore(keys.WAITING_LAST_SEEN, self.touched)
        if any(beat is None or beat < self.fault_ended for beat in beats):
            return False
        live_ids = {f"instance-{i}" for i, u in enumerate(self.stack.urls) if u in self.live}
        screens = [p.position for p in self.patients]
        return all(h in live_ids for h in holders) and screens == list(
            range(1, len(self.order) + 1)
        )

    def gp_lists_right(self) -> bool:
        expected = dict.fromkeys(self.order, True)
        return all(gp.online and gp.connected == expected for gp in self.gps)

    async def lost(self) -> int:
        async with self.stack.client() as redis:
            return len(set(self.order) - set(await waiting_ids(redis, self.clinic.id)))


async def until(check: Callable[[], Awaitable[bool] | bool], seconds: float) -> float | None:
    """Seconds until `check()` holds, polled every 50 ms; None if it did not in `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if await _holds(check):
            return round(time.monotonic() - start, 2)
        await asyncio.sleep(0.05)
    return None


async def settled(check: Callable[[], Awaitable[bool] | bool], seconds: float) -> float | None:
    """Seconds until `check()` holds for good: the moment it last became true, once it has
    stayed true for a presence round (a brief right answer before a wrong one does not
    count); None if that did not happen within `seconds`."""
    start = time.monotonic()
    since: float | None = None
    while time.monotonic() - start < seconds:
        if await _holds(check):
            since = time.monotonic() if since is None else since
            if time.monotonic() - since >= STABLE_SECONDS:
                return round(since - start, 2)
        else:
            since = None
        await asyncio.sleep(0.05)
    return None


async def _holds(check: Callable[[], Awaitable[bool] | bool]) -> bool:
    outcome = check()
    return await outcome if inspect.isawaitable(outcome) else outcome


async def redis_down(scene: Scene, seconds: float) -> None:
    await asyncio.to_thread(scene.stack.redis.stop)
    await asyncio.sleep(seconds)
    await asyncio.to_thread(scene.stack.redis.start)
    scene.fault_ended = time.time()


async def kill(scene: Scene, sig: signal.Signals) -> None:
    scene.live.discard(scene.stack.urls[1])
    scene.touched = scene.participants[1::2]  # patient i waits on instance i % 2
    scene.fault_ended = time.time()
    await asyncio.to_thread(scene.stack.kill, 1, sig)


async def one_fault(name: str, patients: int, settle: float, fault: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="failover-") as directory:
        stack = Stack(Path(directory), 2, env={"ALMENVIDEO_PRESENCE_GRACE": str(GRACE_SECONDS)})
        await asyncio.to_thread(stack.start)
        try:
            async with stack.client() as redis:
                clinic = await populate(redis, 1, patients)
                found = [await get_consultation(redis, b.consultation_id) for b in clinic.patients]
            participants = [c.patient_participant for c in found if c is not None]
            scene = Scene(stack, clinic, participants)
            async with aiohttp.ClientSession() as session:
                tasks = [asyncio.create_task(p.run(session)) for p in scene.patients]
                tasks += [
                    asyncio.create_task(gp.keep(session, [u, *set(stack.urls) - {u}], clinic))
                    for gp, u in zip(scene.gps, stack.urls, strict=True)
                ]
                ready = await until(
                    lambda: (
                        scene.gp_lists_right() and all(p.waiting.is_set() for p in scene.patients)
                    ),
                    60,
                )
                if ready is None:
                    raise RuntimeError("the deployment did not settle before the fault")
                await fault(scene)
                places, lists = await asyncio.gather(
                    settled(scene.places_confirmed, CONVERGE_SECONDS),
                    settled(scene.gp_lists_right, CONVERGE_SECONDS),
                )
                await asyncio.sleep(settle)
                lost = await scene.lost()
                if lists is None:
                    print(f"  GP lists: {[gp.connected for gp in scene.gps]}", flush=True)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await asyncio.to_thread(stack.stop)
    return {
        "fault": name,
        "patients": patients,
        "places_confirmed_s": places,
        "gp_lists_right_s": lists,
        "lost": lost,
    }


def _outage(seconds: float) -> Callable[[Scene], Awaitable[None]]:
    return lambda scene: redis_down(scene, seconds)


async def run(quick: bool, patients: int, only: list[str]) -> dict[str, Any]:
    # Quick keeps every kind of fault; the long outage is tests/faults/test_redis_outage.py's.
    outages = (5,) if quick else (5, 45, 120)
    settle = 5.0 if quick else GRACE_SECONDS + BEAT_SECONDS + 5
    faults: list[tuple[str, Any]] = [
        *((f"redis_down_{n}s", _outage(n)) for n in outages),
        ("kill_9_instance", lambda s: kill(s, signal.SIGKILL)),
        ("sigterm_instance", lambda s: kill(s, signal.SIGTERM)),
    ]
    results = []
    for name, fault in faults:
        if only and not any(name.startswith(o) for o in only):
            continue
        result = await one_fault(name, patients, settle, fault)
        print(
            f"{name:18} {patients} patients: places confirmed after "
            f"{result['places_confirmed_s']} s, GP lists right after "
            f"{result['gp_lists_right_s']} s, lost {result['lost']}",
            flush=True,
        )
        results.append(result)
    return {
        "benchmark": "failover",
        "quick": quick,
        "patients": patients,
        "faults": results,
        "lost": sum(r["lost"] for r in results),
        "healed": all(
            r["places_confirmed_s"] is not None and r["gp_lists_right_s"] is not None
            for r in results
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10 patients, a 5 s outage")
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--only", nargs="*", default=[], help="faults whose names start so")
    args = parser.parse_args()
    result = asyncio.run(run(args.quick, 10 if args.quick else args.patients, args.only))
    print(json.dumps(result))
    return 0 if result["lost"] == 0 and result["healed"] else 1


if __name__ == "__main__":
    sys.exit(main())
