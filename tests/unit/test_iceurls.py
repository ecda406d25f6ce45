"""STUN and TURN URLs read as browsers read them, and refused with a reason when they can't."""

from __future__ import annotations

import re

import pytest

from server.auth.iceurls import IceUrl, parse_ice_url


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("stun:stun.example.dk", IceUrl("stun", "stun.example.dk", 3478, None)),
        ("stuns:stun.example.dk", IceUrl("stuns", "stun.example.dk", 5349, None)),
        ("stun:192.0.2.10:3479", IceUrl("stun", "192.0.2.10", 3479, None)),
        ("turn:turn.example.dk", IceUrl("turn", "turn.example.dk", 3478, None)),
        (
            "turn:turn.example.dk:3478?transport=udp",
            IceUrl("turn", "turn.example.dk", 3478, "udp"),
        ),
        ("turn:[2001:db8::1]:3478?transport=tcp", IceUrl("turn", "[2001:db8::1]", 3478, "tcp")),
        (
            "turns:turn.example.dk:443?transport=tcp",
            IceUrl("turns", "turn.example.dk", 443, "tcp"),
        ),
        ("turns:localhost:443", IceUrl("turns", "localhost", 443, None)),
    ],
)
def test_good_urls(url: str, parsed: IceUrl) -> None:
    assert parse_ice_url(url) == parsed


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("turn.example.dk:3478", "not a STUN or TURN URL"),
        ("http://turn.example.dk", "not a STUN or TURN URL"),
        ("turn://turn.example.dk:3478", "without //"),
        ("turn:", "has no host"),
        ("turn::3478", "has no host"),
        ("turn:turn.example.dk:34x8", "malformed port"),
        ("turn:turn.example.dk:70000", "malformed port"),
        ("turn:turn.example.dk:0", "malformed port"),
        ("turn:turn.example.dk:", "malformed port"),
        ("turn:turn_example.dk", "malformed host name"),
        ("turn:turn example.dk", "malformed host name"),
        ("turn:-turn.example.dk", "malformed host name"),
        ("turn:192.0.2.300", "malformed IPv4"),
        ("turn:[2001:db8::zz]", "malformed IPv6"),
        ("turn:turn.example.dk?transport=sctp", "?transport=udp or ?transport=tcp"),
        ("turn:turn.example.dk?proto=tcp", "?transport=udp or ?transport=tcp"),
        ("stun:stun.example.dk?transport=udp", "takes no ?transport"),
        ("turns:turn.example.dk:443?transport=udp", "runs over TLS"),
        ("turns:203.0.113.5:443", "not an IP address"),
        ("turns:[2001:db8::1]:443", "not an IP address"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_ice_url(url)
