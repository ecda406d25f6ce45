"""The honoraria ledger's rules: entries in integer øre, never edited, and what they add up to.

The ledger is one append-only stream of three kinds of record (`server.store.honoraria`):
- an accrual: a GP earned `amount_ore` (> 0) in a programme by the rule `rule` (an earning
  kind) of rule-set version `rules_version`, from the event `source`, under the earning key
  `earning`; `full_ore` is what the rule paid before the cap;
- a reversal: a correction with a `reason`, of minus the amount of the accrual it
  `reverses`. Only an accrual is reversed, and at most once;
- a payout batch: it pays the entries it lists. An entry is paid by at most one batch;
  paid and outstanding are derived from the batches, never stored on the entries.

Decisions:
- Cap room is the cap less the GP's net (accruals less reversals) in the programme, so a
  reversal frees room for later earnings; earlier earnings the cap reduced stay as they are.
- An earning key earns at most once, even after its accrual was reversed: a repeated event
  must not undo a correction. An earning the cap reduced to nothing writes no entry, but its
  key is used all the same, so a duplicate arriving after a reversal freed room earns
  nothing either.
- A batch pays an accrual together with its reversal when both are outstanding, so a
  corrected earning is never half paid. A reversal of a paid accrual stays outstanding
  (negative) until a later batch nets it against new earnings.
- Statements and quarters go by an entry's `on` day: the earning's day for an accrual, the
  day it was recorded for a reversal (a correction belongs to the period it was made in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from server.pilots.budgets import text_ok

ACCRUAL = "accrual"
REVERSAL = "reversal"
PAYOUT = "payout"

Problems = dict[str, str]


@dataclass(frozen=True)
class Entry:
    id: str
    kind: str  # accrual | reversal
    programme_id: str
    gp_id: str
    amount_ore: int
    on: str  # ISO Copenhagen day
    actor: str
    at: float  # unix seconds it was written
    rule: str = ""  # accrual: the earning kind that paid
    rules_version: int = 0
    earning: str = ""
    source: str = ""  # accrual: the id of the event that earned it
    full_ore: int = 0
    reverses: str = ""  # reversal: the accrual's entry id
    reason: str = ""


@dataclass(frozen=True)
class Payout:
    id: str
    programme_id: str
    pays: tuple[str, ...]  # entry ids
    on: str
    actor: str
    at: float


@dataclass(frozen=True)
class Balance:
    """A GP's figures in one programme. Every field is exact øre."""

    accrued_ore: int
    reversed_ore: int  # the sum of reversals, as a positive amount
    paid_ore: int
    cap_ore: int  # 0 = no cap

    @property
    def net_ore(self) -> int:
        return self.accrued_ore - self.reversed_ore

    @property
    def outstanding_ore(self) -> int:
        return self.net_ore - self.paid_ore

    @property
    def remaining_ore(self) -> int | None:
        """Room left under the cap; None without a cap."""
        return None if self.cap_ore == 0 else max(0, self.cap_ore - self.net_ore)

    @property
    def cap_reached(self) -> bool:
        return self.cap_ore > 0 and self.net_ore >= self.cap_ore


def of(entries: Iterable[Entry], programme_id: str, gp_id: str | None = None) -> list[Entry]:
    """The programme's entries, only one GP's with `gp_id`."""
    return [e for e in entries if e.programme_id == programme_id and gp_id in (None, e.gp_id)]


def net(entries: Iterable[Entry]) -> int:
    return sum(e.amount_ore for e in entries)


def paid_by(payouts: Iterable[Payout]) -> dict[str, str]:
    """entry id -> the batch that paid it."""
    return {entry_id: p.id for p in payouts for entry_id in p.pays}


def balance(entries: Sequence[Entry], payouts: Sequence[Payout], cap_ore: int) -> Balance:
    """The figures of `entries` (one GP's in one programme)."""
    paid = paid_by(payouts)
    return Balance(
        accrued_ore=sum(e.amount_ore for e in entries if e.kind == ACCRUAL),
        reversed_ore=-sum(e.amount_ore for e in entries if e.kind == REVERSAL),
        paid_ore=sum(e.amount_ore for e in entries if e.id in paid),
        cap_ore=cap_ore,
    )


def reversed_ids(entries: Iterable[Entry]) -> set[str]:
    return {e.reverses for e in entries if e.kind == REVERSAL}


def reversal_problems(entries: Sequence[Entry], entry_id: str, reason: str) -> Problems:
    problems: Problems = {}
    if not text_ok(reason):
        problems["reason"] = "prog.error_reason"
    accrual = next((e for e in entries if e.id == entry_id and e.kind == ACCRUAL), None)
    if accrual is None:
        problems["entry_id"] = "prog.error_entry"
    elif entry_id in reversed_ids(entries):
        problems["entry_id"] = "prog.error_reversed_already"
    return problems


def reversal_of(accrual: Entry) -> Entry:
    """The reversing entry's fields that follow from the accrual (id, day, actor, time,
    reason are the caller's)."""
    return Entry(
        "", REVERSAL, accrual.programme_id, accrual.gp_id, -accrual.amount_ore, "", "", 0.0,
        rule=accrual.rule, rules_version=accrual.rules_version, earning=accrual.earning,
        reverses=accrual.id,
    )  # fmt: skip


def outstanding(entries: Iterable[Entry], payouts: Iterable[Payout]) -> list[Entry]:
    paid = paid_by(payouts)
    return [e for e in entries if e.id not in paid]


def payable(
    entries: Sequence[Entry],
    payouts: Sequence[Payout],
    programme_id: str,
    up_to: str | None = None,
    selected: Iterable[str] = (),
) -> list[Entry]:
    """What a batch pays: the programme's selected outstanding entries, or (with none
    selected) all of them on or before `up_to`; each with its reversal or accrual partner
    when that is outstanding too."""
    open_entries = outstanding(of(entries, programme_id), payouts)
    wanted = set(selected)
    chosen = {
        e.id for e in open_entries if (e.id in wanted if wanted else up_to is None or e.on <= up_to)
    }
    open_ids = {e.id for e in open_entries}
    for e in open_entries:
        if (
            e.kind == REVERSAL
            and e.reverses in open_ids
            and (e.id in chosen or e.reverses in chosen)
        ):
            chosen |= {e.id, e.reverses}
    return [e for e in open_entries if e.id in chosen]


def payout_problems(
    entries: Sequence[Entry], payouts: Sequence[Payout], programme_id: str, selected: Iterable[str]
) -> Problems:
    """Selected entries must be the programme's and outstanding."""
    open_ids = {e.id for e in outstanding(of(entries, programme_id), payouts)}
    if any(entry_id not in open_ids for entry_id in selected):
        return {"entries": "prog.error_not_payable"}
    return {}
