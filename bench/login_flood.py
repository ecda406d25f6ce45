"""A GP's socket while anonymous logins flood the same server process.

    python bench/login_flood.py            # 200 logins, 10 at a time, for a sustained rate
    python bench/login_flood.py --logins 40  # the attack of issue 15
    python bench/login_flood.py --quick    # 20 logins, as CI runs it

One real `almenvideo serve` behind a (pretend) trusted proxy, so each login comes from an
address of its own, as an attacker with many addresses would send them: the per-address
waits do not stop them, and only the bounded password pool stands between them and the
event loop. A logged-in GP's console meanwhile sends a message that is answered at once
(an `admit` of an unknown consultation: an `error` back) every 10 ms. Reported: the
round trip p50/p95/p99/max before and during the flood, and how the logins were answered
(401 checked, 503 refused at once because the pool's queue was full). Before issue 15
the checks ran on the event loop and the same attack took the round trip from 2 ms to
about a second.

Also reported (issue 19): the failed logins per second per core the server sustains: the
checked logins (401) over the CPU-seconds the server process spent on the flood, read
from /proc (utime+stime of all its threads, the password pool's included), less what the
GP's probe costs it (its CPU per round trip without the flood, measured over the quiet
phase with the instance's background tasks, times the round trips during the flood).
Redis's CPU over the flood is given beside it. The flood is closed loop (`--at-once`
logins in flight, the next sent as one is answered), so the server checks as fast as it
can; the wall-clock rate and the cores it used are shown too (they depend on what else
the machine runs; the rate per CPU-second much less).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.measure import cpu_seconds, percentile
from server.store.clinics import create_clinic
from tests.support.stack import Stack


def figures(trips: list[float]) -> dict[str, float]:
    ms = [t * 1000 for t in trips]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1),
    }


def rates(
    checked: int, flood_seconds: float, flood_cpu: float, probe_cpu: float, redis_cpu: float
) -> dict[str, float]:
    net_cpu = max(flood_cpu - probe_cpu, 1e-9)
    return {
        "failed_logins_per_core_s": round(checked / net_cpu, 1),
        "failed_logins_per_s": round(checked / flood_seconds, 1),
        "server_cpu_s": round(flood_cpu, 2),
        "server_cpu_net_s": round(net_cpu, 2),
        "server_cores_used": round(flood_cpu / flood_seconds, 2),
        "redis_cpu_s": round(redis_cpu, 2),
    }


async def probe(ws: aiohttp.ClientWebSocketResponse, until: asyncio.Event) -> list[float]:
    trips = []
    while not until.is_set():
        sent = time.perf_counter()
        await ws.send_json({"v": 1, "type": "admit", "consultation_id": "nope"})
        while (await ws.receive_json(timeout=30))["type"] != "error":
            pass
        trips.append(time.perf_counter() - sent)
        await asyncio.sleep(0.01)
    return trips


async def flood(url: str, attempts: int, at_once: int) -> Counter[int]:
    gate = asyncio.Semaphore(at_once)
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> int:
            async with gate:
                response = await session.post(
                    f"{url}/login",
                    data={"username": secrets.token_hex(6), "password": "guess"},
                    headers={"X-Forwarded-For": f"198.51.{i // 250}.{i % 250 + 1}"},
                    allow_redirects=False,
                )
                await response.read()
                return response.status

        return Counter(await asyncio.gather(*(one(i) for i in range(attempts))))


async def run(attempts: int, at_once: int, quiet_seconds: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as directory:
        env = {"ALMENVIDEO_TRUSTED_PROXIES": "127.0.0.1/32", "ALMENVIDEO_SECURE_COOKIES": "false"}
        stack = Stack(Path(directory), env=env)
        stack.start()
        try:
            async with stack.client() as redis:
                clinic = await create_clinic(redis, "Lægehuset Bench", "900001", "+45 1", {})
                redis_pid = int((await redis.info("server"))["process_id"])
            username, password = await stack.add_gp(clinic.id, "Dr. Bench")
            url = stack.urls[0]
            server_pid = stack.server_pids()[0]
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as gp:
                login = await gp.post(
                    f"{url}/login",
                    data={"username": username, "password": password},
                    headers={"X-Forwarded-For": "192.0.2.1"},
                    allow_redirects=False,
                )
                assert login.status == 303, login.status
                async with gp.ws_connect(f"{url}/ws") as ws:
                    await ws.send_json({"v": 1, "type": "hello"})
                    while (await ws.receive_json(timeout=10))["type"] != "clinic.state":
                        pass
                    quiet = asyncio.Event()
                    idle = asyncio.create_task(probe(ws, quiet))
                    quiet_started = cpu_seconds(server_pid)
                    await asyncio.sleep(quiet_seconds)
                    quiet.set()
                    before = await idle
                    quiet_cpu = cpu_seconds(server_pid) - quiet_started
                    done = asyncio.Event()
                    during_task = asyncio.create_task(probe(ws, done))
                    cpu_started = cpu_seconds(server_pid)
                    redis_started = cpu_seconds(redis_pid)
                    started = time.perf_counter()
                    statuses = await flood(url, attempts, at_once)
                    flood_seconds = time.perf_counter() - started
                    flood_cpu = cpu_seconds(server_pid) - cpu_started
                    redis_cpu = cpu_seconds(redis_pid) - redis_started
                    done.set()
                    during = await during_task
        finally:
            stack.stop()
    return {
        "bench": "login_flood",
        "logins": attempts,
        "at_once": at_once,
        "flood_seconds": round(flood_seconds, 1),
        "answers": {str(k): v for k, v in sorted(statuses.items())},
        **rates(
            statuses[401],
            flood_seconds,
            flood_cpu,
            quiet_cpu / len(before) * len(during),
            redis_cpu,
        ),
        "before": figures(before),
        "during": figures(during),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 logins, as CI runs it")
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--at-once", type=int, default=10)
    args = parser.parse_args()
    quick = args.quick
    result = asyncio.run(run(20 if quick else args.logins, args.at_once, 1.0 if quick else 3.0))
    before, during = result["before"], result["during"]
    print(f"logins: {result['logins']}, {result['at_once']} at a time: {result['answers']}")
    print(
        f"failed logins checked: {result['failed_logins_per_core_s']} per server CPU-second "
        f"(net of the GP's probe: {result['server_cpu_net_s']} of {result['server_cpu_s']} s), "
        f"{result['failed_logins_per_s']} per second using {result['server_cores_used']} "
        f"cores; Redis spent {result['redis_cpu_s']} CPU-s"
    )
    print(f"GP round trip before the flood: {before}")
    print(f"GP round trip during the flood: {during}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
