"""The servers the relay benchmark measures, each started fresh with its pairs ready: the
PeerJS server (node, from bench/peerjs/), and almenvideo (one or two instances over one
redis-server) with GPs and booked patients for the pairs. `pids` are the processes whose
CPU time a message costs.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import subprocess
import time
from pathlib import Path

from bench.relayworker import AlmenvideoPair, PeerJSPair
from server.store.sessions import open_session
from server.store.users import find_user
from tests.support.redisserver import RedisServer, free_port
from tests.support.sockets import populate
from tests.support.stack import Stack

PEERJS = Path(__file__).resolve().parent / "peerjs" / "node_modules" / "peer" / "dist" / "bin"
PAIRS_PER_CLINIC = 10  # a GP login per clinic, one console socket per call
LOGIN_SECONDS = 3600


class PeerJSServer:
    """The PeerJS server as its own command starts it, on a free loopback port."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = directory / "peerjs.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        script = PEERJS / "peerjs.js"
        if not script.exists():
            raise SystemExit(f"{script} is missing: run scripts/setup --test")
        self._process = subprocess.Popen(
            ["node", str(script), "--port", str(self.port), "--host", "127.0.0.1",
             "--path", "/", "--concurrent_limit", "100000"],
            stdout=self._log.open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the PeerJS server did not start")

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


class PeerJSTarget:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._server: PeerJSServer | None = None

    def start(self, pairs: int) -> tuple[list[PeerJSPair], list[int]]:
        self._server = PeerJSServer(self.directory)
        self._server.start()
        url, tag = self._server.url, secrets.token_hex(3)
        specs = [
            PeerJSPair(url, f"a{tag}{n}", f"b{tag}{n}", secrets.token_hex(8)) for n in range(pairs)
        ]
        return specs, [self._server.pid]

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


class AlmenvideoTarget:
    """With two instances, each pair's patient is on the first and its GP on the second, so
    every message between them goes through Redis."""

    def __init__(self, directory: Path, instances: int) -> None:
        self.directory = directory
        self.instances = instances
        self._started = 0
        self._stack: Stack | None = None

    def start(self, pairs: int) -> tuple[list[AlmenvideoPair], list[int]]:
        self._started += 1
        directory = self.directory / f"almenvideo-x{self.instances}-{pairs}-{self._started}"
        directory.mkdir()
        redis = RedisServer(directory)
        self._stack = Stack(directory, instances=self.instances, redis=redis)
        self._stack.start()
        specs = asyncio.run(book(self._stack, pairs, self.instances == 2))
        return specs, [*self._stack.server_pids(), redis.pid]

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.stop()
            self._stack = None


async def book(stack: Stack, pairs: int, two: bool) -> list[AlmenvideoPair]:
    """Clinics of up to PAIRS_PER_CLINIC booked patients, each with a GP logged in once
    (a session opened in Redis: a login's scrypt check is not what this measures)."""
    patient_url, gp_url = stack.urls[0], stack.urls[1 if two else 0]
    sizes = [min(PAIRS_PER_CLINIC, pairs - at) for at in range(0, pairs, PAIRS_PER_CLINIC)]
    async with stack.client() as redis:
        clinics = await asyncio.gather(*(populate(redis, i, n) for i, n in enumerate(sizes)))
        specs = []
        for clinic in clinics:
            gp = await find_user(redis, clinic.gp_username)
            assert gp is not None
            cookie = await open_session(redis, gp.id, LOGIN_SECONDS)
            specs += [
                AlmenvideoPair(patient_url, gp_url, p.link, p.resume, cookie, p.consultation_id)
                for p in clinic.patients
            ]
    return specs
