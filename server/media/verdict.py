"""The line test's verdict: from measured figures to a plain word and what to do about it.

Thresholds (a video consultation is two-way talk plus a 480p-ish picture):

- **will not work** when any of: no connection to the echo (no media came back), no camera,
  no microphone, packet loss above 15 %, achievable bitrate below 150 kbit/s, or a round
  trip above 1000 ms. Each of these makes the call unusable, or audio-only at best.
- **good** when connected, camera and microphone work, round trip below 250 ms, loss below
  2 % and at least 500 kbit/s: enough for clear speech and a sharp enough picture.
- **may struggle** otherwise: the call will probably work, with a blurry or frozen picture
  or speech that lags.

The figures are the browser's: round trip on the selected ICE candidate pair, loss of the
echoed media, and the bitrate that a burst through the echo's data channel achieved (see
web/static/js/precall.js).

A figure the browser could not measure (None) counts neither for nor against the line:
browsers differ in which statistics they report, and the patient should not be told their
line is poor because their browser is quiet about it. Whether media came back at all is
never unknown; that is `connected`.

Advice is a list of locale keys (`precall.advice_*`), most important first, so both the
patient's page and the GP's console can show it in their language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["good", "may_struggle", "will_not_work"]
VERDICTS: tuple[Verdict, ...] = ("good", "may_struggle", "will_not_work")

GOOD_RTT_MS = 250.0
GOOD_LOSS_PCT = 2.0
GOOD_BITRATE_KBPS = 500.0
FAIL_RTT_MS = 1000.0
FAIL_LOSS_PCT = 15.0
FAIL_BITRATE_KBPS = 150.0


@dataclass(frozen=True)
class LineVerdict:
    verdict: Verdict
    advice: tuple[str, ...]


def judge_line(
    *,
    connected: bool,
    camera_ok: bool,
    mic_ok: bool,
    rtt_ms: float | None,
    loss_pct: float | None,
    bitrate_kbps: float | None,
) -> LineVerdict:
    """Judge a line by the thresholds in this module's docstring."""
    fatal: list[str] = []
    weak: list[str] = []
    if not connected:
        fatal.append("precall.advice_no_connection")
    if not camera_ok:
        fatal.append("precall.advice_no_camera")
    if not mic_ok:
        fatal.append("precall.advice_no_mic")
    if connected:
        _grade(loss_pct, GOOD_LOSS_PCT, FAIL_LOSS_PCT, "precall.advice_loss", fatal, weak)
        _grade(rtt_ms, GOOD_RTT_MS, FAIL_RTT_MS, "precall.advice_delay", fatal, weak)
        if bitrate_kbps is not None:
            if bitrate_kbps < FAIL_BITRATE_KBPS:
                fatal.append("precall.advice_bitrate")
            elif bitrate_kbps < GOOD_BITRATE_KBPS:
                weak.append("precall.advice_bitrate")
    if fatal:
        return LineVerdict("will_not_work", (*fatal, "precall.advice_phone"))
    if weak:
        return LineVerdict("may_struggle", (*weak, "precall.advice_may_struggle"))
    return LineVerdict("good", ("precall.advice_good",))


def _grade(
    value: float | None,
    good_below: float,
    fail_above: float,
    key: str,
    fatal: list[str],
    weak: list[str],
) -> None:
    """A figure where lower is better: fine below `good_below`, fatal above `fail_above`."""
    if value is None:
        return
    if value > fail_above:
        fatal.append(key)
    elif value >= good_below:
        weak.append(key)
