"""The client's address: the peer, unless the peer is a trusted proxy; counted per group."""

from __future__ import annotations

import pytest

from server.auth.clientaddress import address_group, client_ip, parse_networks
from server.settings import Settings, SettingsError

PROXIES = parse_networks(["10.0.0.0/8", "2001:db8:ffff::/48"])


def test_without_trusted_proxies_the_forwarded_header_is_ignored() -> None:
    assert client_ip("192.0.2.1", ["198.51.100.7"], ()) == "192.0.2.1"
    assert client_ip("192.0.2.1", ["198.51.100.7"], PROXIES) == "192.0.2.1"


def test_behind_a_trusted_proxy_the_first_untrusted_hop_from_the_right_is_the_client() -> None:
    # The client forged the left-most entry; the proxies appended the rest.
    header = ["6.6.6.6, 198.51.100.7, 10.1.1.1"]
    assert client_ip("10.2.2.2", header, PROXIES) == "198.51.100.7"
    assert client_ip("10.2.2.2", ["198.51.100.7", "10.1.1.1"], PROXIES) == "198.51.100.7"


def test_a_garbled_hop_stops_the_walk() -> None:
    assert client_ip("10.2.2.2", ["198.51.100.7, nonsense"], PROXIES) == "10.2.2.2"
    assert client_ip("10.2.2.2", [], PROXIES) == "10.2.2.2"
    assert client_ip(None, [], PROXIES) == "unknown"


def test_ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() -> None:
    assert address_group("2001:db8:1:2:aaaa::1") == address_group("2001:db8:1:2:bbbb::9")
    assert address_group("2001:db8:1:2::1") != address_group("2001:db8:1:3::1")
    assert address_group("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_group("192.0.2.1") == "192.0.2.1"


def test_settings_refuse_a_proxy_that_is_not_a_network() -> None:
    env = {"ALMENVIDEO_TRUSTED_PROXIES": "10.0.0.0/8, not-a-network"}
    with pytest.raises(SettingsError, match="ALMENVIDEO_TRUSTED_PROXIES"):
        Settings.from_env(env)
    assert Settings.from_env({"ALMENVIDEO_TRUSTED_PROXIES": "10.0.0.0/8"}).proxy_networks == (
        parse_networks(["10.0.0.0/8"])
    )
