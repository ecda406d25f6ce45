"""Who is asking, by network address: what login and drop-in limits count per client.

By default the client is the TCP peer. Behind a reverse proxy every request comes from the
proxy, so `ALMENVIDEO_TRUSTED_PROXIES` names the proxies' networks; only a request whose
peer is one of them has its `X-Forwarded-For` read, right to left, skipping trusted hops,
and the first untrusted address is the client. Anyone else's `X-Forwarded-For` is ignored,
so a client cannot choose its own address.

Limits count per *group*: an IPv4 address, or the /64 an IPv6 address sits in (one home or
phone gets a whole /64, so counting single IPv6 addresses would give an attacker 2^64 tries).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the settings read this module, and `serve` reads them before aiohttp
    from aiohttp import web

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"  # a peer without an IP address (a Unix socket): one shared group


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses); a ValueError names the one that is not."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip().split("%", 1)[0])
    except ValueError:
        return None


def _trusted(address: IPAddress, proxies: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_ip(peer: str | None, forwarded_for: list[str], proxies: tuple[IPNetwork, ...]) -> str:
    """The client's address, from the peer and the `X-Forwarded-For` headers (all of them,
    in order)."""
    address = _address(peer) if peer else None
    if address is None:
        return UNKNOWN
    if not _trusted(address, proxies):
        return str(address)
    hops = [part for header in forwarded_for for part in header.split(",")]
    for hop in reversed(hops):
        forwarded = _address(hop)
        if forwarded is None:
            break  # a garbled entry: do not look further left than what a proxy wrote
        address = forwarded
        if not _trusted(address, proxies):
            break
    return str(address)


def address_group(ip: str) -> str:
    """What a limit counts: the IPv4 address itself, or its IPv6 /64."""
    address = _address(ip)
    if address is None:
        return UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_group(request: web.Request, proxies: tuple[IPNetwork, ...]) -> str:
    ip = client_ip(request.remote, request.headers.getall("X-Forwarded-For", []), proxies)
    return address_group(ip)
