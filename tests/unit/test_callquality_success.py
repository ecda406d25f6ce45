"""What counts as a call attempt's success, and the week's figures per clinic."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from server.callquality.success import (
    WINDOW_SECONDS,
    Attempt,
    Outcome,
    Reason,
    Side,
    Verdict,
    failures,
    iso_week,
    judge,
    percentile,
    reason_counts,
    weekly,
)
from server.clock import COPENHAGEN

# Monday 30 November 2026, 09:00 in Copenhagen: ISO week 2026-W49.
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=COPENHAGEN).timestamp()
LATER = T0 + 3600


def attempt(
    gp: Side | None = None,
    patient: Side | None = None,
    ended_at: float | None = None,
    clinic: str = "c1",
    at: float = T0,
) -> Attempt:
    return Attempt("a", "k", clinic, at, ended_at, gp, patient)


def media(after: float, **fields: object) -> Side:
    return Side(media_at=T0 + after, **fields)  # type: ignore[arg-type]


def test_both_sides_with_media_in_the_window_succeed_with_the_later_time() -> None:
    v = judge(attempt(media(1.2), media(0.8)), LATER)
    assert v == Verdict(Outcome.SUCCEEDED, setup_ms=1200, relayed=False)


def test_a_relay_on_either_side_makes_the_success_relayed() -> None:
    v = judge(attempt(media(1, local_candidate="host"), media(1, remote_candidate="relay")), LATER)
    assert v.relayed


def test_one_side_only_is_pending_inside_the_window_and_no_media_after() -> None:
    a = attempt(media(1), Side())
    assert judge(a, T0 + WINDOW_SECONDS - 1).outcome is Outcome.PENDING
    assert judge(a, T0 + WINDOW_SECONDS) == Verdict(Outcome.FAILED, Reason.NO_MEDIA)


def test_media_after_the_window_is_a_failure() -> None:
    a = attempt(media(1), media(WINDOW_SECONDS + 1))
    assert judge(a, LATER) == Verdict(Outcome.FAILED, Reason.NO_MEDIA)


def test_ended_inside_the_window_without_media_fails_at_once() -> None:
    a = attempt(media(1), None, ended_at=T0 + 5)
    assert judge(a, T0 + 6) == Verdict(Outcome.FAILED, Reason.ENDED_BEFORE_MEDIA)


def test_a_reported_failure_is_the_reason_ice_first() -> None:
    a = attempt(Side(failure="permission_denied"), Side(failure="ice_failed"), ended_at=T0 + 5)
    assert judge(a, LATER).reason is Reason.ICE_FAILED
    refused = attempt(Side(failure="no_local_media"), Side(failure="permission_denied"))
    assert judge(refused, LATER).reason is Reason.PERMISSION_DENIED
    assert judge(attempt(Side(failure="no_local_media")), LATER).reason is Reason.NO_LOCAL_MEDIA


def test_an_ice_failure_that_recovered_in_time_is_a_success() -> None:
    a = attempt(media(9, failure="ice_failed"), media(8))
    assert judge(a, LATER).outcome is Outcome.SUCCEEDED


def test_iso_weeks_are_copenhagen_weeks() -> None:
    assert iso_week(T0) == "2026-W49"
    sunday_late = datetime(2026, 12, 6, 23, 30, tzinfo=COPENHAGEN).timestamp()
    assert iso_week(sunday_late) == "2026-W49"  # 22:30 UTC, still Sunday in Copenhagen
    assert iso_week(sunday_late + 3600) == "2026-W50"


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([10, 20, 30, 40], 50) == 20
    assert percentile([10, 20, 30, 40], 95) == 40
    assert percentile([7], 95) == 7


def test_weekly_figures_per_week_and_clinic() -> None:
    judged = [
        (a, judge(a, LATER))
        for a in (
            attempt(media(1), media(2)),
            attempt(media(3, local_candidate="relay"), media(1)),
            attempt(Side(failure="ice_failed"), None),
            attempt(media(1), media(1), clinic="c2"),
            attempt(media(1), media(1), at=T0 - 7 * 86400),
            attempt(None, None, at=LATER - 1),  # pending: counted nowhere
        )
    ]
    rows = weekly(judged)
    assert [(r.week, r.clinic_id) for r in rows] == [
        ("2026-W49", "c1"), ("2026-W49", "c2"), ("2026-W48", "c1"),
    ]  # fmt: skip
    c1 = rows[0]
    assert (c1.attempts, c1.succeeded, c1.failed, c1.relayed) == (3, 2, 1, 1)
    assert (c1.success_per_mille, c1.relayed_per_mille) == (667, 500)
    assert (c1.setup_p50_ms, c1.setup_p95_ms) == (2000, 3000)
    failed = failures(judged, "2026-W49")
    assert [reason for _, reason in failed] == [Reason.ICE_FAILED]
    assert reason_counts(failed) == {Reason.ICE_FAILED: 1}


sides = st.one_of(
    st.none(),
    st.builds(
        Side,
        media_at=st.one_of(st.none(), st.floats(T0 - 5, T0 + 90)),
        failure=st.sampled_from([None, "ice_failed", "permission_denied", "no_local_media"]),
        local_candidate=st.sampled_from([None, "host", "srflx", "prflx", "relay"]),
    ),
)
attempts = st.builds(
    Attempt,
    id=st.just("a"),
    consultation_id=st.just("k"),
    clinic_id=st.sampled_from(["c1", "c2", "c3"]),
    started_at=st.floats(T0 - 20 * 86400, T0),
    ended_at=st.one_of(st.none(), st.floats(T0 - 20 * 86400, T0 + 90)),
    gp=sides,
    patient=sides,
)


@given(st.lists(attempts, max_size=40), st.floats(T0, T0 + 120))
def test_every_decided_attempt_is_counted_once(found: list[Attempt], at: float) -> None:
    judged = [(a, judge(a, at)) for a in found]
    rows = weekly(judged)
    decided = [v for _, v in judged if v.outcome is not Outcome.PENDING]
    assert sum(r.attempts for r in rows) == len(decided)
    assert sum(r.succeeded for r in rows) == sum(v.outcome is Outcome.SUCCEEDED for v in decided)
    for r in rows:
        assert 0 <= r.relayed <= r.succeeded <= r.attempts
        assert (r.setup_p50_ms is None) == (r.succeeded == 0)
        if r.setup_p50_ms is not None and r.setup_p95_ms is not None:
            assert 0 <= r.setup_p50_ms <= r.setup_p95_ms <= WINDOW_SECONDS * 1000
    weeks = {r.week for r in rows}
    failed = sum(len(failures(judged, w)) for w in weeks)
    assert failed == sum(r.failed for r in rows)


@given(attempts, st.floats(T0, T0 + 120))
def test_a_verdict_never_changes_once_decided(a: Attempt, at: float) -> None:
    first = judge(a, at)
    if first.outcome is not Outcome.PENDING:
        assert judge(a, at + 3600) == first
    if first.outcome is Outcome.FAILED:
        assert first.reason is not None and first.setup_ms is None
