from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import Settings, SettingsError


def test_defaults_from_an_empty_environment() -> None:
    s = Settings.from_env({})
    assert s.host == "127.0.0.1"
    assert s.port == 8080
    assert s.redis_url is None
    assert s.base_url is None
    assert s.stun_urls == ()
    assert s.turn_urls == ()
    assert s.turn_secret is None
    assert s.secure_cookies is True
    assert s.public_base_url == "http://127.0.0.1:8080"
    assert s.instance_id


def test_instance_ids_differ_by_default() -> None:
    assert Settings.from_env({}).instance_id != Settings.from_env({}).instance_id


def test_everything_from_the_environment() -> None:
    s = Settings.from_env(
        {
            "ALMENVIDEO_HOST": "0.0.0.0",
            "ALMENVIDEO_PORT": "9000",
            "ALMENVIDEO_DATA_DIR": "/srv/av",
            "REDIS_URL": "redis://redis:6379/2",
            "ALMENVIDEO_BASE_URL": "https://video.example.dk/",
            "ALMENVIDEO_INSTANCE_ID": "web-1",
            "ALMENVIDEO_STUN_URLS": "stun:a.example:3478, stun:b.example:3478,",
            "ALMENVIDEO_TURN_URLS": "turn:t.example:3478",
            "ALMENVIDEO_TURN_SECRET": "s3cret",
            "ALMENVIDEO_TURN_TTL": "600",
            "ALMENVIDEO_SECURE_COOKIES": "false",
        }
    )
    assert s.host == "0.0.0.0"
    assert s.port == 9000
    assert s.data_dir == Path("/srv/av")
    assert s.redis_url == "redis://redis:6379/2"
    assert s.base_url == "https://video.example.dk"
    assert s.public_base_url == "https://video.example.dk"
    assert s.instance_id == "web-1"
    assert s.stun_urls == ("stun:a.example:3478", "stun:b.example:3478")
    assert s.turn_urls == ("turn:t.example:3478",)
    assert s.turn_secret == "s3cret"
    assert s.turn_ttl_seconds == 600
    assert s.secure_cookies is False


def test_secure_cookies_values() -> None:
    for value, expected in [("0", False), ("False", False), ("1", True), ("yes", True)]:
        assert Settings.from_env({"ALMENVIDEO_SECURE_COOKIES": value}).secure_cookies is expected


def test_empty_values_are_ignored() -> None:
    s = Settings.from_env(
        {"REDIS_URL": "", "ALMENVIDEO_TURN_SECRET": "", "ALMENVIDEO_BASE_URL": ""}
    )
    assert s.redis_url is None
    assert s.turn_secret is None
    assert s.base_url is None


def test_overrides_win_and_none_overrides_are_ignored() -> None:
    s = Settings.from_env(
        {"ALMENVIDEO_PORT": "9000", "REDIS_URL": "redis://env:6379/0"},
        port=9100,
        redis_url=None,
        host="::1",
    )
    assert s.port == 9100
    assert s.redis_url == "redis://env:6379/0"
    assert s.host == "::1"


def test_with_returns_a_changed_copy() -> None:
    s = Settings.from_env({})
    t = s.with_(instance_id="b", port=1)
    assert (t.instance_id, t.port) == ("b", 1)
    assert s.port == 8080


TURN_URLS = (
    "turn:turn.example.dk:3478?transport=udp,"
    "turn:turn.example.dk:3478?transport=tcp,"
    "turns:turn.example.dk:443?transport=tcp"
)


def test_turn_over_udp_tcp_and_tls_with_a_secret() -> None:
    s = Settings.from_env({"ALMENVIDEO_TURN_URLS": TURN_URLS, "ALMENVIDEO_TURN_SECRET": "s"})
    assert len(s.turn_urls) == 3


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"ALMENVIDEO_TURN_URLS": TURN_URLS}, "ALMENVIDEO_TURN_SECRET is not"),
        ({"ALMENVIDEO_TURN_SECRET": "s"}, "ALMENVIDEO_TURN_URLS is not"),
        (
            {"ALMENVIDEO_TURN_URLS": "turns:203.0.113.5:443", "ALMENVIDEO_TURN_SECRET": "s"},
            "not an IP address",
        ),
        (
            {"ALMENVIDEO_TURN_URLS": "turn:turn.example.dk:x", "ALMENVIDEO_TURN_SECRET": "s"},
            "ALMENVIDEO_TURN_URLS: 'turn:turn.example.dk:x' has a malformed port",
        ),
        (
            {"ALMENVIDEO_TURN_URLS": "stun:turn.example.dk", "ALMENVIDEO_TURN_SECRET": "s"},
            "belongs in the other list",
        ),
        ({"ALMENVIDEO_STUN_URLS": "turn:turn.example.dk"}, "belongs in the other list"),
        ({"ALMENVIDEO_STUN_URLS": "stun.example.dk:3478"}, "ALMENVIDEO_STUN_URLS: .* not a"),
        (
            {
                "ALMENVIDEO_TURN_URLS": TURN_URLS,
                "ALMENVIDEO_TURN_SECRET": "s",
                "ALMENVIDEO_TURN_TTL": "0",
            },
            "ALMENVIDEO_TURN_TTL must be a positive",
        ),
    ],
)
def test_a_turn_misconfiguration_refuses_to_start(env: dict[str, str], reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        Settings.from_env(env)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(
            {"ALMENVIDEO_STUN_URLS": "stun:a..b", "ALMENVIDEO_TURN_URLS": "turns:192.0.2.1"}
        )
    message = str(refused.value)
    for part in ("ALMENVIDEO_STUN_URLS", "not an IP address", "TURN_SECRET is not"):
        assert part in message


def test_changing_settings_is_checked_too() -> None:
    with pytest.raises(SettingsError, match="TURN_SECRET is not"):
        Settings().with_(turn_urls=("turn:turn.example.dk",))
