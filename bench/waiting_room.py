"""Many patients waiting at once on ONE server process, as real WebSocket clients.

    python bench/waiting_room.py            # 10,000 patients in 20 clinics
    python bench/waiting_room.py --quick    # 600 patients in 6 clinics, as CI runs it

The patients connect from worker processes (so the server has its own core), each
presents its link and resume token and then just listens; the server keeps their presence
alive. GPs (one per clinic, in this process) then admit patients from the front of their
queues. Reported:
- admit -> notify: from a GP sending `admit` to that patient receiving `call.joined`;
- queue-position updates: from the same `admit` to a patient at the back of that clinic's
  queue receiving its new place;
- server memory per waiting patient (RSS growth while they connected, divided by them);
- server CPU while they wait, and while GPs admit.
Targets (issue 19): admit -> notify p99 <= 50 ms; <= 20 KiB per waiting patient; the server
at <= 10 % of a core while they only wait.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.measure import cpu_seconds, lift_fd_limit, percentile
from tests.support.sockets import Booked, Clinic, populate
from tests.support.stack import Stack

WATCHERS_PER_CLINIC = 10  # patients at the back of each queue, watched from this process
CONNECT_CONCURRENCY = 100


# ---- patients in worker processes -----------------------------------------------------------


def worker(url: str, patients: list[Booked], ready: Any, results: Any, stop: Any) -> None:
    lift_fd_limit()
    asyncio.run(_worker(url, patients, ready, results, stop))


async def _worker(url: str, patients: list[Booked], ready: Any, results: Any, stop: Any) -> None:
    admitted: dict[str, float] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def patient(p: Booked) -> None:
            async with gate:
                ws = await _waiting(session, url, p)
                ready.put(1)
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT and '"call.joined"' in message.data:
                    admitted[p.consultation_id] = time.time()

        tasks = [asyncio.create_task(patient(p)) for p in patients]
        await asyncio.to_thread(stop.wait)
        results.put(admitted)
        for task in tasks:
            task.cancel()


async def _waiting(session: aiohttp.ClientSession, url: str, p: Booked) -> Any:
    """A socket whose patient is in the queue. A hello refused while thousands connect at
    once (an `internal` error when the Redis pool runs dry) is tried again on a new socket,
    as the patient's page does when its socket fails."""
    while True:
        ws = await session.ws_connect(f"{url}/ws", heartbeat=None, max_msg_size=0)
        await ws.send_json({"v": 1, "type": "hello", "link": p.link, "resume": p.resume})
        while (kind := (await ws.receive_json())["type"]) not in ("waiting", "error"):
            pass
        if kind == "waiting":
            return ws
        await ws.close()
        await asyncio.sleep(1)


# ---- this process: GPs and the watched patients at the back -----------------------------------


class Watcher:
    """A patient at the back of a queue, recording when each new place arrives."""

    def __init__(self) -> None:
        self.updates: list[float] = []
        self.placed = asyncio.Event()

    async def run(self, session: aiohttp.ClientSession, url: str, p: Booked) -> None:
        ws = await session.ws_connect(f"{url}/ws", heartbeat=None)
        await ws.send_json({"v": 1, "type": "hello", "link": p.link, "resume": p.resume})
        async for message in ws:
            if '"waiting"' in message.data:
                self.updates.append(time.time())
                self.placed.set()


class Console:
    """A GP's console socket, read all the time (so that it answers the server's pings, as
    a browser does, while the bench does other things); messages wait in a queue for
    `expect`. The session cookie is Secure, which a client jar keeps back over plain
    http, so it is passed on by hand."""

    def __init__(self) -> None:
        self.ws: Any = None
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None

    async def open(self, session: aiohttp.ClientSession, url: str, clinic: Clinic) -> None:
        form = {"username": clinic.gp_username, "password": clinic.gp_password}
        async with session.post(f"{url}/login", data=form, allow_redirects=False) as response:
            cookie = response.cookies["av_session"].value
        headers = {"Cookie": f"av_session={cookie}"}
        self.ws = await session.ws_connect(
            f"{url}/ws", heartbeat=None, max_msg_size=0, headers=headers
        )
        self.reader = asyncio.create_task(self._read())
        await self.ws.send_json({"v": 1, "type": "hello"})

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.inbox.put_nowait(json.loads(message.data))

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.ws.send_json(message)

    async def close(self) -> None:
        await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()


async def expect(console: Console, kind: str) -> dict[str, Any]:
    while True:
        message = await asyncio.wait_for(console.inbox.get(), 120)
        if message["type"] == kind:
            return message
        if message["type"] == "error":
            raise RuntimeError(message)


