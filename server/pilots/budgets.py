"""Budget lines and what was spent on them: the rules, and the figures a dashboard shows.

Amounts are integer øre. Spending is append-only: a mistake is put right by a correction, a
negative spending that names the original it corrects, so the ledger keeps both and the
sums stay exact. The rules here are pure; `server.store.budgets` keeps the ledger.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from server.pilots.money import MAX_ORE

MAX_TEXT = 200
FIRST_YEAR = 2000  # spendings dated outside these years are typing mistakes
LAST_YEAR = 2099
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Problems = dict[str, str]  # field (line, on, amount, text, corrects) -> problem code


@dataclass(frozen=True)
class Programme:
    id: str
    name_da: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_da


@dataclass(frozen=True)
class BudgetLine:
    id: str
    programme_id: str
    name_da: str
    name_en: str
    budget_ore: int
    position: int  # the road map's order, across programmes
    year: int = 2025  # spending on the line is dated in this year (lines before years: 2025)

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_da


@dataclass(frozen=True)
class Spending:
    id: str  # unique; a correction names its original by it in `corrects`
    line_id: str
    on: str  # ISO date the money was spent (invoice or payment date)
    amount_ore: int  # negative only for a correction
    text: str  # what it was for; for a correction, why
    actor: str  # "user:<id>", or the part of the system that recorded it
    at: float  # unix seconds it was recorded
    corrects: str | None = None


class SpendingRefused(ValueError):
    """Nothing was recorded; `problems` says which fields were wrong and how."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(", ".join(f"{field}: {code}" for field, code in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Figures:
    budget_ore: int
    spent_ore: int

    @property
    def remaining_ore(self) -> int:
        return self.budget_ore - self.spent_ore

    @property
    def overspent(self) -> bool:
        return self.spent_ore > self.budget_ore

    @property
    def per_mille_used(self) -> int | None:
        """Spent per thousand of budget, rounded half up in integers (None without a budget)."""
        if self.budget_ore <= 0:
            return None
        return (2000 * self.spent_ore + self.budget_ore) // (2 * self.budget_ore)


def day_ok(on: str) -> bool:
    if not _ISO_DAY.match(on):
        return False
    try:
        day = date.fromisoformat(on)
    except ValueError:
        return False
    return FIRST_YEAR <= day.year <= LAST_YEAR


def text_ok(text: str) -> bool:
    return bool(text.strip()) and len(text) <= MAX_TEXT and text.isprintable()


def entry_problems(on: str, text: str) -> Problems:
    """What is wrong with the date and the text, whatever the amount."""
    problems: Problems = {}
    if not day_ok(on):
        problems["on"] = "date"
    if not text_ok(text):
        problems["text"] = "text"
    return problems


def amount_problems(amount_ore: int, corrects: str | None, ledger: Sequence[Spending]) -> Problems:
    """A spending is positive; a correction is negative, corrects an original (not another
    correction) in this line's `ledger`, and together with the earlier corrections never
    takes more off than the original was."""
    if isinstance(amount_ore, bool) or not isinstance(amount_ore, int):
        return {"amount": "amount"}
    if amount_ore == 0:
        return {"amount": "amount_zero"}
    if abs(amount_ore) > MAX_ORE:
        return {"amount": "amount"}
    if corrects is None:
        return {"amount": "negative_needs_correction"} if amount_ore < 0 else {}
    original = next((s for s in ledger if s.id == corrects and s.corrects is None), None)
    if original is None:
        return {"corrects": "corrects"}
    if amount_ore > 0:
        return {"amount": "correction_positive"}
    corrected = sum(s.amount_ore for s in ledger if s.corrects == original.id)
    if original.amount_ore + corrected + amount_ore < 0:
        return {"amount": "correction_too_large"}
    return {}


def spending_problems(
    amount_ore: int,
    on: str,
    text: str,
    corrects: str | None,
    ledger: Sequence[Spending],
    year: int | None = None,
) -> Problems:
    """Everything wrong with a spending; with `year`, one dated in another year is refused
    (`outside_year`): spending is booked to the year of its date, and a line is a year's."""
    problems = entry_problems(on, text) | amount_problems(amount_ore, corrects, ledger)
    if year is not None and "on" not in problems and date.fromisoformat(on).year != year:
        problems["on"] = "outside_year"
    return problems


def spent_on(ledger: Iterable[Spending]) -> int:
    """The exact sum of a line's spendings, corrections included."""
    return sum(s.amount_ore for s in ledger)


def total(figures: Iterable[Figures]) -> Figures:
    figures = list(figures)
    return Figures(sum(f.budget_ore for f in figures), sum(f.spent_ore for f in figures))


def line_for_year(lines: Sequence[BudgetLine], line_id: str, year: int) -> BudgetLine | None:
    """Where spending meant for `line_id` is booked in `year`: that line if it is the
    year's, else the first line of the same programme for that year (a 2025 programme paid
    out in 2026 spends the programme's 2026 budget); None if the programme has no line then."""
    named = next((line for line in lines if line.id == line_id), None)
    if named is None or named.year == year:
        return named
    same = [ln for ln in lines if ln.programme_id == named.programme_id and ln.year == year]
    return min(same, key=lambda ln: ln.position, default=None)


def corrections_for(
    ledger: Sequence[Spending], amount_ore: int, text_prefix: str
) -> list[tuple[str, int]]:
    """How to take `amount_ore` (positive) off a line: negative corrections of its originals
    whose text starts with `text_prefix`, newest first, none more than is left of it.
    (A reversal paid back in a later batch reduces what the payouts spent.)"""
    plan: list[tuple[str, int]] = []
    left_to_take = amount_ore
    for original in reversed(ledger):
        if left_to_take <= 0:
            break
        if original.corrects is not None or not original.text.startswith(text_prefix):
            continue
        left = original.amount_ore + sum(s.amount_ore for s in ledger if s.corrects == original.id)
        take = min(left, left_to_take)
        if take > 0:
            plan.append((original.id, -take))
            left_to_take -= take
    return plan
