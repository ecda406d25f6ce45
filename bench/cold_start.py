"""Cold start: `almenvideo serve` to its first healthy answer, with the embedded Redis.

    python bench/cold_start.py            # 10 runs with no Redis running, 10 with one running
    python bench/cold_start.py --quick    # 3 + 3 runs, as CI runs it

Each run starts the real console command (`python -m server.cli serve`) with no REDIS_URL,
in a data directory of its own, on a free port, and polls from outside every 2 ms:
- redis: the embedded Redis's socket answers PING;
- listening: the port gives any HTTP answer (a 503 too);
- healthy: `/healthz` answers 200 (it pings Redis, so the server can really serve).
Each is timed from the moment the process was started. The server's CPU time until it was
healthy (/proc utime+stime) is reported beside the wall clock, which is noisy on a busy
machine: all its threads, and its main thread alone (the event loop's way to healthy; the
rest is the warm-up thread importing the routes' modules meanwhile, server/lazyroutes.py).

Two kinds of run:
- cold: a fresh data directory, no Redis: the server starts the supervisor, which starts
  redis-server (server/store/embedded.py);
- adopted: the data directory's Redis already runs (the bench holds a lease on it, as a
  second instance or a restart within the linger would find it): the server only takes a
  lease.

One more cold run, under `python -X importtime`, not counted, gives the import breakdown:
the packages whose modules cost the most to import (self time, summed per package).
The bench stops every process it started, the detached supervisor and redis-server
included. The server's modules are byte-compiled first, as a second start finds them.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import cpu_seconds, thread_cpu_seconds
from server.store.embedded import EmbeddedRedis
from tests.support.redisserver import free_port

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 0.5
POLL_SECONDS = 0.002
GIVE_UP_SECONDS = 30.0


@dataclass
class Run:
    redis: float
    listening: float
    healthy: float
    server_cpu: float
    main_thread_cpu: float


def redis_answers(sock_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(0.5)
            sock.connect(str(sock_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def health_status(port: int) -> int | None:
    """The status `/healthz` answers with, or None while nothing listens."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def stop_embedded(data_dir: Path) -> None:
    """Stop the data directory's supervisor, then its redis-server (SIGTERM, then SIGKILL),
    rather than wait out the supervisor's linger; only processes that name this directory."""
    for name in ("supervisor.lock", "redis.pid"):
        pid = pid_in(data_dir / name)
        if pid is None:
            continue
        try:
            if str(data_dir).encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            os.kill(pid, signal.SIGTERM)
        except OSError:
            continue
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def serve(
    data_dir: Path, port: int, log: Path, python_flags: tuple[str, ...]
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_SENTINELS")}
    env |= {"ALMENVIDEO_DATA_DIR": str(data_dir), "ALMENVIDEO_INSTANCE_ID": "cold-start"}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, *python_flags, "-m", "server.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def one_run(data_dir: Path, log: Path, python_flags: tuple[str, ...] = ()) -> Run:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    sock_path = data_dir / "redis.sock"
    started = time.perf_counter()
    process = serve(data_dir, port, log, python_flags)
    redis_at = listening_at = None
    try:
        while time.perf_counter() - started < GIVE_UP_SECONDS:
            if process.poll() is not None:
                raise RuntimeError(f"serve exited with {process.returncode}; see {log}")
            if redis_at is None and redis_answers(sock_path):
                redis_at = time.perf_counter() - started
            status = health_status(port)
            if status is not None and listening_at is None:
                listening_at = time.perf_counter() - started
            if status == 200:
                healthy_at = time.perf_counter() - started
                server_cpu = cpu_seconds(process.pid)
                main_thread_cpu = thread_cpu_seconds(process.pid, process.pid)
                if redis_at is None:  # both became true between two polls
                    redis_at = healthy_at
                assert listening_at is not None
                return Run(redis_at, listening_at, healthy_at, server_cpu, main_thread_cpu)
            time.sleep(POLL_SECONDS)
        raise RuntimeError(f"serve was not healthy within {GIVE_UP_SECONDS} s; see {log}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def summary(runs: list[Run]) -> dict[str, float]:
    def p50(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    return {
        "n": len(runs),
        "healthy_p50_s": p50([r.healthy for r in runs]),
        "healthy_max_s": round(max(r.healthy for r in runs), 3),
        "redis_ready_p50_s": p50([r.redis for r in runs]),
        "listening_p50_s": p50([r.listening for r in runs]),
        "server_cpu_p50_s": p50([r.server_cpu for r in runs]),
        "server_cpu_min_s": round(min(r.server_cpu for r in runs), 3),
        "main_thread_cpu_p50_s": p50([r.main_thread_cpu for r in runs]),
    }


def import_breakdown(log: Path, top: int) -> dict[str, object]:
    """Self time of every module imported while serving, summed per package (the `server`
    package per subpackage); `-X importtime` itself adds some."""
    spent: collections.Counter[str] = collections.Counter()
    modules = 0
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.split(":", 1)[1].split("|")
        parts = name.strip().split(".")
        package = ".".join(parts[:2]) if parts[0] == "server" else parts[0]
        spent[package] += int(self_us)
        modules += 1
    return {
        "modules": modules,
        "total_ms": round(sum(spent.values()) / 1000, 1),
        "top_ms": {name: round(us / 1000, 1) for name, us in spent.most_common(top)},
    }


def cold_runs(base: Path, n: int) -> list[Run]:
    runs = []
    for i in range(n):
        data_dir = base / f"cold-{i}" / "var"
        try:
            runs.append(one_run(data_dir, base / f"cold-{i}.log"))
        finally:
            stop_embedded(data_dir)
    return runs


def adopted_runs(base: Path, n: int) -> list[Run]:
    data_dir = base / "adopted" / "var"
    holder = EmbeddedRedis(data_dir)
    try:
        asyncio.run(holder.start())
        return [one_run(data_dir, base / f"adopted-{i}.log") for i in range(n)]
    finally:
        asyncio.run(holder.stop())
        stop_embedded(holder.layout.data_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs of each kind, as CI runs it")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    n = 3 if args.quick else args.runs
    load = float(Path("/proc/loadavg").read_text().split()[0])  # how busy the machine was
    # As installed: bytecode compiled, as the first start writes it (unless
    # PYTHONDONTWRITEBYTECODE is set, when every start would compile the sources again).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "server", "integrations"], cwd=ROOT, check=True
    )
    with tempfile.TemporaryDirectory() as directory:
        base = Path(directory).resolve()
        cold = summary(cold_runs(base, n))
        adopted = summary(adopted_runs(base, n))
        traced_dir = base / "importtime" / "var"
        traced_log = base / "importtime.log"
        try:
            one_run(traced_dir, traced_log, ("-X", "importtime"))
        finally:
            stop_embedded(traced_dir)
        imports = import_breakdown(traced_log, 10)
    print(f"cold (no Redis running), {n} runs:  {cold}")
    print(f"adopted (Redis running), {n} runs: {adopted}")
    print(f"imports while serving (-X importtime): {imports}")
    print("wall-clock figures were measured on a shared machine; the CPU figure is steadier")
    result = {
        "bench": "cold_start",
        "goal_s": GOAL_SECONDS,
        "loadavg_1m": load,
        "cold": cold,
        "adopted": adopted,
        "imports": imports,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
