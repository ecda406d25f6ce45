"""A real Redis with high availability on this machine: a master, a replica and three
Sentinels, each its own process on a free port (not a fake). Tuned to notice a dead master
within a second and fail over within a few, so a fault test stays short."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from server.store.embedded import redis_server_binary
from tests.support.redisserver import free_port

MASTER_NAME = "almenvideo"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000


def sentinel_command(config: Path) -> list[str]:
    """`redis-sentinel CONFIG`, or the same binary as `redis-server CONFIG --sentinel` where
    the distribution ships no separate name for it."""
    found = shutil.which("redis-sentinel")
    if found:
        return [found, str(config)]
    return [redis_server_binary(), str(config), "--sentinel"]


def _wait(check: object, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if callable(check) and check():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


class SentinelCluster:
    def __init__(self, directory: Path, sentinels: int = 3) -> None:
        self.directory = directory
        self.ports = [free_port(), free_port()]  # master, replica (at the start)
        self.sentinel_ports = [free_port() for _ in range(sentinels)]
        self._servers: dict[int, subprocess.Popen[bytes]] = {}
        self._sentinels: list[subprocess.Popen[bytes]] = []

    @property
    def addresses(self) -> str:
        """For REDIS_SENTINELS."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def app_env(self) -> dict[str, str]:
        return {"REDIS_SENTINELS": self.addresses, "ALMENVIDEO_REDIS_MASTER": MASTER_NAME}

    def master_port(self) -> int:
        """Where the Sentinels say the master is now."""
        for port in self.sentinel_ports:
            try:
                with redis.Redis(port=port, socket_timeout=1) as sentinel:
                    _, master = sentinel.sentinel_get_master_addr_by_name(MASTER_NAME)
                    return int(master)
            except (redis.RedisError, TypeError):
                continue
        raise RuntimeError("no Sentinel names a master")

    @property
    def url(self) -> str:
        """The current master's URL, for the test's own client (the app asks the Sentinels)."""
        return f"redis://127.0.0.1:{self.master_port()}/0"

    def start(self) -> None:
        master, replica = self.ports
        self._start_server(master)
        self._start_server(replica, "--replicaof", "127.0.0.1", str(master))
        _wait(lambda: self._replication(replica)["master_link_status"] == "up", "the replica")
        for index, port in enumerate(self.sentinel_ports):
            config = self.directory / f"sentinel-{index}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master} 2\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n"
                f"sentinel parallel-syncs {MASTER_NAME} 1\n"
            )
            log = (self.directory / f"sentinel-{index}.log").open("wb")
            self._sentinels.append(
                subprocess.Popen(sentinel_command(config), stdout=log, stderr=subprocess.STDOUT)
            )
        # A failover needs each Sentinel to know the replica and the other Sentinels.
        others = len(self.sentinel_ports) - 1
        for port in self.sentinel_ports:
            _wait(lambda port=port: self._knows_all(port, others), f"Sentinel {port}")

    def kill_master(self) -> int:
        """kill -9 the current master: no shutdown, no last write to disk. Returns its port."""
        port = self.master_port()
        process = self._servers.pop(port)
        process.kill()
        process.wait()
        return port

    def wait_failover(self, old_port: int, seconds: float = 30) -> int:
        """The port of the replica the Sentinels promoted."""
        _wait(lambda: self.master_port() != old_port, "the failover", seconds)
        return self.master_port()

    def revive(self, port: int) -> None:
        """Start the killed master again on its port, with its append-only file: the
        Sentinels turn it into a replica of the master they promoted."""
        self._start_server(port)

    def stop(self) -> None:
        for process in [*self._sentinels, *self._servers.values()]:
            process.terminate()
        for process in [*self._sentinels, *self._servers.values()]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._sentinels.clear()
        self._servers.clear()

    def _start_server(self, port: int, *more: str) -> None:
        data = self.directory / f"redis-{port}"
        data.mkdir(exist_ok=True)
        self._servers[port] = subprocess.Popen(
            [
                redis_server_binary(),
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--dir", str(data),
                "--appendonly", "yes",
                "--save", "",
                *more,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait(lambda: self._ping(port), f"redis-server on {port}")

    @staticmethod
    def _ping(port: int) -> bool:
        with redis.Redis(port=port, socket_timeout=1) as client:
            return bool(client.ping())

    @staticmethod
    def _replication(port: int) -> dict[str, object]:
        with redis.Redis(port=port, socket_timeout=1, decode_responses=True) as client:
            return dict(client.info("replication"))

    @staticmethod
    def _knows_all(port: int, others: int) -> bool:
        with redis.Redis(port=port, socket_timeout=1, decode_responses=True) as sentinel:
            state = sentinel.sentinel_master(MASTER_NAME)
        return int(state["num-slaves"]) >= 1 and int(state["num-other-sentinels"]) >= others
