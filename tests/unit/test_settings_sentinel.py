"""Redis Sentinel settings: read from the environment and flags, refused at start when
malformed or when they contradict REDIS_URL."""

from __future__ import annotations

import argparse

import pytest

from server.cli import main, settings_from_args
from server.settings import Settings, SettingsError, parse_sentinel


def test_sentinels_and_master_from_the_environment() -> None:
    s = Settings.from_env(
        {
            "REDIS_SENTINELS": "s1.example:26379, 10.0.0.2:26380,[2001:db8::1]:26381",
            "ALMENVIDEO_REDIS_MASTER": "video",
        }
    )
    assert s.redis_sentinels == ("s1.example:26379", "10.0.0.2:26380", "[2001:db8::1]:26381")
    assert s.sentinel_addresses == [
        ("s1.example", 26379),
        ("10.0.0.2", 26380),
        ("2001:db8::1", 26381),
    ]
    assert s.redis_master == "video"
    assert s.redis_url is None


def test_the_master_is_called_almenvideo_by_default() -> None:
    assert Settings.from_env({"REDIS_SENTINELS": "s1:26379"}).redis_master == "almenvideo"


@pytest.mark.parametrize(
    "address", ["s1", "s1:", ":26379", "s1:port", "s1:0", "s1:65536", "2001:db8::1:26379"]
)
def test_a_malformed_sentinel_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError):
        parse_sentinel(address)
    with pytest.raises(SettingsError, match="REDIS_SENTINELS"):
        Settings.from_env({"REDIS_SENTINELS": f"ok:26379,{address}"})


def test_redis_url_and_sentinels_together_are_refused() -> None:
    with pytest.raises(SettingsError, match="both set"):
        Settings.from_env({"REDIS_URL": "redis://r:6379/0", "REDIS_SENTINELS": "s1:26379"})


def test_a_master_name_with_spaces_is_refused() -> None:
    with pytest.raises(SettingsError, match="ALMENVIDEO_REDIS_MASTER"):
        Settings(redis_sentinels=("s1:26379",), redis_master="my master")


def test_serve_says_what_is_wrong_and_stops(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--redis-sentinel", "s1:26379,s2"]) == 2
    assert "REDIS_SENTINELS: 's2' is not host:port" in capsys.readouterr().err
    both = ["serve", "--redis-url", "redis://r:6379/0", "--redis-sentinel", "s1:26379"]
    assert main(both) == 2
    assert "both set" in capsys.readouterr().err


def _flags(**given: object) -> Settings:
    """What `almenvideo serve` makes of these flags (argparse's names)."""
    return settings_from_args(argparse.Namespace(**{**dict.fromkeys(FLAGS), **given}))


FLAGS = ("redis_url", "redis_sentinel", "redis_master")


def test_a_flag_replaces_the_environment_redis_of_the_other_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://env:6379/0")
    s = _flags(redis_sentinel=["s1:26379,s2:26379"], redis_master="video")
    assert s.redis_url is None
    assert s.redis_sentinels == ("s1:26379", "s2:26379")
    assert s.redis_master == "video"
    monkeypatch.delenv("REDIS_URL")
    monkeypatch.setenv("REDIS_SENTINELS", "s1:26379")
    s = _flags(redis_url="redis://flag:6379/0")
    assert (s.redis_url, s.redis_sentinels) == ("redis://flag:6379/0", ())
