"""TURN REST credentials as coturn's use-auth-secret checks them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from server.auth.turn import ice_servers, turn_credentials
from server.settings import Settings


def test_known_vector() -> None:
    # printf '1700003600:alice' | openssl dgst -sha1 -hmac s3cret -binary | base64
    username, password = turn_credentials("s3cret", "alice", 3600, now=1_700_000_000)
    assert username == "1700003600:alice"
    assert password == "YAFdW/YDZewZsR1QSgUk2IrfbRI="


def test_formula() -> None:
    username, password = turn_credentials("another secret", "p-123", 600, now=1_750_000_000.7)
    assert username == "1750000600:p-123"
    mac = hmac.new(b"another secret", username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(password) == mac


def test_expiry_defaults_to_now_plus_ttl() -> None:
    before = int(time.time())
    username, _ = turn_credentials("s", "u", 3600)
    after = int(time.time()) + 1
    expiry, user = username.split(":")
    assert user == "u"
    assert before + 3600 <= int(expiry) <= after + 3600


def test_no_ice_servers_by_default() -> None:
    assert ice_servers(Settings(), "p1") == []


def test_stun_only() -> None:
    settings = Settings(stun_urls=("stun:stun.example:3478",))
    assert ice_servers(settings, "p1") == [{"urls": ["stun:stun.example:3478"]}]


def test_turn_with_secret_gets_credentials() -> None:
    settings = Settings(
        stun_urls=("stun:turn.example:3478",),
        turn_urls=(
            "turn:turn.example:3478?transport=udp",
            "turn:turn.example:3478?transport=tcp",
            "turns:turn.example:443?transport=tcp",
        ),
        turn_secret="shared",
        turn_ttl_seconds=900,
    )
    before = int(time.time())
    servers = ice_servers(settings, "p1")
    after = int(time.time()) + 1
    assert servers[0] == {"urls": ["stun:turn.example:3478"]}
    turn = servers[1]
    assert turn["urls"] == list(settings.turn_urls)
    username = str(turn["username"])
    expiry, user = username.split(":")
    assert user == "p1"
    assert before + 900 <= int(expiry) <= after + 900
    mac = hmac.new(b"shared", username.encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(mac).decode()
