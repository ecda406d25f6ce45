"""Whether a call attempt reached media, and the week's figures per clinic.

An **attempt** is one admit: a GP letting a waiting patient into a call (again after a
hold, too). Rejoining after a reload, or opening a call for an invited professional
before the patient, is not a new attempt. An attempt **succeeded** when both the GP's
and the patient's browser reported a decoded remote frame within `WINDOW_SECONDS` of the
admit, as the server received those reports; its **time to media** is the later of the
two. Any other attempt **failed**, once the window is over (or the call ended before
media), with the first reason that applies:

1. `ice_failed`, `permission_denied` or `no_local_media`, as a browser reported it, in
   that order;
2. `ended_before_media`: the GP ended or held the call inside the window without media;
3. `no_media`: the window passed without media on both sides.

An attempt still inside its window, not ended and without media on both sides, is
`pending` and counted nowhere yet. Pure functions: the page, the CSV and the tests share
them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from server.clock import local

WINDOW_SECONDS = 30
SIDES = ("gp", "patient")


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"


class Reason(StrEnum):
    ICE_FAILED = "ice_failed"
    PERMISSION_DENIED = "permission_denied"
    NO_LOCAL_MEDIA = "no_local_media"
    ENDED_BEFORE_MEDIA = "ended_before_media"
    NO_MEDIA = "no_media"


@dataclass(frozen=True)
class Side:
    """One browser's latest report of the attempt, and when its first media arrived."""

    media_at: float | None = None
    failure: str | None = None
    local_candidate: str | None = None
    remote_candidate: str | None = None
    transport: str | None = None
    ice_restarts: int = 0
    rtt_ms: int | None = None
    loss_per_mille: int | None = None
    inbound_kbps: int | None = None
    outbound_kbps: int | None = None

    @property
    def relayed(self) -> bool:
        return "relay" in (self.local_candidate, self.remote_candidate)


@dataclass(frozen=True)
class Attempt:
    id: str
    consultation_id: str
    clinic_id: str
    started_at: float
    ended_at: float | None = None
    gp: Side | None = None
    patient: Side | None = None

    def sides(self) -> tuple[Side | None, Side | None]:
        return self.gp, self.patient


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: Reason | None = None
    setup_ms: int | None = None  # time to media, for a success
    relayed: bool = False  # a success carried through TURN on either side


def _media_ms(a: Attempt, side: Side | None) -> int | None:
    if side is None or side.media_at is None:
        return None
    after = side.media_at - a.started_at
    return max(0, round(after * 1000)) if after <= WINDOW_SECONDS else None


def judge(a: Attempt, at: float) -> Verdict:
    """The attempt's outcome as of `at` (see the module's rules)."""
    times = [_media_ms(a, side) for side in a.sides()]
    if all(t is not None for t in times):
        relayed = any(side is not None and side.relayed for side in a.sides())
        return Verdict(Outcome.SUCCEEDED, setup_ms=max(t for t in times if t is not None),
                       relayed=relayed)  # fmt: skip
    deadline = a.started_at + WINDOW_SECONDS
    ended_early = a.ended_at is not None and a.ended_at < deadline
    if not ended_early and at < deadline:
        return Verdict(Outcome.PENDING)
    reported = {side.failure for side in a.sides() if side is not None}
    for reason in (Reason.ICE_FAILED, Reason.PERMISSION_DENIED, Reason.NO_LOCAL_MEDIA):
        if reason in reported:
            return Verdict(Outcome.FAILED, reason)
    return Verdict(Outcome.FAILED, Reason.ENDED_BEFORE_MEDIA if ended_early else Reason.NO_MEDIA)


def iso_week(ts: float) -> str:
    """The ISO week of a moment in Copenhagen: "2026-W49"."""
    year, week, _ = local(ts).isocalendar()
    return f"{year}-W{week:02d}"


def percentile(sorted_values: Sequence[int], p: float) -> int | None:
    """Nearest-rank percentile (0 < p <= 100) of an ascending list; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def per_mille(part: int, whole: int) -> int | None:
    return None if whole == 0 else round(part * 1000 / whole)


@dataclass(frozen=True)
class WeekFigures:
    week: str
    clinic_id: str
    attempts: int  # decided attempts: succeeded + failed
    succeeded: int
    setup_p50_ms: int | None
    setup_p95_ms: int | None
    relayed: int  # successes carried through TURN

    @property
    def failed(self) -> int:
        return self.attempts - self.succeeded

    @property
    def success_per_mille(self) -> int | None:
        return per_mille(self.succeeded, self.attempts)

    @property
    def relayed_per_mille(self) -> int | None:
        return per_mille(self.relayed, self.succeeded)


def weekly(judged: Iterable[tuple[Attempt, Verdict]]) -> list[WeekFigures]:
    """Figures per (ISO week, clinic), newest week first, then by clinic id. Pending
    attempts are left out."""
    groups: dict[tuple[str, str], list[Verdict]] = {}
    for a, v in judged:
        if v.outcome is not Outcome.PENDING:
            groups.setdefault((iso_week(a.started_at), a.clinic_id), []).append(v)
    rows = []
    for (week, clinic_id), verdicts in groups.items():
        wins = [v for v in verdicts if v.outcome is Outcome.SUCCEEDED]
        setups = sorted(v.setup_ms for v in wins if v.setup_ms is not None)
        rows.append(
            WeekFigures(
                week, clinic_id, len(verdicts), len(wins),
                percentile(setups, 50), percentile(setups, 95), sum(v.relayed for v in wins),
            )
        )  # fmt: skip
    rows.sort(key=lambda r: r.clinic_id)
    rows.sort(key=lambda r: r.week, reverse=True)
    return rows


def failures(judged: Iterable[tuple[Attempt, Verdict]], week: str) -> list[tuple[Attempt, Reason]]:
    """The week's failed attempts with their reasons, oldest first."""
    failed = [
        (a, v.reason)
        for a, v in judged
        if v.outcome is Outcome.FAILED and v.reason is not None and iso_week(a.started_at) == week
    ]
    return sorted(failed, key=lambda f: f[0].started_at)


def reason_counts(failed: Iterable[tuple[Attempt, Reason]]) -> dict[Reason, int]:
    """How many failures each reason explains, in the reasons' order."""
    counts = dict.fromkeys(Reason, 0)
    for _, reason in failed:
        counts[reason] += 1
    return {reason: n for reason, n in counts.items() if n}
