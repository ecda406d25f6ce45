"""Waits, inside a namespace, until servers accept TCP connections (a process started
there cannot be checked from outside it).

    python -m tests.network.ready HOST:PORT...
"""

from __future__ import annotations

import socket
import sys
import time

PATIENCE_SECONDS = 60


def main(targets: list[str]) -> int:
    deadline = time.monotonic() + PATIENCE_SECONDS
    for target in targets:
        host, port = target.rsplit(":", 1)
        while True:
            try:
                with socket.create_connection((host, int(port)), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    print(f"{target} never answered", flush=True)
                    return 1
                time.sleep(0.1)
    print("ready", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
