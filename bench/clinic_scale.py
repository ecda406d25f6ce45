"""One big clinic: does setting up a call cost more the longer the clinic's queue is?

    python bench/clinic_scale.py            # 500 patients waiting, 4 GPs admit them all
    python bench/clinic_scale.py --quick    # 60 patients and 2 GPs, as CI runs it

One server process and its Redis. The patients (all due now, so each is shown a place)
connect from worker processes and wait; then the GPs connect (each `hello` gets the whole
clinic once) and admit the patient at the front of the queue, one after the other, until
nobody is left; each call is ended as soon as the GP is in it. Reported:
- per GP hello: hello -> `clinic.state`, and the server's CPU (app + redis-server) for it;
- per admit: `admit` -> the GP's `call.joined`, p50/p99 over the first and the last tenth
  of the admits (a long queue, then a short one), and the server's CPU-ms per admit over
  the same tenths; if an admit costs the same whatever the queue's length, they match;
- the total time to admit everyone, and how many place updates the patients received
  (each admit moves every patient behind it: that fan-out is the one O(n) left, and its
  cost per patient is what the CPU per admit at the start shows).
CPU is utime + stime from /proc, which other work on the machine does not inflate; wall
times are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.measure import cpu_seconds, lift_fd_limit, percentile
from server.auth.tokens import new_token
from server.consultations.links import issue_link
from server.store.clinics import create_clinic
from server.store.connection import Redis
from server.store.consultations import Kind, create_consultation
from server.store.participants import issue_resume_token, patient_seat
from server.store.users import create_user
from tests.support.redisserver import RedisServer
from tests.support.sockets import Booked
from tests.support.stack import Stack

CONNECT_CONCURRENCY = 50


async def book(redis: Redis, patients: int, gps: int) -> tuple[list[Booked], list[tuple[str, str]]]:
    """One clinic with `gps` GPs and `patients` booked a second apart, all due already."""
    clinic = await create_clinic(redis, "Stor Klinik", "900001")
    logins = []
    for n in range(gps):
        password = new_token()
        gp = await create_user(redis, f"gp-{n}", password, f"Dr. {n}", "gp", clinic.id)
        logins.append((gp.username, password))
    start = time.time() - patients - 60
    booked = []
    for n in range(patients):
        c = await create_consultation(redis, clinic.id, Kind.SCHEDULED, scheduled_start=start + n)
        link, c = await issue_link(redis, c)
        seat = await patient_seat(redis, c.id, f"Patient {n}")
        resume = await issue_resume_token(redis, seat, f"Patient {n}", "test")
        booked.append(Booked(c.id, link, resume))
    return booked, logins


# ---- patients in worker processes -----------------------------------------------------------


def worker(url: str, patients: list[Booked], ready: Any, results: Any, stop: Any) -> None:
    lift_fd_limit()
    asyncio.run(_worker(url, patients, ready, results, stop))


async def _worker(url: str, patients: list[Booked], ready: Any, results: Any, stop: Any) -> None:
    admitted: dict[str, float] = {}
    places = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def patient(p: Booked) -> None:
            nonlocal places
            async with gate:
                ws = await session.ws_connect(f"{url}/ws", heartbeat=None, max_msg_size=0)
                await ws.send_json({"v": 1, "type": "hello", "link": p.link, "resume": p.resume})
                while (await ws.receive_json())["type"] != "waiting":
                    pass
                ready.put(1)
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                if '"waiting"' in message.data:
                    places += 1
                elif '"call.joined"' in message.data:
                    admitted[p.consultation_id] = time.time()
                elif '"call.ended"' in message.data:
                    await ws.close()

        tasks = [asyncio.create_task(patient(p)) for p in patients]
        await asyncio.to_thread(stop.wait)
        results.put((admitted, places))
        for task in tasks:
            task.cancel()


# ---- this process: the GPs ------------------------------------------------------------------


async def gp_login(session: aiohttp.ClientSession, url: str, login: tuple[str, str]) -> str:
    """The session cookie is Secure, which a client jar keeps back over plain http."""
    form = {"username": login[0], "password": login[1]}
    async with session.post(f"{url}/login", data=form, allow_redirects=False) as response:
        return response.cookies["av_session"].value


async def expect(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        message = json.loads((await ws.receive()).data)
        if message["type"] == kind:
            return message
        if message["type"] == "error":
            raise RuntimeError(message)


async def admit_all(
    gps: list[Any], queue: list[str], admitted: dict[str, tuple[int, float, float]]
) -> None:
    """Every GP admits the next patient at the front, until the queue is empty: index,
    admit sent, `call.joined` received."""
    order = iter(enumerate(queue))

    async def gp(ws: Any) -> None:
        for index, consultation_id in order:
            sent = time.time()
            await ws.send_json({"v": 1, "type": "admit", "consultation_id": consultation_id})
            await expect(ws, "call.joined")
            admitted[consultation_id] = (index, sent, time.time())
            await ws.send_json({"v": 1, "type": "end", "consultation_id": consultation_id})
            await expect(ws, "call.ended")

    await asyncio.gather(*(gp(ws) for ws in gps))


async def redis_calls(redis: Redis) -> Counter[str]:
    """Commands Redis has run so far, by name (those run inside scripts included)."""
    stats = await redis.info("commandstats")
    return Counter({k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()})


def tenth(values: list[float], last: bool) -> list[float]:
    size = max(1, len(values) // 10)
    return values[-size:] if last else values[:size]


async def run(patients: int, gp_count: int, workers: int) -> dict[str, Any]:
    lift_fd_limit()
    stack = Stack(Path(tempfile.mkdtemp(prefix="bench-clinic-")), instances=1)
    began = time.time()
    stack.start()
    print(f"  stack up after {time.time() - began:.1f} s", flush=True)
    try:
        url = stack.urls[0]
        assert isinstance(stack.redis, RedisServer)
        pids = [*stack.server_pids(), stack.redis.pid]
        async with stack.client() as redis:
            booked, logins = await book(redis, patients, gp_count)
        ctx = multiprocessing.get_context("spawn")
        ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
        procs = [
            ctx.Process(target=worker, args=(url, booked[i::workers], ready, results, stop))
            for i in range(workers)
        ]
        connect_started = time.time()
        for proc in procs:
            proc.start()
        for _ in booked:
            ready.get(timeout=600)
        connect_seconds = time.time() - connect_started
        print(f"  {patients} patients waiting after {connect_seconds:.1f} s more", flush=True)

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        gps = []
        hello_ms, hello_cpu_ms = [], []
        for login in logins:
            cookie = await gp_login(session, url, login)
            ws = await session.ws_connect(
                f"{url}/ws", heartbeat=None, max_msg_size=0,
                headers={"Cookie": f"av_session={cookie}"},
            )  # fmt: skip
            cpu_0, sent = cpu_seconds(*pids), time.time()
            await ws.send_json({"v": 1, "type": "hello"})
            state = await expect(ws, "clinic.state")
            hello_ms.append((time.time() - sent) * 1000)
            await asyncio.sleep(0.2)  # whatever the hello set off elsewhere, counted too
            hello_cpu_ms.append((cpu_seconds(*pids) - cpu_0) * 1000)
            assert len(state["waiting"]) == patients, len(state["waiting"])
            gps.append(ws)
        print(f"  {len(gps)} GPs have the clinic; admitting", flush=True)

        admitted: dict[str, tuple[int, float, float]] = {}
        marks: list[tuple[int, float]] = []  # (admits done, server CPU) every tenth

        async def sample() -> None:
            step = max(1, patients // 10)
            while len(marks) < 11:
                done = len(admitted)
                if done >= len(marks) * step or done == patients:
                    marks.append((done, cpu_seconds(*pids)))
                await asyncio.sleep(0.005)

        async with stack.client() as redis:
            calls_before = await redis_calls(redis)
        redis_cpu_0 = cpu_seconds(pids[-1])
        sampler = asyncio.create_task(sample())
        started = time.time()
        await admit_all(gps, [b.consultation_id for b in booked], admitted)
        total_seconds = time.time() - started
        await asyncio.wait_for(sampler, 5)
        redis_cpu = cpu_seconds(pids[-1]) - redis_cpu_0
        async with stack.client() as redis:
            calls = await redis_calls(redis) - calls_before
        calls.pop("info", None)
        print("  Redis commands per admit:", ", ".join(
            f"{name} {count / patients:.1f}" for name, count in calls.most_common(12)
        ))  # fmt: skip

        print(f"  all admitted after {time.time() - began:.1f} s", flush=True)
        stop.set()
        notified: dict[str, float] = {}
        place_updates = 0
        for _ in procs:
            got, places = results.get(timeout=60)
            notified.update(got)
            place_updates += places
        for proc in procs:
            proc.join(timeout=30)
        for ws in gps:
            await ws.close()
        await session.close()
    finally:
        stack.stop()

    by_index = sorted(admitted.values())
    admit_ms = [(joined - sent) * 1000 for _, sent, joined in by_index]
    notify_ms = [
        (notified[cid] - admitted[cid][1]) * 1000
        for cid in (b.consultation_id for b in booked)
        if cid in notified
    ]
    first, last = tenth(admit_ms, False), tenth(admit_ms, True)

    def cpu_per_admit(a: int, b: int) -> float:
        (done_a, cpu_a), (done_b, cpu_b) = marks[a], marks[b]
        return (cpu_b - cpu_a) * 1000 / max(1, done_b - done_a)

    return {
        "benchmark": "clinic_scale",
        "patients": patients,
        "gps": gp_count,
        "connect_seconds": round(connect_seconds, 1),
        "gp_hello_ms": [round(v, 1) for v in hello_ms],
        "gp_hello_cpu_ms": round(sum(hello_cpu_ms) / len(hello_cpu_ms), 1),
        "admits": len(admit_ms),
        "total_setup_seconds": round(total_seconds, 2),
        "admit_first_tenth_p50_ms": round(percentile(first, 0.5), 1),
        "admit_first_tenth_p99_ms": round(percentile(first, 0.99), 1),
        "admit_last_tenth_p50_ms": round(percentile(last, 0.5), 1),
        "admit_last_tenth_p99_ms": round(percentile(last, 0.99), 1),
        "admit_p50_ms": round(percentile(admit_ms, 0.5), 1),
        "admit_p99_ms": round(percentile(admit_ms, 0.99), 1),
        "patient_notify_p50_ms": round(percentile(notify_ms, 0.5), 1) if notify_ms else None,
        "patients_notified": len(notify_ms),
        "cpu_ms_per_admit": round(cpu_per_admit(0, len(marks) - 1), 2),
        "redis_cpu_ms_per_admit": round(redis_cpu * 1000 / max(1, len(admit_ms)), 2),
        "cpu_ms_per_admit_first_tenth": round(cpu_per_admit(0, 1), 2),
        "cpu_ms_per_admit_last_tenth": round(cpu_per_admit(len(marks) - 2, len(marks) - 1), 2),
        "redis_commands_per_admit": round(calls.total() / max(1, len(admit_ms)), 1),
        "place_updates": place_updates,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="60 patients, 2 GPs, one worker process (CI)"
    )
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--gps", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.quick:  # each GP's login is a deliberately slow password check
        args.patients, args.gps, args.workers = 60, 2, 1
    result = asyncio.run(run(args.patients, args.gps, args.workers))
    print(
        f"{result['patients']} patients in one clinic, {result['gps']} GPs: all admitted in "
        f"{result['total_setup_seconds']} s; admit -> call.joined p50/p99 "
        f"{result['admit_first_tenth_p50_ms']}/{result['admit_first_tenth_p99_ms']} ms with "
        f"the queue long, {result['admit_last_tenth_p50_ms']}/{result['admit_last_tenth_p99_ms']}"
        f" ms with it short; server CPU per admit {result['cpu_ms_per_admit_first_tenth']} ms "
        f"-> {result['cpu_ms_per_admit_last_tenth']} ms; per GP hello "
        f"{result['gp_hello_cpu_ms']} ms CPU"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
