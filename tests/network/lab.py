"""A small internet in Linux network namespaces, for testing calls on real networks.

    home host ── lan/wan router (NAT, firewall) ─┐
    home host ── router ── carrier (CGNAT) ───────┼── internet (servers on 203.0.113.0/24)
    home host ── router ── line (delay, loss) ────┘           └── void (drops the rest)

Every address is in a documentation range (203.0.113.0/24 servers, 198.51.100.0/24 the
links to the internet, 100.64.0.0/10 carriers, 192.0.2.0/24 home networks) and lives on an
interface inside a namespace made here: veth pairs are created inside their namespaces, the
root namespace gets nothing, and the internet's default route ends in a namespace that
forwards nothing, so nothing reaches the machine's real interfaces. Leaving the `Lab` (also
by an exception) ends every process it started and deletes every namespace, which takes
their interfaces with them.
Namespaces (tests/network/namespaces.py) are named `avlab<pid>x<random>-…`; a lab deletes
those left by a dead process.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import TracebackType

from tests.network.namespaces import (
    PREFIX,
    Namespace,
    delete_namespace,
    remove_abandoned_labs,
    run,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVERS = ipaddress.ip_network("203.0.113.0/24")
VOID_LINK = ("198.51.100.252", "198.51.100.253", "198.51.100.254")
MAX_SITES = 63  # one /30 each of 198.51.100.0/24 (less the void's) and of 192.0.2.0/24


class Nat(StrEnum):
    # Keeps the source port for every destination (Linux masquerade does while the port is
    # free), so STUN's mapped address works with any peer: most home routers.
    ENDPOINT_INDEPENDENT = "endpoint-independent"
    # A new random port per destination (nft `fully-random`, iptables `--random-fully`):
    # what STUN learns is useless to a peer, as behind many carriers.
    SYMMETRIC = "symmetric"
    # A home router behind a carrier's CGNAT (100.64.0.0/10); both map independently of the
    # endpoint, as RFC 6888 asks of a CGN.
    DOUBLE = "double"


class Firewall(StrEnum):
    OPEN = "open"
    UDP_BLOCKED = "udp-blocked"  # only TCP leaves: TURN over TCP or TLS
    TCP443_ONLY = "tcp443-only"  # only HTTPS's port: TURN over TLS on 443


@dataclass(frozen=True)
class Site:
    """One side of a call: a host behind its router (and, for double NAT, a carrier)."""

    name: str
    host: Namespace
    address: str  # the host's own, in its home network
    router: Namespace
    public_address: str  # what servers on the internet see as the source
    nat: Nat
    firewall: Firewall
    uplink: str = ""  # the internet's end of the link to this site, in the internet namespace
    line: subprocess.Popen[bytes] | None = None  # a bad line on the uplink, if asked for

    def dropped(self) -> int:
        """Packets the firewall refused so far (its drop and reject rules count them)."""
        listed = json.loads(self.router.run(["nft", "-j", "list", "table", "inet", "lab"]).stdout)
        total = 0
        for item in listed["nftables"]:
            rule = item.get("rule")
            if rule is None or rule["chain"] != "forward":
                continue
            verdicts = {key for expr in rule["expr"] for key in expr}
            if verdicts & {"drop", "reject"}:
                total += sum(e["counter"]["packets"] for e in rule["expr"] if "counter" in e)
        return total


@dataclass
class Lab:
    directory: Path
    prefix: str = field(default_factory=lambda: f"{PREFIX}{os.getpid()}x{secrets.token_hex(2)}")
    namespaces: list[Namespace] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    _servers: list[str] = field(default_factory=list)

    def __enter__(self) -> Lab:
        remove_abandoned_labs()
        try:
            self.internet = self.namespace("internet")
            self.internet.sysctl("net.ipv4.ip_forward=1")  # it routes between the sites
            # The rest of the internet: a default route into a namespace that forwards
            # nothing, so what is sent to an address not in the lab is dropped silently, as
            # on the real internet (coturn ends a session whose sends fail with no route).
            self.void = self.namespace("void")
            self._link(self.internet, "up0", VOID_LINK[1], self.void, "eth0", VOID_LINK[2], 30)
            self.internet.ip("route", "add", "default", "via", VOID_LINK[2])
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def namespace(self, role: str) -> Namespace:
        ns = Namespace(f"{self.prefix}-{role}")
        run(["ip", "netns", "add", ns.name])
        self.namespaces.append(ns)
        ns.ip("link", "set", "lo", "up")
        ns.sysctl("net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        return ns

    def server_address(self) -> str:
        """A new address for a server in the internet namespace (on its loopback, which the
        kernel answers from every interface), e.g. one for the app and one for coturn, since
        both want port 443."""
        address = str(SERVERS[10 + len(self._servers)])
        self.internet.ip("address", "add", f"{address}/32", "dev", "lo")
        self._servers.append(address)
        return address

    def site(
        self, name: str, nat: Nat, firewall: Firewall = Firewall.OPEN, line: bool = False
    ) -> Site:
        """A host behind its router; with `line`, the uplink runs through a `tests.network.line`
        process whose delay and loss `degrade` sets (clean until then)."""
        index = self._next_index()
        router, public_address, uplink, bad = self._upstream(name, index, nat, firewall, line)
        host = self.namespace(f"{name}-host")
        address = self._home(router, host, index)
        site = Site(name, host, address, router, public_address, nat, firewall, uplink, bad)
        self.sites.append(site)
        return site

    def move(self, site: Site, nat: Nat, firewall: Firewall = Firewall.OPEN) -> Site:
        """The site's host leaves its network for another one (Wi-Fi to mobile): its link
        and address are deleted, then it joins a new router with its own uplink and gets a
        new address there. The returned site is the host in its new place."""
        index = self._next_index()
        name = f"{site.name}-m{index}"  # a host may move more than once
        router, public_address, uplink, _ = self._upstream(name, index, nat, firewall, False)
        site.host.ip("link", "delete", "eth0")  # its peer, and the old address, go with it
        address = self._home(router, site.host, index)
        moved = Site(site.name, site.host, address, router, public_address, nat, firewall, uplink)
        self.sites.append(moved)
        return moved

    def uplink(self, site: Site, up: bool) -> None:
        """Cut or restore the site's link to the internet (its cable, as the ISP sees it)."""
        self.internet.ip("link", "set", site.uplink, "up" if up else "down")

    def degrade(self, site: Site, delay_ms: int = 0, loss_percent: int = 0) -> None:
        """Delay every packet on the site's uplink by `delay_ms` and lose `loss_percent` %
        of them at random, each way; no arguments make the line clean again."""
        line = site.line
        if line is None or line.stdin is None or line.stdout is None:
            raise ValueError(f"site {site.name} has no line: make it with line=True")
        settings = {"delay_ms": delay_ms, "loss": loss_percent / 100}
        line.stdin.write(json.dumps(settings).encode() + b"\n")
        line.stdin.flush()
        if line.stdout.readline().strip() != b"ok":
            raise RuntimeError(f"the line of {site.name} refused {settings}")

    def limit(self, site: Site, kbit: int | None) -> None:
        """Cap the site's uplink at `kbit` kbit/s (a token bucket on its router's WAN side,
        queueing at most 300 ms as a modem would); None lifts the cap."""
        site.router.run(["tc", "qdisc", "del", "dev", "wan", "root"], check=False)
        if kbit is not None:
            tbf = ["tbf", "rate", f"{kbit}kbit", "burst", "4kb", "latency", "300ms"]
            site.router.run(["tc", "qdisc", "add", "dev", "wan", "root", *tbf])

    def _next_index(self) -> int:
        index = len(self.sites) + 1
        if index > MAX_SITES:
            raise ValueError(f"the lab has room for {MAX_SITES} sites")
        return index

    def _upstream(
        self, name: str, index: int, nat: Nat, firewall: Firewall, line: bool
    ) -> tuple[Namespace, str, str, subprocess.Popen[bytes] | None]:
        """A router linked to the internet (through a carrier for double NAT, and a line if
        asked): the router, its public address, the internet's device towards it, the line."""
        uplink = ipaddress.ip_network(f"198.51.100.{4 * (index - 1)}/30")
        inet_side, wan_side = str(uplink[1]), str(uplink[2])
        router = self.namespace(f"{name}-router")
        device = f"up{index}"
        first = self.namespace(f"{name}-carrier") if nat is Nat.DOUBLE else router
        if line:
            bad = self._line(name, device, inet_side, first, wan_side)
        else:
            bad = None
            self._link(self.internet, device, inet_side, first, "wan", wan_side, 30)
        if nat is Nat.DOUBLE:
            carrier = first
            cgn = ipaddress.ip_network(f"100.64.{index}.0/24")
            self._link(carrier, "lan", str(cgn[1]), router, "wan", str(cgn[2]), 24)
            carrier.ip("route", "add", "default", "via", inet_side)
            self._router(carrier, Nat.ENDPOINT_INDEPENDENT, Firewall.OPEN)
            router.ip("route", "add", "default", "via", str(cgn[1]))
            self._router(router, Nat.ENDPOINT_INDEPENDENT, firewall)
        else:
            router.ip("route", "add", "default", "via", inet_side)
            self._router(router, nat, firewall)
        return router, wan_side, device, bad

    def _line(
        self, name: str, device: str, inet_side: str, ns: Namespace, wan_side: str
    ) -> subprocess.Popen[bytes]:
        """The internet's `device` and `ns`'s `wan`, joined through a bridging line process
        in a namespace of its own (its interfaces have no addresses)."""
        line = self.namespace(f"{name}-line")
        self._wire(self.internet, device, line, "in")
        self._wire(line, "out", ns, "wan")
        self.internet.ip("address", "add", f"{inet_side}/30", "dev", device)
        ns.ip("address", "add", f"{wan_side}/30", "dev", "wan")
        for dev in ("in", "out"):
            line.ip("link", "set", dev, "promisc", "on")
        argv = [sys.executable, "-m", "tests.network.line", "in", "out"]
        return self.spawn(line, argv, f"{name}-line.log", ready_line=b"ready", control=True)

    def _home(self, router: Namespace, host: Namespace, index: int) -> str:
        """The home network between a router and its host; the host's address."""
        home = ipaddress.ip_network(f"192.0.2.{4 * (index - 1)}/30")
        self._link(router, "lan", str(home[1]), host, "eth0", str(home[2]), 30)
        host.ip("route", "add", "default", "via", str(home[1]))
        return str(home[2])

    def _link(
        self,
        a: Namespace,
        a_dev: str,
        a_addr: str,
        b: Namespace,
        b_dev: str,
        b_addr: str,
        bits: int,
    ) -> None:
        """A veth pair between `a` and `b`, with an address at each end."""
        self._wire(a, a_dev, b, b_dev)
        for ns, dev, addr in ((a, a_dev, a_addr), (b, b_dev, b_addr)):
            ns.ip("address", "add", f"{addr}/{bits}", "dev", dev)

    def _wire(self, a: Namespace, a_dev: str, b: Namespace, b_dev: str) -> None:
        """A veth pair born inside `a` with its peer inside `b`: never in the root namespace."""
        a.ip("link", "add", "name", a_dev, "type", "veth", "peer", "name", b_dev, "netns", b.name)
        a.ip("link", "set", a_dev, "up")
        b.ip("link", "set", b_dev, "up")

    def _router(self, ns: Namespace, nat: Nat, firewall: Firewall) -> None:
        ns.sysctl("net.ipv4.ip_forward=1")
        masquerade = "masquerade fully-random" if nat is Nat.SYMMETRIC else "masquerade"
        refuse = {
            Firewall.OPEN: "",
            Firewall.UDP_BLOCKED: 'iifname "lan" meta l4proto udp counter drop',
            Firewall.TCP443_ONLY: (
                'iifname "lan" tcp dport 443 accept\n'
                'iifname "lan" meta l4proto tcp counter reject with tcp reset\n'
                'iifname "lan" counter drop'
            ),
        }[firewall]
        ns.nft(
            "table inet lab {\n"
            "  chain postrouting { type nat hook postrouting priority srcnat;\n"
            f'    oifname "wan" {masquerade}\n  }}\n'
            # A router answers nothing unasked on its WAN side. Dropped here, a peer's early
            # hole-punching packet leaves no conntrack entry that would make the NAT pick
            # another port for the host's own packet (an OpenWrt router drops them too).
            "  chain input { type filter hook input priority filter; policy accept;\n"
            '    iifname "wan" ct state established,related accept\n'
            '    iifname "wan" drop\n  }\n'
            "  chain forward { type filter hook forward priority filter; policy accept;\n"
            '    iifname "wan" ct state established,related accept\n'
            '    iifname "wan" drop\n'
            f"    {refuse}\n  }}\n"
            "}\n"
        )

    def spawn(
        self,
        ns: Namespace,
        argv: Sequence[str],
        log: str,
        ready_line: bytes | None = None,
        env: dict[str, str] | None = None,
        control: bool = False,
    ) -> subprocess.Popen[bytes]:
        """A process inside `ns`, ended with the lab. With `ready_line`, waits until the
        process prints it (its first line), so a test never races its start. With
        `control`, its standard input is a pipe the caller writes to."""
        with (self.directory / log).open("wb") as output:
            process = subprocess.Popen(
                ns.argv(argv),
                cwd=REPO_ROOT,
                stdout=subprocess.PIPE if ready_line else output,
                stderr=output,
                stdin=subprocess.PIPE if control else subprocess.DEVNULL,
                start_new_session=True,
                env=None if env is None else {**os.environ, **env},
            )
        self.processes.append(process)
        if ready_line is not None:
            assert process.stdout is not None
            first = process.stdout.readline()
            if first.strip() != ready_line:
                raise RuntimeError(f"{argv} did not start ({first!r}); see {log}")
        return process

    def python(self, ns: Namespace, *args: str, timeout: float = 60) -> str:
        """`python -m …` from this checkout, inside `ns`; its output."""
        done = subprocess.run(
            ns.argv([sys.executable, *args]),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return done.stdout

    def close(self) -> None:
        for process in reversed(self.processes):
            _end(process)
        self.processes.clear()
        for ns in reversed(self.namespaces):
            delete_namespace(ns)
        self.namespaces.clear()


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
