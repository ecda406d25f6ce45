"""Pilot programmes and their honorarium rules: what an earning is worth, and on which day.

A pilot programme (say "AI-notatassistent 2025") runs over a period of Copenhagen days and
is paid from one budget line, named by its id (`server.pilots.roadmap`). Its rules are
data: versioned rule sets, each in force from its `effective_from` day until a later one
starts. An admin's edit appends a version and never changes one, so "a change applies from
a date onward": the rule set applied to an earning is the one in force on the earning's
day (of two versions from the same day, the newer). An edit dated in the past does not
touch what was accrued already (the ledger is append-only); it prices what is accrued
after it for days from its date.

What earns (the kinds):
- `onboarding`: once per GP and programme, earned on the first day of the enrolment that
  lies in the programme;
- `consultation`: a video consultation whose note the AI note-taker drafted and the GP
  reviewed and approved (`note.approved` of an AI-generated note), earned on the day of the
  approval, once per consultation;
- `questionnaire`: the GP completed the evaluation questionnaire, recorded by an admin
  with its day; once per GP, programme and day, so a form sent twice pays once.
A day outside the programme's period or the GP's enrolment earns nothing, and so does a
kind the rules in force pay 0 for.

The cap per GP (0 = none) is the one in force on the earning's day. It is measured
against the GP's net accruals in the programme (see `server.pilots.ledger`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from server.pilots.budgets import day_ok, text_ok
from server.pilots.money import MAX_ORE

ONBOARDING = "onboarding"
CONSULTATION = "consultation"
QUESTIONNAIRE = "questionnaire"
KINDS = (ONBOARDING, CONSULTATION, QUESTIONNAIRE)
AMOUNT_FIELDS = ("onboarding", "per_consultation", "per_questionnaire", "cap", "programme_cap")
OPTIONAL_AMOUNTS = frozenset({"programme_cap"})  # left empty: 0, no cap

Problems = dict[str, str]  # form field -> locale key of what is wrong with it


@dataclass(frozen=True)
class RuleSet:
    version: int
    effective_from: str  # ISO Copenhagen day
    onboarding_ore: int
    per_consultation_ore: int
    per_questionnaire_ore: int
    cap_ore: int  # 0 = no cap
    programme_cap_ore: int = 0  # all GPs together (e.g. the 50,000 kr honoraria line); 0 = none

    def pays(self, kind: str) -> int:
        return {
            ONBOARDING: self.onboarding_ore,
            CONSULTATION: self.per_consultation_ore,
            QUESTIONNAIRE: self.per_questionnaire_ore,
        }[kind]


@dataclass(frozen=True)
class PilotProgramme:
    id: str
    name: str
    starts: str  # ISO Copenhagen days, both included
    ends: str
    budget_line: str
    rules: tuple[RuleSet, ...]

    def runs_on(self, day: str) -> bool:
        return self.starts <= day <= self.ends

    def rules_on(self, day: str) -> RuleSet | None:
        """The rule set in force on `day`: the latest to start on or before it."""
        started = [r for r in self.rules if r.effective_from <= day]
        return max(started, key=lambda r: (r.effective_from, r.version), default=None)

    def current_rules(self, today: str) -> RuleSet | None:
        """The rules in force today, or on the nearest day of the programme's period."""
        return self.rules_on(min(max(today, self.starts), self.ends))

    def with_rules(self, effective_from: str, amounts: Mapping[str, int]) -> PilotProgramme:
        """The programme with one more rule-set version, in force from `effective_from`."""
        version = max((r.version for r in self.rules), default=0) + 1
        return replace(self, rules=(*self.rules, rule_set(version, effective_from, amounts)))


@dataclass(frozen=True)
class Enrolment:
    programme_id: str
    gp_id: str
    starts: str
    ends: str

    def covers(self, day: str) -> bool:
        return self.starts <= day <= self.ends


@dataclass(frozen=True)
class Earning:
    """What an earning is worth by the rules, before the GP's cap."""

    kind: str
    key: str  # unique per programme and GP: it earns at most once
    day: str
    rules: RuleSet
    amount_ore: int


def rule_set(version: int, effective_from: str, amounts: Mapping[str, int]) -> RuleSet:
    return RuleSet(
        version, effective_from, amounts["onboarding"], amounts["per_consultation"],
        amounts["per_questionnaire"], amounts["cap"], amounts.get("programme_cap") or 0,
    )  # fmt: skip


def earning_key(kind: str, ref: str = "") -> str:
    """`onboarding`, `consultation:<consultation id>` or `questionnaire:<day>`."""
    return kind if kind == ONBOARDING else f"{kind}:{ref}"


def onboarding_day(programme: PilotProgramme, enrolment: Enrolment) -> str:
    return max(programme.starts, enrolment.starts)


def earning(
    programme: PilotProgramme, enrolment: Enrolment, kind: str, key: str, day: str
) -> Earning | None:
    """What `kind` earns on `day` for the enrolled GP; None when it earns nothing."""
    if not (programme.runs_on(day) and enrolment.covers(day)):
        return None
    rules = programme.rules_on(day)
    if rules is None or rules.pays(kind) <= 0:
        return None
    return Earning(kind, key, day, rules, rules.pays(kind))


def capped(amount_ore: int, net_ore: int, cap_ore: int) -> int:
    """The part of `amount_ore` that fits under the cap, given the GP's net so far."""
    if cap_ore == 0:
        return amount_ore
    return max(0, min(amount_ore, cap_ore - net_ore))


def period_problems(starts: str, ends: str) -> Problems:
    problems: Problems = {}
    if not day_ok(starts):
        problems["starts"] = "prog.error_date"
    if not day_ok(ends):
        problems["ends"] = "prog.error_date"
    if not problems and ends < starts:
        problems["ends"] = "prog.error_ends_before_starts"
    return problems


def amount_problems(amounts: Mapping[str, int | None]) -> Problems:
    """Each amount present (None: it could not be read), not negative, not absurd."""
    return {
        field: "prog.error_amount"
        for field in AMOUNT_FIELDS
        if (value := amounts.get(field, 0 if field in OPTIONAL_AMOUNTS else None)) is None
        or not 0 <= value <= MAX_ORE
    }


def programme_problems(
    name: str, starts: str, ends: str, budget_line: str, lines: Mapping[str, int]
) -> Problems:
    """`lines`: the budget lines a programme may be paid from (id -> amount)."""
    problems = period_problems(starts, ends)
    if not text_ok(name):
        problems["name"] = "prog.error_name"
    if budget_line not in lines:
        problems["budget_line"] = "prog.error_budget_line"
    return problems


def enrolment_problems(programme: PilotProgramme, starts: str, ends: str) -> Problems:
    problems = period_problems(starts, ends)
    if not problems and not (programme.runs_on(starts) and programme.runs_on(ends)):
        problems["starts"] = "prog.error_outside_programme"
    return problems


def day_problems(programme: PilotProgramme, field: str, day: str) -> Problems:
    """A day (a rule change's, a questionnaire's) must lie in the programme's period."""
    if not day_ok(day):
        return {field: "prog.error_date"}
    if not programme.runs_on(day):
        return {field: "prog.error_outside_programme"}
    return {}
