"""PLSP subscription invoices: the quarter's lines per vendor, to the øre, by the documented
rules (counted at the quarter's start; each month at the price on its first day)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.pilots.invoices import (
    BASE_PRICE,
    NO_CAPACITIES,
    NO_VENDOR,
    MonthPrice,
    Quarter,
    Subscriber,
    in_force,
    invoice_csv,
    invoice_quarter,
    parse_capacities,
    parse_day,
    parse_price,
)

PRICES = dict([BASE_PRICE])
VENDORS = {"v1": "Journal A/S", "v2": "Praksis Data"}
Q1 = Quarter(2025, 1)


def clinic(
    clinic_id: str = "c1",
    capacities: dict[date, int] | None = None,
    vendors: dict[date, str] | None = None,
) -> Subscriber:
    return Subscriber(
        clinic_id,
        f"Lægehuset {clinic_id}",
        f"0{clinic_id[1:].zfill(5)}",
        {date(2023, 1, 1): 2} if capacities is None else capacities,
        {date(2023, 1, 1): "v1"} if vendors is None else vendors,
    )


def test_quarters_parse_step_and_name_their_months() -> None:
    assert Quarter.parse("2025Q1") == Q1
    assert str(Quarter(2025, 4)) == "2025Q4"
    assert Quarter(2025, 4).next() == Quarter(2026, 1)
    assert Quarter(2025, 3).months == (date(2025, 7, 1), date(2025, 8, 1), date(2025, 9, 1))
    assert Quarter.containing(date(2025, 6, 30)) == Quarter(2025, 2)
    for bad in ("2025Q5", "2025q1", "25Q1", "2025-Q1", "", "1999Q4", "2025Q1 OR 1"):
        with pytest.raises(ValueError):
            Quarter.parse(bad)


def test_two_capacities_for_a_whole_quarter_at_120_kr_cost_720_kr() -> None:
    invoices = invoice_quarter(Q1, [clinic()], PRICES, VENDORS)
    [invoice] = invoices.vendors
    [line] = invoice.lines
    assert line.amount_ore == 72_000
    assert line.capacities == 2
    assert line.months == tuple(MonthPrice(m, 12_000) for m in Q1.months)
    assert (line.quarter, line.vendor_id, line.vendor_name) == ("2025Q1", "v1", "Journal A/S")
    assert invoice.total_ore == invoices.total_ore == 72_000
    assert invoices.warnings == invoices.unpriced == ()


def test_a_vendor_switch_mid_quarter_is_invoiced_once_by_the_old_vendor() -> None:
    switching = clinic(vendors={date(2023, 1, 1): "v1", date(2025, 2, 15): "v2"})

    q1 = invoice_quarter(Q1, [switching], PRICES, VENDORS)
    assert [(v.vendor_id, len(v.lines), v.total_ore) for v in q1.vendors] == [("v1", 1, 72_000)]

    q2 = invoice_quarter(Q1.next(), [switching], PRICES, VENDORS)
    assert [(v.vendor_id, len(v.lines), v.total_ore) for v in q2.vendors] == [("v2", 1, 72_000)]


def test_a_switch_on_the_quarters_first_day_belongs_to_the_new_vendor() -> None:
    switching = clinic(vendors={date(2023, 1, 1): "v1", date(2025, 4, 1): "v2"})
    [invoice] = invoice_quarter(Quarter(2025, 2), [switching], PRICES, VENDORS).vendors
    assert invoice.vendor_id == "v2"


def test_a_capacity_change_mid_quarter_counts_from_the_next_quarter() -> None:
    growing = clinic(capacities={date(2023, 1, 1): 2, date(2025, 2, 1): 3})
    [q1] = invoice_quarter(Q1, [growing], PRICES, VENDORS).vendors[0].lines
    [q2] = invoice_quarter(Q1.next(), [growing], PRICES, VENDORS).vendors[0].lines
    assert (q1.capacities, q1.amount_ore) == (2, 72_000)
    assert (q2.capacities, q2.amount_ore) == (3, 108_000)


def test_a_price_change_mid_year_applies_from_its_month() -> None:
    prices = {date(2023, 1, 1): 12_000, date(2025, 8, 1): 12_550}
    [line] = invoice_quarter(Quarter(2025, 3), [clinic()], prices, VENDORS).vendors[0].lines
    assert [m.price_ore for m in line.months] == [12_000, 12_550, 12_550]
    assert line.amount_ore == 2 * (12_000 + 2 * 12_550)
    [before] = invoice_quarter(Quarter(2025, 2), [clinic()], prices, VENDORS).vendors[0].lines
    assert before.amount_ore == 72_000


def test_a_price_from_mid_month_applies_from_the_next_month() -> None:
    prices = {date(2023, 1, 1): 12_000, date(2025, 7, 15): 13_000}
    [line] = invoice_quarter(Quarter(2025, 3), [clinic()], prices, VENDORS).vendors[0].lines
    assert [m.price_ore for m in line.months] == [12_000, 13_000, 13_000]


def test_clinics_without_a_vendor_or_capacities_are_warnings_not_lines() -> None:
    clinics = [
        clinic("c1"),
        clinic("c2", vendors={}),
        clinic("c3", capacities={}),
        clinic("c4", vendors={date(2025, 2, 1): "v1"}),  # a vendor only after the start
        clinic("c5", capacities={date(2023, 1, 1): 0}),  # no longer subscribed: no warning
    ]
    invoices = invoice_quarter(Q1, clinics, PRICES, VENDORS)
    assert [line.clinic_id for v in invoices.vendors for line in v.lines] == ["c1"]
    assert [(w.clinic_id, w.code) for w in invoices.warnings] == [
        ("c2", NO_VENDOR), ("c3", NO_CAPACITIES), ("c4", NO_VENDOR),
    ]  # fmt: skip


def test_months_before_the_first_price_are_left_out_and_named() -> None:
    early = clinic(capacities={date(2022, 1, 1): 2}, vendors={date(2022, 1, 1): "v1"})
    invoices = invoice_quarter(Quarter(2022, 4), [early], PRICES, VENDORS)
    assert invoices.unpriced == Quarter(2022, 4).months
    [line] = invoices.vendors[0].lines
    assert (line.months, line.amount_ore) == ((), 0)


def test_lines_are_grouped_per_vendor_by_name_and_ordered_by_ydernummer() -> None:
    clinics = [clinic("c3", vendors={date(2024, 1, 1): "v2"}), clinic("c2"), clinic("c1")]
    invoices = invoice_quarter(Q1, clinics, PRICES, VENDORS)
    assert [(v.vendor_name, [x.clinic_id for x in v.lines]) for v in invoices.vendors] == [
        ("Journal A/S", ["c1", "c2"]), ("Praksis Data", ["c3"]),
    ]  # fmt: skip
    assert invoices.for_vendor("v2") is invoices.vendors[1]
    assert invoices.for_vendor("v9") is None


def test_in_force_takes_the_latest_value_on_or_before_the_day() -> None:
    history = {date(2024, 1, 1): 2, date(2024, 6, 1): 3}
    assert in_force(history, date(2023, 12, 31)) is None
    assert in_force(history, date(2024, 1, 1)) == 2
    assert in_force(history, date(2024, 5, 31)) == 2
    assert in_force(history, date(2030, 1, 1)) == 3


def test_the_csv_has_one_row_per_line_with_exact_amounts() -> None:
    prices = {date(2023, 1, 1): 12_000, date(2025, 3, 1): 12_345}
    clinics = [clinic("c1"), clinic("c2", capacities={date(2023, 1, 1): 3})]
    invoices = invoice_quarter(Q1, clinics, prices, {"v1": "=HYPERLINK()"})
    rows = list(csv.DictReader(io.StringIO(invoice_csv(Q1, invoices.vendors[0]))))
    assert [r["amount"] for r in rows] == ["726.90", "1090.35"]
    assert [r["vat"] for r in rows] == ["181.73", "272.59"]  # 25 %, to the nearest øre
    assert [r["amount_incl_vat"] for r in rows] == ["908.63", "1362.94"]
    assert rows[0]["vendor"] == "'=HYPERLINK()"  # not run as a formula by a spreadsheet
    assert [rows[0][f"month_{n}"] for n in (1, 2, 3)] == ["2025-01", "2025-02", "2025-03"]
    assert [rows[0][f"price_{n}"] for n in (1, 2, 3)] == ["120.00", "120.00", "123.45"]
    assert invoice_csv(Q1, None).splitlines() == [invoice_csv(Q1, invoices.vendors[0]).split()[0]]


def test_form_values_are_parsed_strictly() -> None:
    assert parse_day("2025-07-01") == date(2025, 7, 1)
    assert [parse_day(bad) for bad in ("2025-02-30", "01.07.2025", "1999-12-31", "")] == [None] * 4
    assert [parse_capacities(text) for text in ("0", "2", "99")] == [0, 2, 99]
    assert [parse_capacities(bad) for bad in ("-1", "100", "2,5", "two", "")] == [None] * 5
    assert parse_price("125,50", "da") == parse_price("125.50", "en") == 12_550
    assert [parse_price(bad, "da") for bad in ("0", "-5", "1,234", "abc", "10.000,01")] == [
        None
    ] * 5


dates = st.dates(min_value=date(2022, 1, 1), max_value=date(2027, 12, 31))
subscribers = st.lists(
    st.builds(
        Subscriber,
        clinic_id=st.text("abcdef0123456789", min_size=1, max_size=8),
        name=st.text(max_size=20),
        ydernummer=st.text("0123456789", min_size=6, max_size=6),
        capacities=st.dictionaries(dates, st.integers(0, 99), max_size=4),
        vendors=st.dictionaries(dates, st.sampled_from(["v1", "v2", "v3"]), max_size=4),
    ),
    max_size=12,
    unique_by=lambda s: s.clinic_id,
)
price_lists = st.dictionaries(dates, st.integers(1, 1_000_000), max_size=5)
quarters = st.builds(Quarter, st.integers(2022, 2027), st.integers(1, 4))


@given(quarters, subscribers, price_lists)
def test_totals_add_up_in_integers_and_no_clinic_appears_twice(
    quarter: Quarter, clinics: list[Subscriber], prices: dict[date, int]
) -> None:
    invoices = invoice_quarter(quarter, clinics, prices, VENDORS)
    lines = [line for v in invoices.vendors for line in v.lines]
    assert invoices.total_ore == sum(v.total_ore for v in invoices.vendors)
    assert invoices.total_ore == sum(line.amount_ore for line in lines)
    for v in invoices.vendors:
        assert v.total_ore == sum(line.amount_ore for line in v.lines)
        assert {line.vendor_id for line in v.lines} == {v.vendor_id}
    amounts = [invoices.total_ore, *(v.total_ore for v in invoices.vendors)]
    assert all(type(a) is int for a in amounts + [line.amount_ore for line in lines])
    clinic_ids = [line.clinic_id for line in lines] + [w.clinic_id for w in invoices.warnings]
    assert len(clinic_ids) == len(set(clinic_ids))
    for line in lines:
        assert line.amount_ore == line.capacities * sum(m.price_ore for m in line.months)
