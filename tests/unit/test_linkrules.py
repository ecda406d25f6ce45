"""Link validity: the window around a scheduled appointment, drop-in lifetime, the states
that end a link for good, and how long a link's record is kept."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.consultations.linkrules import (
    CLOSES_AFTER_END,
    DROP_IN_LIFETIME,
    KEEP_AFTER_CLOSE,
    OPENS_BEFORE,
    LinkState,
    link_state,
    link_ttl,
    link_window,
)
from server.store.consultations import Consultation, Kind, Status

START = 1_800_000_000.0
HASH = "a" * 64


def scheduled(**changes: object) -> Consultation:
    c = Consultation(
        id="c1",
        clinic_id="k1",
        kind=Kind.SCHEDULED,
        status=Status.BOOKED,
        created_at=START - 3 * 24 * 3600,
        scheduled_start=START,
        duration_minutes=15,
        link_hash=HASH,
    )
    return replace(c, **changes)  # type: ignore[arg-type]


def drop_in(**changes: object) -> Consultation:
    c = Consultation(
        id="c2",
        clinic_id="k1",
        kind=Kind.DROP_IN,
        status=Status.BOOKED,
        created_at=START,
        link_hash=HASH,
    )
    return replace(c, **changes)  # type: ignore[arg-type]


def test_scheduled_window_opens_a_day_before_and_closes_four_hours_after_the_end() -> None:
    opens, closes = link_window(scheduled())
    assert opens == START - OPENS_BEFORE == START - 24 * 3600
    assert closes == START + 15 * 60 + CLOSES_AFTER_END == START + 15 * 60 + 4 * 3600


def test_window_end_follows_the_duration() -> None:
    _, closes = link_window(scheduled(duration_minutes=45))
    assert closes == START + 45 * 60 + 4 * 3600


def test_open_inside_the_window_including_its_edges() -> None:
    c = scheduled()
    opens, closes = link_window(c)
    for at in (opens, START, START + 15 * 60, closes):
        assert link_state(c, HASH, False, at) is LinkState.OK


def test_not_yet_before_the_window() -> None:
    opens, _ = link_window(scheduled())
    assert link_state(scheduled(), HASH, False, opens - 1) is LinkState.NOT_YET


def test_expired_after_the_window() -> None:
    _, closes = link_window(scheduled())
    assert link_state(scheduled(), HASH, False, closes + 1) is LinkState.EXPIRED


def test_waiting_and_in_call_consultations_keep_their_link() -> None:
    for status in (Status.WAITING, Status.IN_CALL):
        assert link_state(scheduled(status=status), HASH, False, START) is LinkState.OK


def test_revoked_flag_wins() -> None:
    assert link_state(scheduled(), HASH, True, START) is LinkState.REVOKED


def test_a_link_that_is_not_the_consultations_current_one_is_revoked() -> None:
    assert link_state(scheduled(), "b" * 64, False, START) is LinkState.REVOKED


def test_cancelled() -> None:
    assert link_state(scheduled(status=Status.CANCELLED), HASH, False, START) is LinkState.CANCELLED


def test_ended() -> None:
    assert link_state(scheduled(status=Status.ENDED), HASH, False, START) is LinkState.ENDED


def test_cancelled_and_ended_are_reported_even_outside_the_window() -> None:
    _, closes = link_window(scheduled())
    late = closes + 3600
    assert link_state(scheduled(status=Status.CANCELLED), HASH, False, late) is LinkState.CANCELLED
    assert link_state(scheduled(status=Status.ENDED), HASH, False, late) is LinkState.ENDED


def test_revoked_beats_cancelled() -> None:
    assert link_state(scheduled(status=Status.CANCELLED), HASH, True, START) is LinkState.REVOKED


def test_no_consultation_is_unknown() -> None:
    assert link_state(None, HASH, False, START) is LinkState.UNKNOWN


def test_drop_in_lives_twelve_hours_from_creation() -> None:
    c = drop_in()
    assert link_window(c) == (START, START + DROP_IN_LIFETIME)
    assert DROP_IN_LIFETIME == 12 * 3600
    assert link_state(c, HASH, False, START) is LinkState.OK
    assert link_state(c, HASH, False, START + 12 * 3600) is LinkState.OK
    assert link_state(c, HASH, False, START + 12 * 3600 + 1) is LinkState.EXPIRED
    assert link_state(c, HASH, False, START - 1) is LinkState.NOT_YET


@pytest.mark.parametrize("state", list(LinkState))
def test_states_have_stable_string_values(state: LinkState) -> None:
    # The values become error codes ("link_<state>") that pages and clients rely on.
    assert f"link_{state}" == f"link_{state.value}"


def test_a_link_record_is_kept_a_week_past_its_window() -> None:
    c = scheduled()
    _, closes = link_window(c)
    assert KEEP_AFTER_CLOSE == 7 * 24 * 3600
    assert link_ttl(c, START - 3600) == int(closes - (START - 3600) + KEEP_AFTER_CLOSE)
    assert link_ttl(drop_in(), START) == DROP_IN_LIFETIME + KEEP_AFTER_CLOSE
    assert link_ttl(c, closes + KEEP_AFTER_CLOSE + 3600) == 60  # never less than a minute


@given(at=st.floats(START - 30 * 86400, START + 30 * 86400), later=st.floats(0, 30 * 86400))
def test_link_ttl_is_at_least_a_minute_and_shrinks_as_time_passes(at: float, later: float) -> None:
    c = scheduled()
    assert link_ttl(c, at) >= 60
    assert link_ttl(c, at + later) <= link_ttl(c, at)
