"""A GP's socket while anonymous logins flood the same server process.

    python bench/login_flood.py            # 40 logins, 10 at a time (the issue's attack)
    python bench/login_flood.py --quick    # 20 logins, as CI runs it

One real `almenvideo serve` behind a (pretend) trusted proxy, so each login comes from an
address of its own, as an attacker with many addresses would send them: the per-address
waits do not stop them, and only the bounded password pool stands between them and the
event loop. A logged-in GP's console meanwhile sends a message that is answered at once
(an `admit` of an unknown consultation: an `error` back) every 10 ms. Reported: the
round trip p50/p95/max before and during the flood, and how the logins were answered
(401 checked, 503 refused at once because the pool's queue was full). Before issue 15
the checks ran on the event loop and the same attack took the round trip from 2 ms to
about a second.
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

from server.store.clinics import create_clinic
from tests.support.stack import Stack


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(trips: list[float]) -> dict[str, float]:
    ms = [t * 1000 for t in trips]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
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


async def run(attempts: int, at_once: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as directory:
        env = {"ALMENVIDEO_TRUSTED_PROXIES": "127.0.0.1/32", "ALMENVIDEO_SECURE_COOKIES": "false"}
        stack = Stack(Path(directory), env=env)
        stack.start()
        try:
            async with stack.client() as redis:
                clinic = await create_clinic(redis, "Lægehuset Bench", "900001", "+45 1", {})
            username, password = await stack.add_gp(clinic.id, "Dr. Bench")
            url = stack.urls[0]
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
                    await asyncio.sleep(1)
                    quiet.set()
                    before = await idle
                    done = asyncio.Event()
                    during_task = asyncio.create_task(probe(ws, done))
                    started = time.perf_counter()
                    statuses = await flood(url, attempts, at_once)
                    flood_seconds = time.perf_counter() - started
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
        "before": figures(before),
        "during": figures(during),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 logins, as CI runs it")
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--at-once", type=int, default=10)
    args = parser.parse_args()
    result = asyncio.run(run(20 if args.quick else args.logins, args.at_once))
    before, during = result["before"], result["during"]
    print(f"logins: {result['logins']}, {result['at_once']} at a time: {result['answers']}")
    print(f"GP round trip before the flood: {before}")
    print(f"GP round trip during the flood: {during}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
