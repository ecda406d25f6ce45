"""almenvideo as a clinic's operator runs it, on the lab's internet: the app, its Redis and
coturn, each a real process inside the internet namespace.

The app and coturn have an address each, since both take port 443 (the app as plain HTTP
here: a firewall that lets only 443 out must let the page through too). Redis listens on a
Unix socket only, which tests in the root namespace reach through the file system.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from server.consultations.links import issue_link
from server.store.consultations import Kind, create_consultation
from tests.network.lab import REPO_ROOT, Lab
from tests.support.turnserver import TurnServer

TURN_HOST = "turn.lab.test"


@dataclass(frozen=True)
class Deployment:
    base_url: str
    redis_url: str
    turn: TurnServer
    turn_address: str

    def demo(self) -> dict[str, Any]:
        """The real `almenvideo demo-setup --json`, against this deployment's Redis."""
        out = subprocess.run(
            [sys.executable, "-m", "server.cli", "demo-setup", "--json",
             "--redis-url", self.redis_url, "--base-url", self.base_url],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
            text=True,
        )  # fmt: skip
        return dict(json.loads(out.stdout))

    async def new_patient_url(self, clinic_id: str, starts_in: int = 300) -> str:
        """Another consultation for the clinic, scheduled shortly, and its patient link."""
        client = aioredis.from_url(self.redis_url, decode_responses=True)
        try:
            c = await create_consultation(
                client, clinic_id, Kind.SCHEDULED, scheduled_start=time.time() + starts_in
            )
            token, _ = await issue_link(client, c)
        finally:
            await client.aclose()
        return f"{self.base_url}/j/{token}"


def deploy(lab: Lab, with_turn: bool = True) -> Deployment:
    """With `with_turn=False` the app hands out only STUN (coturn still runs)."""
    app_address, turn_address = lab.server_address(), lab.server_address()
    socket_path = lab.directory / "redis.sock"
    lab.spawn(
        lab.internet,
        ["redis-server", "--port", "0", "--unixsocket", str(socket_path),
         "--dir", str(lab.directory), "--save", "", "--appendonly", "no"],
        "redis.log",
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while not socket_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    turn = TurnServer(
        lab.directory,
        listen_ip=turn_address,
        hostname=TURN_HOST,
        port=3478,
        tls_port=443,
        relay_ports=(49152, 49651),
        prefix=lab.internet.argv([]),
    )
    lab.spawn(lab.internet, turn.argv()[len(turn.prefix) :], "coturn.log")
    base_url = f"http://{app_address}:443"
    redis_url = f"unix://{socket_path}"
    lab.spawn(
        lab.internet,
        [sys.executable, "-m", "server.cli", "serve", "--host", app_address, "--port", "443"],
        "app.log",
        env={
            "REDIS_URL": redis_url,
            "ALMENVIDEO_BASE_URL": base_url,
            "ALMENVIDEO_SECURE_COOKIES": "false",
            "ALMENVIDEO_STUN_URLS": f"stun:{turn_address}:3478",
            "ALMENVIDEO_TURN_URLS": ",".join(turn.urls()) if with_turn else "",
            "ALMENVIDEO_TURN_SECRET": turn.secret if with_turn else "",
        },
    )
    ready = lab.python(
        lab.internet,
        "-m",
        "tests.network.ready",
        f"{turn_address}:3478",
        f"{turn_address}:443",
        f"{app_address}:443",
    )
    if ready.strip() != "ready":
        raise RuntimeError(f"the deployment did not start: {ready}; logs in {lab.directory}")
    return Deployment(base_url, redis_url, turn, turn_address)
