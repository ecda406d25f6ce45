"""Pilot programmes' rules as data: versions in force from a day, periods, the cap."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.pilots.programmes import (
    CONSULTATION,
    ONBOARDING,
    QUESTIONNAIRE,
    Enrolment,
    PilotProgramme,
    amount_problems,
    capped,
    day_problems,
    earning,
    earning_key,
    enrolment_problems,
    onboarding_day,
    programme_problems,
)

AMOUNTS = {
    "onboarding": 200_000,
    "per_consultation": 30_000,
    "per_questionnaire": 50_000,
    "cap": 1_000_000,
}
PROGRAMME = PilotProgramme(
    "p", "AI-notatassistent 2025", "2025-01-01", "2025-12-31", "pilot_honoraria", ()
).with_rules("2025-01-01", AMOUNTS)
ENROLMENT = Enrolment("p", "gp", "2025-02-01", "2025-06-30")


def test_a_rule_change_applies_from_its_day_onward() -> None:
    changed = PROGRAMME.with_rules("2025-04-01", {**AMOUNTS, "per_consultation": 40_000})
    key = earning_key(CONSULTATION, "c1")
    before = earning(changed, ENROLMENT, CONSULTATION, key, "2025-03-31")
    after = earning(changed, ENROLMENT, CONSULTATION, key, "2025-04-01")
    assert before is not None and after is not None
    assert (before.amount_ore, before.rules.version) == (30_000, 1)
    assert (after.amount_ore, after.rules.version) == (40_000, 2)
    again = changed.with_rules("2025-04-01", {**AMOUNTS, "per_consultation": 45_000})
    assert again.rules_on("2025-05-01").version == 3  # type: ignore[union-attr]
    assert len(again.rules) == 3 and again.rules[:2] == changed.rules  # nothing edited


def test_nothing_is_earned_outside_the_enrolment_or_the_programme_or_for_a_zero_rule() -> None:
    key = earning_key(CONSULTATION, "c1")
    assert earning(PROGRAMME, ENROLMENT, CONSULTATION, key, "2025-01-31") is None
    assert earning(PROGRAMME, ENROLMENT, CONSULTATION, key, "2025-07-01") is None
    wide = Enrolment("p", "gp", "2024-01-01", "2026-12-31")
    assert earning(PROGRAMME, wide, CONSULTATION, key, "2024-12-31") is None
    free = PROGRAMME.with_rules("2025-03-01", {**AMOUNTS, "per_questionnaire": 0})
    assert earning(free, ENROLMENT, QUESTIONNAIRE, "questionnaire:2025-03-02", "2025-03-02") is None
    assert onboarding_day(PROGRAMME, ENROLMENT) == "2025-02-01"
    assert onboarding_day(PROGRAMME, wide) == "2025-01-01"
    onboarding = earning(PROGRAMME, wide, ONBOARDING, earning_key(ONBOARDING), "2025-01-01")
    assert onboarding is not None and onboarding.amount_ore == 200_000


@given(st.integers(0, 10**9), st.integers(-(10**9), 10**9), st.integers(0, 10**9))
def test_the_cap_only_ever_reduces_and_never_goes_past_it(amount: int, net: int, cap: int) -> None:
    allowed = capped(amount, net, cap)
    assert type(allowed) is int and 0 <= allowed <= amount
    if cap == 0:
        assert allowed == amount
    else:
        assert net + allowed <= max(cap, net)
        if net + amount <= cap:
            assert allowed == amount


def test_bad_fields_are_named() -> None:
    assert programme_problems("", "2025-13-01", "2025-01-01", "nope", {"pilot_honoraria": 1}) == {
        "name": "prog.error_name",
        "starts": "prog.error_date",
        "budget_line": "prog.error_budget_line",
    }
    assert programme_problems(
        "P", "2025-02-01", "2025-01-01", "pilot_honoraria", {"pilot_honoraria": 1}
    ) == {"ends": "prog.error_ends_before_starts"}
    assert amount_problems({**AMOUNTS, "cap": None, "onboarding": -1}) == {
        "cap": "prog.error_amount",
        "onboarding": "prog.error_amount",
    }
    assert enrolment_problems(PROGRAMME, "2024-12-01", "2025-03-01") == {
        "starts": "prog.error_outside_programme"
    }
    assert day_problems(PROGRAMME, "on", "2026-01-01") == {"on": "prog.error_outside_programme"}
    assert day_problems(PROGRAMME, "on", "1. maj") == {"on": "prog.error_date"}