async def run(clinics: int, per_clinic: int, rounds: int, workers: int) -> dict[str, Any]:
    lift_fd_limit()
    stack = Stack(Path(tempfile.mkdtemp(prefix="bench-wr-")), instances=1)
    stack.start()
    procs: list[Any] = []
    try:
        url = stack.urls[0]
        pid = stack.server_pids()[0]
        print(f"  server pid {pid}", flush=True)  # for a profiler (py-spy) from outside
        async with stack.client() as redis:
            world = [await populate(redis, i, per_clinic) for i in range(clinics)]
        print(f"  {clinics * per_clinic} patients booked", flush=True)
        watched = {c.id: c.patients[-WATCHERS_PER_CLINIC:] for c in world}
        background = [p for c in world for p in c.patients[:-WATCHERS_PER_CLINIC]]
        await asyncio.sleep(1)
        rss_before = stack.server_rss_kib()[0]

        ctx = multiprocessing.get_context("spawn")
        ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
        shares = [background[i::workers] for i in range(workers)]
        procs = [
            ctx.Process(target=worker, args=(url, share, ready, results, stop)) for share in shares
        ]
        connect_started = time.time()
        for proc in procs:
            proc.start()
        for count in range(1, len(background) + 1):
            ready.get(timeout=300)
            if count % 1000 == 0:
                elapsed = time.time() - connect_started
                print(f"  {count} connected after {elapsed:.0f} s", flush=True)
        connect_seconds = time.time() - connect_started

        # No connection limit: the watchers' sockets must not starve the GPs' requests.
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        watchers: dict[str, list[Watcher]] = {}
        tasks = []
        for clinic_id, patients in watched.items():
            watchers[clinic_id] = [Watcher() for _ in patients]
            for watcher, p in zip(watchers[clinic_id], patients, strict=True):
                tasks.append(asyncio.create_task(watcher.run(session, url, p)))
        await asyncio.gather(*(w.placed.wait() for ws in watchers.values() for w in ws))
        print(f"  {len(tasks)} watchers placed", flush=True)
        total = len(background) + len(tasks)

        await asyncio.sleep(12)  # a heartbeat round with everyone connected
        rss_after = stack.server_rss_kib()[0]
        cpu_0, wall_0 = cpu_seconds(pid), time.time()
        await asyncio.sleep(20)
        idle_cpu = (cpu_seconds(pid) - cpu_0) / (time.time() - wall_0)
        kib = (rss_after - rss_before) / total
        print(f"  waiting: {kib:.1f} KiB per patient, CPU {idle_cpu * 100:.1f} %", flush=True)

        # Each console is read all the time: an unread socket cannot answer the server's
        # pings, and 20 logins can take longer than a ping's patience on a busy machine.
        gps = []
        for c in world:
            gps.append(Console())
            await gps[-1].open(session, url, c)
            await expect(gps[-1], "clinic.state")
        print(f"  {len(gps)} GPs connected; admitting", flush=True)
        for ws_list in watchers.values():
            for w in ws_list:
                w.updates.clear()

        admits: dict[str, tuple[str, float]] = {}
        cpu_1, wall_1 = cpu_seconds(pid), time.time()
        for r in range(rounds):
            for clinic, ws in zip(world, gps, strict=True):
                target = clinic.patients[r].consultation_id
                admits[target] = (clinic.id, time.time())
                await ws.send_json({"v": 1, "type": "admit", "consultation_id": target})
                await expect(ws, "call.joined")
                await ws.send_json({"v": 1, "type": "end", "consultation_id": target})
                await asyncio.sleep(0.02)
        await asyncio.sleep(2)
        admit_cpu = (cpu_seconds(pid) - cpu_1) / (time.time() - wall_1)

        stop.set()
        notified: dict[str, float] = {}
        for _ in procs:
            notified.update(results.get(timeout=60))
        for proc in procs:
            proc.join(timeout=30)
        for task in tasks:
            task.cancel()
        for ws in gps:
            await ws.close()
        await session.close()

        notify_ms = [
            (notified[cid] - t0) * 1000 for cid, (_, t0) in admits.items() if cid in notified
        ]
        update_ms: list[float] = []
        for clinic_id, ws_list in watchers.items():
            starts = sorted(t0 for (cl, t0) in admits.values() if cl == clinic_id)
            for w in ws_list:
                for t0, got in zip(starts, sorted(w.updates), strict=False):
                    update_ms.append((got - t0) * 1000)
    finally:
        for proc in procs:  # a failed run must not leave its patients connecting forever
            if proc.is_alive():
                proc.terminate()
        stack.stop()
    return {
        "benchmark": "waiting_room",
        "patients": total,
        "clinics": clinics,
        "connect_seconds": round(connect_seconds, 1),
        "admits": len(admits),
        "admits_notified": len(notify_ms),
        "admit_notify_p50_ms": round(percentile(notify_ms, 0.5), 1),
        "admit_notify_p99_ms": round(percentile(notify_ms, 0.99), 1),
        "position_updates": len(update_ms),
        "position_update_p50_ms": round(percentile(update_ms, 0.5), 1),
        "position_update_p99_ms": round(percentile(update_ms, 0.99), 1),
        "server_rss_before_mib": round(rss_before / 1024, 1),
        "server_rss_after_mib": round(rss_after / 1024, 1),
        "kib_per_waiting_patient": round((rss_after - rss_before) / total, 1),
        "server_cpu_idle_waiting_pct": round(idle_cpu * 100, 1),
        "server_cpu_while_admitting_pct": round(admit_cpu * 100, 1),
        "mean_notify_ms": round(statistics.fmean(notify_ms), 1),
        "slowest_notify_ms": [round(v) for v in sorted(notify_ms)[-3:]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="600 patients in 6 clinics (CI)")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--clinics", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="admits per clinic")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    clinics, patients = (6, 600) if args.quick else (args.clinics, args.patients)
    result = asyncio.run(
        run(clinics, patients // clinics, 3 if args.quick else args.rounds, args.workers)
    )
    print(
        f"{result['patients']} waiting patients in {result['clinics']} clinics on one process: "
        f"admit->notify p50 {result['admit_notify_p50_ms']} ms "
        f"/ p99 {result['admit_notify_p99_ms']} ms "
        f"(target p99 <= 50); position update p99 {result['position_update_p99_ms']} ms; "
        f"{result['kib_per_waiting_patient']} KiB per waiting patient (target <= 20); "
        f"CPU {result['server_cpu_idle_waiting_pct']} % waiting (target <= 10), "
        f"{result['server_cpu_while_admitting_pct']} % admitting"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
