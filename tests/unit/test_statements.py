"""Quarterly statements and their CSV: exact øre back out of what is written."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.pilots.ledger import ACCRUAL, Entry, Payout
from server.pilots.money import parse_kroner
from server.pilots.statements import (
    BadQuarter,
    lines,
    quarter_days,
    quarter_of,
    quarters,
    to_csv,
    total,
)

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))


def test_quarters() -> None:
    assert quarter_of("2025-03-31") == "2025Q1" and quarter_of("2025-10-01") == "2025Q4"
    assert quarter_days("2025Q2") == ("2025-04-01", "2025-06-30")
    for bad in ("2025Q5", "2025-Q1", "25Q1", "", "1999Q1", "2025q1"):
        with pytest.raises(BadQuarter):
            quarter_days(bad)


@given(
    st.lists(st.tuples(days, st.integers(-(10**9), 10**9)), max_size=30),
    st.sampled_from(("2025Q1", "2025Q3")),
)
def test_the_csv_reads_back_to_the_statements_exact_sum(rows: list, quarter: str) -> None:  # type: ignore[type-arg]
    entries = [
        Entry(
            f"{n}-0",
            ACCRUAL,
            "p",
            "gp",
            amount,
            day.isoformat(),
            "system",
            float(n),
            rule="consultation",
        )
        for n, (day, amount) in enumerate(rows)
    ]
    paid = Payout("99-0", "p", tuple(e.id for e in entries[:3]), "2025-12-01", "u", 0.0)
    statement = lines(entries, [paid], quarter, {"p": "=Pilot"}, {"gp": "Dr. Ø"})
    assert all(quarter_of(line.entry.on) == quarter for line in statement)
    read = list(csv.DictReader(io.StringIO(to_csv(statement))))
    assert len(read) == len(statement)
    assert sum(parse_kroner(r["amount_kr"], "en") for r in read) == total(statement)
    assert all(r["programme"] == "'=Pilot" and r["gp"] == "Dr. Ø" for r in read)
    assert {r["entry_id"] for r in read if r["payout"]} <= set(paid.pays)
    assert quarters(entries) == sorted({quarter_of(e.on) for e in entries}, reverse=True)
