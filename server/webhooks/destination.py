"""Where a webhook may go, so that a vendor's key cannot aim our requests inside our network.

Two checks, because a name can change what it points at between them:

- At registration the URL must be `https://` and name its host by a DNS name (a certificate
  names one): no IP literal in any spelling, as `0x7f000001`, `2130706433` or `0177.1` all
  reach 127.0.0.1 through the C resolver (`inet_aton`). `WEBHOOK_URL_PATTERN` is the whole
  rule, so the OpenAPI document states exactly what the server accepts.
- At delivery the connector checks each address it is about to connect to (`guard_socket`,
  aiohttp's `socket_factory`): loopback, private, shared, link-local, multicast, reserved and
  unspecified addresses are refused, also when a public name resolves to one (DNS rebinding),
  and redirects are never followed.

`allow_local` (the setting `webhook_allow_local`, for development and tests only) adds
`http://` or `https://` to `localhost`, `127.0.0.1` or `[::1]`, and lets those connect to
loopback; nothing else.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable

from aiohappyeyeballs import AddrInfoType

MAX_URL_LENGTH = 2000

_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"  # never numeric: no IPv4 spelling
_REST = r"(?:[/?#][!-~]*)?"  # printable ASCII, no spaces: percent-encode the rest

WEBHOOK_URL_PATTERN = rf"^https://(?:{_LABEL}\.)+{_TOP_LABEL}(?::{_PORT})?{_REST}$"
LOCAL_WEBHOOK_URL_PATTERN = rf"^https?://(?:localhost|127\.0\.0\.1|\[::1\])(?::{_PORT})?{_REST}$"

_PUBLIC = re.compile(WEBHOOK_URL_PATTERN)
_LOCAL = re.compile(LOCAL_WEBHOOK_URL_PATTERN)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(OSError):
    """A webhook connection to an address inside our network, refused before it is made."""


def webhook_url_problem(url: str, allow_local: bool = False) -> str | None:
    """Why this URL cannot receive webhooks, or None."""
    if len(url) > MAX_URL_LENGTH:
        return f"at most {MAX_URL_LENGTH} characters"
    if _PUBLIC.fullmatch(url) or (allow_local and _LOCAL.fullmatch(url)):
        return None
    host = _host(url)
    if host is not None and parse_address(host) is not None:
        return "a host name, not an IP address (in any spelling)"
    return (
        "an https:// URL naming its host by a DNS name, with an optional port, and a path of "
        "printable ASCII without spaces or a user name"
    )


def _host(url: str) -> str | None:
    found = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#@]*)", url)
    if found is None:
        return None
    authority = found.group(1)
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    return authority.rpartition(":")[0] if authority.count(":") == 1 else authority


def parse_address(host: str) -> Address | None:
    """The address a resolver would take `host` to be without asking DNS, or None for a name.

    IPv6 as written; IPv4 the way `inet_aton` reads it: one to four parts, each decimal, hex
    (`0x`) or octal (leading `0`), the last part filling the bytes that remain."""
    try:
        return ipaddress.IPv6Address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        number = _inet_aton_part(part)
        if number is None:
            return None
        numbers.append(number)
    *leading, last = numbers
    if any(n > 0xFF for n in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    value = last
    for index, number in enumerate(leading):
        value |= number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _inet_aton_part(part: str) -> int | None:
    lowered = part.lower()
    try:
        if lowered.startswith("0x"):
            return int(lowered[2:] or "0", 16)
        if lowered.startswith("0") and len(lowered) > 1:
            return int(lowered[1:], 8)
        return int(lowered, 10) if lowered.isascii() and lowered.isdigit() else None
    except ValueError:
        return None


def address_problem(address: Address, allow_loopback: bool = False) -> str | None:
    """Why a webhook may not connect to this address, or None."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return address_problem(embedded, allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "loopback"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def guard_socket(allow_loopback: bool = False) -> Callable[[AddrInfoType], socket.socket]:
    """aiohttp's `socket_factory`: a socket for a permitted address, else `RefusedAddress`.

    It sees every address the connector tries, for names and literal addresses alike, right
    before the connection is made."""

    def make(addr_info: AddrInfoType) -> socket.socket:
        family, kind, proto, _, sockaddr = addr_info
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if found := address_problem(address, allow_loopback):
            raise RefusedAddress(f"refused to connect to a {found} address ({address})")
        sock = socket.socket(family=family, type=kind, proto=proto)
        sock.setblocking(False)
        return sock

    return make
