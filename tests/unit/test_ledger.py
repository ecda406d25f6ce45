"""The honoraria ledger's arithmetic: exact øre, whatever happens in whatever order."""

from __future__ import annotations

from collections import Counter
from dataclasses import fields, replace

from hypothesis import given
from hypothesis import strategies as st

from server.pilots.ledger import (
    ACCRUAL,
    REVERSAL,
    Balance,
    Entry,
    Payout,
    balance,
    net,
    of,
    paid_by,
    payable,
    payout_problems,
    reversal_of,
    reversal_problems,
)

GPS = ("gp-a", "gp-b")
DAYS = ("2025-01-15", "2025-02-20", "2025-04-02", "2025-06-30")

accrue = st.tuples(
    st.just("accrue"), st.sampled_from(GPS), st.integers(1, 10**9), st.sampled_from(DAYS)
)
reverse = st.tuples(st.just("reverse"), st.integers(0, 50))
pay = st.tuples(
    st.just("pay"), st.sampled_from((*DAYS, None)), st.lists(st.integers(0, 50), max_size=3)
)
operations = st.lists(st.one_of(accrue, reverse, pay), max_size=40)


def accrual(entry_id: str, gp_id: str, amount: int, on: str = DAYS[0]) -> Entry:
    return Entry(entry_id, ACCRUAL, "p", gp_id, amount, on, "system", 0.0, rule="consultation",
                 rules_version=1, earning=f"consultation:{entry_id}", full_ore=amount)  # fmt: skip


def run(ops: list[tuple]) -> tuple[list[Entry], list[Payout]]:  # type: ignore[type-arg]
    """Apply the operations the way the store does: only what the rules allow is written."""
    entries: list[Entry] = []
    payouts: list[Payout] = []
    for n, op in enumerate(ops):
        entry_id = f"{n}-0"
        if op[0] == "accrue":
            entries.append(accrual(entry_id, op[1], op[2], op[3]))
        elif op[0] == "reverse" and entries:
            target = entries[op[1] % len(entries)].id
            if not reversal_problems(entries, target, "fejl"):
                [original] = [e for e in entries if e.id == target]
                entries.append(
                    replace(reversal_of(original), id=entry_id, on=DAYS[-1], reason="fejl")
                )
        elif op[0] == "pay" and entries:
            selected = [entries[i % len(entries)].id for i in op[2]]
            if not payout_problems(entries, payouts, "p", selected):
                paying = payable(entries, payouts, "p", op[1], selected)
                if paying:
                    payouts.append(
                        Payout(entry_id, "p", tuple(e.id for e in paying), DAYS[-1], "u", 0.0)
                    )
    return entries, payouts


@given(operations, st.integers(0, 10**10))
def test_a_gps_report_is_the_sum_of_their_entries(ops: list[tuple], cap: int) -> None:  # type: ignore[type-arg]
    entries, payouts = run(ops)
    for gp_id in GPS:
        own = of(entries, "p", gp_id)
        report = balance(own, payouts, cap)
        for field in fields(Balance):
            assert type(getattr(report, field.name)) is int
        for value in (report.net_ore, report.outstanding_ore):
            assert type(value) is int
        assert report.accrued_ore - report.reversed_ore == report.net_ore == net(own)
        assert report.paid_ore + report.outstanding_ore == report.net_ore
        paid = paid_by(payouts)
        assert report.paid_ore == sum(e.amount_ore for e in own if e.id in paid)
        if cap:
            assert report.remaining_ore == max(0, cap - report.net_ore)
            assert report.cap_reached == (report.net_ore >= cap)
        else:
            assert report.remaining_ore is None and not report.cap_reached


@given(operations)
def test_reversals_net_to_zero_and_nothing_is_paid_twice(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    entries, payouts = run(ops)
    by_id = {e.id: e for e in entries}
    reversals = [e for e in entries if e.kind == REVERSAL]
    assert len({r.reverses for r in reversals}) == len(reversals)
    for r in reversals:
        original = by_id[r.reverses]
        assert original.kind == ACCRUAL
        assert original.amount_ore + r.amount_ore == 0
    counts = Counter(entry_id for p in payouts for entry_id in p.pays)
    assert all(n == 1 for n in counts.values())


def test_a_reversal_needs_an_unreversed_accrual_and_a_reason() -> None:
    first = accrual("1-0", "gp-a", 30_000)
    reversal = replace(reversal_of(first), id="2-0", reason="dobbelt")
    entries = [first, reversal]
    assert reversal_problems(entries, "1-0", "igen") == {"entry_id": "prog.error_reversed_already"}
    assert reversal_problems(entries, "2-0", "igen") == {"entry_id": "prog.error_entry"}
    assert reversal_problems(entries, "nope", "") == {
        "entry_id": "prog.error_entry",
        "reason": "prog.error_reason",
    }
    assert reversal.amount_ore == -30_000 and reversal.earning == first.earning


def test_a_batch_pays_up_to_a_day_or_what_is_selected_and_keeps_pairs_together() -> None:
    a = accrual("1-0", "gp-a", 100, "2025-01-10")
    b = accrual("2-0", "gp-b", 200, "2025-02-10")
    c = accrual("3-0", "gp-a", 300, "2025-05-10")
    undo_b = replace(reversal_of(b), id="4-0", on="2025-05-11", reason="fejl")
    entries = [a, b, c, undo_b]
    assert [e.id for e in payable(entries, [], "p", "2025-01-31")] == ["1-0"]
    assert [e.id for e in payable(entries, [], "p", "2025-03-31")] == ["1-0", "2-0", "4-0"]
    assert [e.id for e in payable(entries, [], "p", selected=["3-0"])] == ["3-0"]
    batch = Payout("5-0", "p", ("1-0", "2-0", "4-0"), "2025-06-01", "u", 0.0)
    assert [e.id for e in payable(entries, [batch], "p")] == ["3-0"]
    assert payout_problems(entries, [batch], "p", ["1-0"]) == {"entries": "prog.error_not_payable"}
    assert payable(entries, [], "other") == []
