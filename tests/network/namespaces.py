"""The lab's Linux network namespaces: running commands inside one, and deleting them,
also those a dead lab process left behind. Every lab namespace is named `avlab<pid>x…`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PREFIX = "avlab"
NETNS_ETC = Path("/etc/netns")


def run(argv: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), check=check, capture_output=True, text=True)


@dataclass(frozen=True)
class Namespace:
    name: str

    def argv(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        return run(self.argv(argv), check=check)

    def ip(self, *args: str) -> str:
        return run(["ip", "-n", self.name, *args]).stdout

    def nft(self, script: str) -> None:
        subprocess.run(self.argv(["nft", "-f", "-"]), input=script, text=True, check=True)

    def sysctl(self, *settings: str) -> None:
        self.run(["sysctl", "-q", "-w", *settings])

    def hosts(self, names: dict[str, str]) -> None:
        """Host names for processes in this namespace, and no DNS server: `ip netns exec`
        mounts /etc/netns/NAME/* over /etc (removed with the namespace)."""
        directory = NETNS_ETC / self.name
        directory.mkdir(parents=True, exist_ok=True)
        lines = [f"{address} {name}" for name, address in names.items()]
        (directory / "hosts").write_text("\n".join(["127.0.0.1 localhost", *lines, ""]))
        (directory / "resolv.conf").write_text("nameserver 127.0.0.1\n")

    def pids(self) -> list[int]:
        return [int(pid) for pid in run(["ip", "netns", "pids", self.name]).stdout.split()]


def delete_namespace(ns: Namespace) -> None:
    """Whatever still runs inside is ours (the namespace is): end it, then the namespace."""
    try:
        for pid in ns.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    except subprocess.CalledProcessError:
        return
    run(["ip", "netns", "delete", ns.name], check=False)
    shutil.rmtree(NETNS_ETC / ns.name, ignore_errors=True)


def lab_namespaces() -> list[str]:
    listed = run(["ip", "netns", "list"]).stdout.split("\n")
    return [line.split()[0] for line in listed if line.startswith(PREFIX)]


def remove_abandoned_labs() -> None:
    """Namespaces of a lab whose process died without cleaning up (killed with SIGKILL)."""
    for name in lab_namespaces():
        owner = name.removeprefix(PREFIX).split("x", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            delete_namespace(Namespace(name))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
