"""A real deployment on this machine: one redis-server and N `almenvideo serve` processes.

Used by the browser tests and by the benchmarks, so both measure the product as it runs.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from server.consultations.links import issue_link, resolve_link
from server.store.consultations import Kind, create_consultation
from server.store.organisations import create_organisation
from server.store.users import create_user
from tests.support.redisserver import RedisServer, free_port
from tests.support.sentinel import SentinelCluster


class Stack:
    def __init__(
        self,
        directory: Path,
        instances: int = 1,
        env: dict[str, str] | None = None,
        redis: RedisServer | SentinelCluster | None = None,
    ) -> None:
        """`redis`: by default one redis-server; a SentinelCluster makes the instances find
        the master through its Sentinels (REDIS_SENTINELS) instead of REDIS_URL."""
        self.directory = directory
        self.redis = redis or RedisServer(directory)
        self.instances = instances
        self.env = env or {}  # more settings for every instance
        self.urls: list[str] = []
        self._processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        self.redis.start()
        for index in range(self.instances):
            port = free_port()
            env = {
                **os.environ,
                **self._redis_env(),
                "ALMENVIDEO_INSTANCE_ID": f"instance-{index}",
                # Browser tests watch a closed tab disappear without waiting a minute.
                "ALMENVIDEO_PRESENCE_GRACE": "3",
                # The LPS simulator's webhook receiver runs on this machine.
                "ALMENVIDEO_WEBHOOK_ALLOW_LOCAL": "1",
                **self.env,
            }
            log = (self.directory / f"server-{index}.log").open("wb")
            self._processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            self.urls.append(f"http://127.0.0.1:{port}")
        try:
            for url in self.urls:
                _wait_healthy(url)
        except BaseException:
            self.stop()  # a start that fails leaves no Redis or server behind it
            raise

    def _redis_env(self) -> dict[str, str]:
        if isinstance(self.redis, SentinelCluster):
            return self.redis.app_env()
        return {"REDIS_URL": self.redis.url}

    def kill(self, index: int, sig: signal.Signals = signal.SIGKILL) -> None:
        """Kill one instance (kill -9 by default) and wait until it is gone; its URL stays
        in `urls`, answering nothing, as a crashed machine's would."""
        process = self._processes[index]
        process.send_signal(sig)
        process.wait(timeout=30)

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        self.redis.stop()

    def demo(self, base_url: str) -> dict[str, Any]:
        """Run the real `almenvideo demo-setup --json` against this stack's Redis."""
        out = subprocess.run(
            [sys.executable, "-m", "server.cli", "demo-setup", "--json",
             "--redis-url", self.redis.url, "--base-url", base_url],
            check=True,
            capture_output=True,
            text=True,
        )  # fmt: skip
        return dict(json.loads(out.stdout))

    async def new_patient_url(self, base_url: str, clinic_id: str, starts_in: int = 0) -> str:
        """Another consultation for the clinic and its patient link; by default its time is
        now, so the patient is shown a place in the queue (an early one is shown the time)."""
        async with self.client() as client:
            c = await create_consultation(
                client, clinic_id, Kind.SCHEDULED, scheduled_start=time.time() + starts_in
            )
            token, _ = await issue_link(client, c)
        return f"{base_url}/j/{token}"

    async def reissue_link(self, base_url: str, patient_url: str) -> str:
        """A new link for the consultation behind `patient_url`; the old one is revoked."""
        async with self.client() as client:
            resolved = await resolve_link(client, patient_url.rsplit("/", 1)[1])
            assert resolved.consultation is not None
            token, _ = await issue_link(client, resolved.consultation)
        return f"{base_url}/j/{token}"

    async def add_gp(self, clinic_id: str, name: str) -> tuple[str, str]:
        """Another GP in the clinic; returns (username, password)."""
        username, password = f"gp-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
        async with self.client() as client:
            await create_user(client, username, password, name, "gp", clinic_id)
        return username, password

    async def add_staff(self, name: str, title: str) -> tuple[str, str, str]:
        """A municipality with one staff member; returns (username, password, organisation)."""
        username, password = f"staff-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
        async with self.client() as client:
            for _ in range(100):  # a free three-digit municipality code in this stack
                code = f"{secrets.randbelow(900) + 100}"
                try:
                    org = await create_organisation(client, f"Testkommune {code}", code)
                    break
                except ValueError:
                    continue
            await create_user(
                client, username, password, name, "staff", organisation_id=org.id, title=title
            )
        return username, password, org.name

    async def consultation_id(self, patient_url: str) -> str:
        async with self.client() as client:
            resolved = await resolve_link(client, patient_url.rsplit("/", 1)[1])
        assert resolved.consultation is not None
        return resolved.consultation.id

    @asynccontextmanager
    async def client(self) -> AsyncIterator[aioredis.Redis]:
        client = aioredis.from_url(self.redis.url, decode_responses=True)
        try:
            yield client
        finally:
            await client.aclose()

    def server_pids(self) -> list[int]:
        return [process.pid for process in self._processes]

    def server_rss_kib(self) -> list[int]:
        """Resident memory of each server process, from /proc."""
        sizes = []
        for process in self._processes:
            status = Path(f"/proc/{process.pid}/status").read_text()
            line = next(row for row in status.splitlines() if row.startswith("VmRSS:"))
            sizes.append(int(line.split()[1]))
        return sizes


def _wait_healthy(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy")
