"""STUN and TURN URLs as browsers read them (RFC 7064, RFC 7065).

Checked once at start: a browser silently skips a URL it cannot use, so a typo would
otherwise show up only as patients behind strict firewalls who never connect.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

SCHEMES = ("stun", "stuns", "turn", "turns")
DEFAULT_PORTS = {"stun": 3478, "turn": 3478, "stuns": 5349, "turns": 5349}
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_URL = re.compile(
    r"(?P<host>\[[^\]]*\]|[^:?\[\]]*)(?::(?P<port>[^?]*))?(?:\?(?P<query>.*))?", re.DOTALL
)


@dataclass(frozen=True)
class IceUrl:
    scheme: str
    host: str
    port: int
    transport: str | None

    @property
    def is_turn(self) -> bool:
        return self.scheme in ("turn", "turns")


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _host_problem(host: str) -> str | None:
    if not host:
        return "has no host"
    if host.startswith("["):
        return None if is_ip_literal(host) else f"has a malformed IPv6 address {host}"
    if re.fullmatch(r"[0-9.]+", host):
        return None if is_ip_literal(host) else f"has a malformed IPv4 address {host}"
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return f"has a malformed host name {host!r}"
    return None


def parse_ice_url(url: str) -> IceUrl:
    """The URL's parts, or ValueError saying what is wrong with it."""
    scheme, colon, rest = url.partition(":")
    if not colon or scheme not in SCHEMES:
        raise ValueError(f"{url!r} is not a STUN or TURN URL (stun:, stuns:, turn: or turns:)")
    if rest.startswith("//"):
        raise ValueError(f"{url!r} is malformed: write {scheme}:host:port, without //")
    found = _URL.fullmatch(rest)
    if found is None:
        raise ValueError(f"{url!r} is malformed")
    host, port_text, query = found["host"], found["port"], found["query"]
    if problem := _host_problem(host):
        raise ValueError(f"{url!r} {problem}")
    port = DEFAULT_PORTS[scheme]
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"{url!r} has a malformed port {port_text!r}")
        port = int(port_text)
    transport = None
    if query is not None:
        if scheme in ("stun", "stuns"):
            raise ValueError(f"{url!r}: a {scheme}: URL takes no ?transport")
        transport = query.removeprefix("transport=")
        if not query.startswith("transport=") or transport not in ("udp", "tcp"):
            raise ValueError(f"{url!r}: the only query is ?transport=udp or ?transport=tcp")
    if scheme == "turns":
        if transport == "udp":
            raise ValueError(f"{url!r}: turns: runs over TLS, that is TCP; browsers have no DTLS")
        if is_ip_literal(host):
            raise ValueError(
                f"{url!r}: turns: needs the host name its certificate is for, not an IP address"
            )
    return IceUrl(scheme, host, port, transport)
