"""The LPS simulator as a real process on a real port, started the way scripts/run-demo
starts it, for the browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def simulator_process(
    log_dir: Path, api_base: str, api_key: str, clinic: str, practitioner: str, port: int
) -> Iterator[None]:
    log = (log_dir / "simulator.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "integrations.lps.simulator", "--api-base", api_base,
         "--clinic", clinic, "--practitioner", practitioner, "--port", str(port)],
        env={**os.environ, "ALMENVIDEO_API_KEY": api_key}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz")
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_healthy(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the LPS simulator did not answer at {url}")
