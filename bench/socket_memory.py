"""What one waiting patient's socket costs the server, counted allocation by allocation.

    python bench/socket_memory.py            # 2,000 patients in 4 clinics
    python bench/socket_memory.py --quick    # 300 patients in 3 clinics, as CI runs it

`waiting_room.py` reads the server's RSS, which is what an operator pays but hides where it
goes and moves with the allocator's mood. Here the app runs in this process (the real app
factory, a real redis-server), with tracemalloc on; the patients connect from a worker
process. A first batch warms up whatever is made once (caches, pools, the clinics' place
boards); then the rest connect and wait, and the growth between two snapshots, divided by
them, is each socket's cost. Printed: the total, its biggest allocation sites (ours and
aiohttp's, by the innermost frame in the server's code or else aiohttp's); `--verbose`
adds the biggest tracebacks. Allocations made once (a log line's traceback, the app's late
imports) are left out. Deterministic to a few bytes from run to run; the kernel's socket buffers
are not in it (they are not the process's heap).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import multiprocessing
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from redis.asyncio import from_url

from bench.measure import lift_fd_limit
from bench.waiting_room import _waiting
from server.app import create_app
from server.settings import Settings
from tests.support.redisserver import RedisServer, free_port
from tests.support.sockets import Booked, populate

FRAMES = 8
CONNECT_CONCURRENCY = 10  # tracemalloc slows the server: connect gently, so no hello times out
# A log line's traceback formatted once (and linecache's files), the app's late imports.
ONE_OFF = (
    "/traceback.py",
    "/linecache.py",
    "/logging/__init__.py",
    "<frozen importlib._bootstrap>",
)
ROOT = str(Path(__file__).resolve().parent.parent)
SERVER = ROOT + "/server/"


def worker(url: str, patients: list[Booked], ready: Any, stop: Any) -> None:
    lift_fd_limit()
    asyncio.run(_worker(url, patients, ready, stop))


async def _worker(url: str, patients: list[Booked], ready: Any, stop: Any) -> None:
    """Patients that connect, say hello, and then only listen (and answer pings)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def patient(p: Booked) -> None:
            async with gate:
                ws = await _waiting(session, url, p)
            ready.put(1)
            async for _ in ws:
                pass

        tasks = [asyncio.create_task(patient(p)) for p in patients]
        await asyncio.to_thread(stop.wait)
        for task in tasks:
            task.cancel()


def _site(trace: tracemalloc.Traceback) -> str:
    """The innermost frame in the server's code, else in aiohttp, else the innermost."""
    frames = list(reversed(trace))  # tracemalloc keeps them oldest first
    for frame in frames:
        if frame.filename.startswith(SERVER):
            return f"{frame.filename[len(ROOT) + 1 :]}:{frame.lineno}"
    for frame in frames:
        if "/aiohttp/" in frame.filename:
            return f"aiohttp/{frame.filename.rsplit('/aiohttp/', 1)[1]}:{frame.lineno}"
    return f"{frames[0].filename.rsplit('/', 1)[-1]}:{frames[0].lineno}"


async def _connect(url: str, patients: list[Any], workers: int, ctx: Any) -> tuple[list[Any], Any]:
    ready, stop = ctx.Queue(), ctx.Event()
    shares = [patients[i::workers] for i in range(workers)]
    procs = [ctx.Process(target=worker, args=(url, s, ready, stop)) for s in shares]
    for proc in procs:
        proc.start()
    for count in range(1, len(patients) + 1):
        await asyncio.to_thread(ready.get, True, 120)
        if count % 100 == 0:
            print(f"  {count} connected", flush=True)
    return procs, stop


async def run(clinics: int, per_clinic: int, warm: int, verbose: bool) -> dict[str, Any]:
    lift_fd_limit()
    directory = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    redis = RedisServer(directory)
    redis.start()
    procs: list[Any] = []
    stops: list[Any] = []
    try:
        port = free_port()
        settings = Settings.from_env(
            {"REDIS_URL": redis.url, "ALMENVIDEO_DATA_DIR": str(directory)}, port=port
        )
        app = create_app(settings)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        url = f"http://127.0.0.1:{port}"
        client = from_url(redis.url, decode_responses=True)
        world = [await populate(client, i, per_clinic) for i in range(clinics)]
        await client.aclose()
        patients = [p for c in world for p in c.patients]
        first, rest = patients[: warm * clinics], patients[warm * clinics :]
        ctx = multiprocessing.get_context("spawn")
        tracemalloc.start(FRAMES)
        procs_a, stop_a = await _connect(url, first, 1, ctx)
        procs += procs_a
        stops.append(stop_a)
        await asyncio.sleep(2)
        gc.collect()
        before = tracemalloc.take_snapshot()
        procs_b, stop_b = await _connect(url, rest, 2, ctx)
        procs += procs_b
        stops.append(stop_b)
        await asyncio.sleep(12)  # a presence round and a keep-alive round with all of them
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        n = len(rest)
        sites: collections.Counter[str] = collections.Counter()
        stats = after.compare_to(before, "traceback")
        for stat in stats:
            if any(f.filename.endswith(ONE_OFF) for f in stat.traceback):
                continue
            sites[_site(stat.traceback)] += stat.size_diff
        if verbose:
            for stat in stats[:30]:
                per = stat.size_diff / len(rest), stat.count_diff / len(rest)
                print(f"{per[0]:8.0f} B in {per[1]:.2f} blocks")
                for line in stat.traceback.format(limit=FRAMES):
                    print("      " + line)
        total = sum(sites.values())
        for stop in stops:
            stop.set()
        await runner.cleanup()
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
        redis.stop()
    print(f"{n} sockets measured; Python heap per waiting patient {total / n:.0f} bytes")
    print("  biggest sites, bytes per patient:")
    for site, size in sites.most_common(25):
        print(f"    {size / n:8.0f}  {site}")
    return {
        "benchmark": "socket_memory",
        "patients": n,
        "heap_bytes_per_waiting_patient": round(total / n),
        "top_sites": {site: round(size / n) for site, size in sites.most_common(10)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="300 patients in 3 clinics (CI)")
    parser.add_argument("--patients", type=int, default=2_000)
    parser.add_argument("--clinics", type=int, default=4)
    parser.add_argument("--verbose", action="store_true", help="the biggest tracebacks in full")
    args = parser.parse_args()
    clinics, patients = (3, 300) if args.quick else (args.clinics, args.patients)
    per_clinic = patients // clinics
    warm = max(10, per_clinic // 10)
    result = asyncio.run(run(clinics, per_clinic, warm, args.verbose))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
