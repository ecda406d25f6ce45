from __future__ import annotations

from pathlib import Path

from server.settings import Settings


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
