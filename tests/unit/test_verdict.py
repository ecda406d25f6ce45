"""The line test's verdict rules: thresholds, unknown figures, and advice keys."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.media.verdict import LineVerdict, judge_line
from server.settings import REPO_ROOT

GOOD_LINE: dict[str, Any] = {
    "connected": True,
    "camera_ok": True,
    "mic_ok": True,
    "rtt_ms": 40.0,
    "loss_pct": 0.0,
    "bitrate_kbps": 1500.0,
}


def judge(**changes: Any) -> LineVerdict:
    return judge_line(**{**GOOD_LINE, **changes})


def test_a_fast_clean_line_is_good() -> None:
    assert judge() == LineVerdict("good", ("precall.advice_good",))


@pytest.mark.parametrize(
    ("changes", "advice"),
    [
        ({"rtt_ms": 250.0}, "precall.advice_delay"),
        ({"rtt_ms": 1000.0}, "precall.advice_delay"),
        ({"loss_pct": 2.0}, "precall.advice_loss"),
        ({"loss_pct": 15.0}, "precall.advice_loss"),
        ({"bitrate_kbps": 499.9}, "precall.advice_bitrate"),
        ({"bitrate_kbps": 150.0}, "precall.advice_bitrate"),
    ],
)
def test_figures_between_the_bands_may_struggle(changes: dict[str, float], advice: str) -> None:
    result = judge(**changes)
    assert result.verdict == "may_struggle"
    assert result.advice == (advice, "precall.advice_may_struggle")


@pytest.mark.parametrize(
    ("changes", "advice"),
    [
        ({"connected": False}, "precall.advice_no_connection"),
        ({"camera_ok": False}, "precall.advice_no_camera"),
        ({"mic_ok": False}, "precall.advice_no_mic"),
        ({"loss_pct": 15.1}, "precall.advice_loss"),
        ({"bitrate_kbps": 149.0}, "precall.advice_bitrate"),
        ({"rtt_ms": 1000.1}, "precall.advice_delay"),
    ],
)
def test_any_fatal_figure_will_not_work(changes: dict[str, Any], advice: str) -> None:
    result = judge(**changes)
    assert result.verdict == "will_not_work"
    assert result.advice == (advice, "precall.advice_phone")


def test_fatal_problems_outrank_weak_ones_and_all_are_named() -> None:
    result = judge(mic_ok=False, rtt_ms=400.0, loss_pct=20.0)
    assert result.verdict == "will_not_work"
    assert result.advice == ("precall.advice_no_mic", "precall.advice_loss", "precall.advice_phone")


def test_several_weak_figures_are_all_named() -> None:
    result = judge(rtt_ms=300.0, loss_pct=5.0, bitrate_kbps=300.0)
    assert result.verdict == "may_struggle"
    assert result.advice == (
        "precall.advice_loss",
        "precall.advice_delay",
        "precall.advice_bitrate",
        "precall.advice_may_struggle",
    )


def test_figures_the_browser_could_not_measure_do_not_count_against_the_line() -> None:
    assert judge(rtt_ms=None, loss_pct=None, bitrate_kbps=None).verdict == "good"
    assert judge(rtt_ms=None, bitrate_kbps=300.0).verdict == "may_struggle"


def test_without_a_connection_the_figures_are_not_judged() -> None:
    result = judge(connected=False, rtt_ms=None, loss_pct=None, bitrate_kbps=None)
    assert result.advice == ("precall.advice_no_connection", "precall.advice_phone")


def test_every_advice_key_and_verdict_is_translated_in_both_languages() -> None:
    lines = [
        judge(),
        judge(rtt_ms=300.0, loss_pct=5.0, bitrate_kbps=300.0),
        judge(connected=False, camera_ok=False, mic_ok=False),
        judge(rtt_ms=2000.0, loss_pct=50.0, bitrate_kbps=10.0),
    ]
    keys = {key for line in lines for key in line.advice}
    keys |= {f"precall.verdict_{line.verdict}" for line in lines}
    for lang in ("da", "en"):
        strings = json.loads((REPO_ROOT / "web" / "locales" / f"{lang}.json").read_text())
        assert keys <= strings.keys(), (lang, keys - strings.keys())
