"""The embedded Redis belongs to no instance (server/store/embedded.py): two `serve`
processes share it through one data directory; stopping the one that started it leaves it
running for the other; when every instance is gone, killed included, the supervisor stops
it, and a Redis orphaned by killing the supervisor too is adopted by the next start. Real
processes, no REDIS_URL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server.store.embedded import LINGER_SECONDS
from tests.support.redisserver import free_port


class Instance:
    def __init__(self, data_dir: Path, name: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env |= {"ALMENVIDEO_DATA_DIR": str(data_dir), "ALMENVIDEO_INSTANCE_ID": name}
        log = (data_dir.parent / f"{name}.log").open("ab")
        port = self.url.rsplit(":", 1)[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", port],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=30)


def until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def pid_in(path: Path) -> int:
    return int(path.read_text().split()[0])


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "var"
    yield directory
    for name in ("redis.pid", "supervisor.lock"):  # nothing of ours outlives a failed test
        try:
            pid = pid_in(directory / name)
            if str(directory).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass


def test_instances_share_the_embedded_redis_and_it_outlives_its_starter(data_dir: Path) -> None:
    first = Instance(data_dir, "first")
    assert until(first.healthy, 30)
    second = Instance(data_dir, "second")
    assert until(second.healthy, 30)
    redis_pid = pid_in(data_dir / "redis.pid")

    first.stop()  # the instance that started Redis
    time.sleep(LINGER_SECONDS + 1)
    assert second.healthy(), "stopping the first instance took Redis from the second"
    assert pid_in(data_dir / "redis.pid") == redis_pid, "Redis was restarted, not kept"

    second.stop(signal.SIGKILL)  # the last one dies without a word
    supervisor = pid_in(data_dir / "supervisor.lock")
    assert until(lambda: not running(redis_pid), LINGER_SECONDS + 15), "Redis was orphaned"
    assert until(lambda: not running(supervisor), 10), "its supervisor lingers"


def test_a_redis_orphaned_by_killing_everything_is_adopted_then_stopped(data_dir: Path) -> None:
    first = Instance(data_dir, "first")
    assert until(first.healthy, 30)
    redis_pid = pid_in(data_dir / "redis.pid")
    os.kill(pid_in(data_dir / "supervisor.lock"), signal.SIGKILL)
    first.stop(signal.SIGKILL)
    time.sleep(LINGER_SECONDS + 1)
    assert running(redis_pid)  # nobody watches it now

    again = Instance(data_dir, "again")
    assert until(again.healthy, 30)
    assert pid_in(data_dir / "redis.pid") == redis_pid, "a second Redis was started on its files"
    again.stop()
    assert until(lambda: not running(redis_pid), LINGER_SECONDS + 15), "the orphan was kept"
