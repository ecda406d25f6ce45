"""Issued invoices never change: a later change to an issued quarter is credited and
re-billed in the next issue, so every clinic-quarter nets to one charge, by one vendor."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.pilots.invoices import BASE_PRICE, Quarter, Subscriber, invoice_quarter
from server.pilots.issuing import (
    Issue,
    LineKind,
    Period,
    draft_issue,
    issue_from_json,
    issue_to_json,
    number_invoices,
    vat_ore,
)

VENDORS = {"v1": "Journal A/S", "v2": "Praksis Data", "v3": "XMO"}
START = date(2023, 1, 1)
Q1 = Quarter(2026, 1)


@dataclass
class World:
    """Mutable histories, as the admin pages and the capacity import change them."""

    capacities: dict[str, dict[date, int]] = field(default_factory=dict)
    vendors: dict[str, dict[date, str]] = field(default_factory=dict)
    prices: dict[date, int] = field(default_factory=lambda: dict([BASE_PRICE]))
    issues: list[Issue] = field(default_factory=list)
    next_invoice: int = 1

    def clinic(self, clinic_id: str, capacities: int = 2, vendor: str = "v1") -> None:
        self.capacities[clinic_id] = {START: capacities}
        self.vendors[clinic_id] = {START: vendor}

    def subscribers(self) -> list[Subscriber]:
        return [
            Subscriber(c, f"Lægehuset {c}", f"0{c[1:].zfill(5)}", self.capacities[c], v)
            for c, v in self.vendors.items()
        ]

    def issue(self, period: str) -> Issue | None:
        draft = draft_issue(
            Period.parse(period), self.issues, self.subscribers(), self.prices, VENDORS
        )
        if draft.empty:
            return None
        invoices, used = number_invoices(draft, self.next_invoice, 2026)
        self.next_invoice += used
        made = Issue(
            len(self.issues) + 1,
            period,
            tuple(str(q) for q in draft.quarters),
            "2026-01-01T00:00:00Z",
            "test",
            invoices,
            draft.warnings,
        )
        assert issue_from_json(issue_to_json(made)) == made
        self.issues.append(made)
        return made


def net(issues: list[Issue]) -> dict[tuple[str, str], dict[str, int]]:
    """(clinic, quarter) -> vendor -> the sum of its issued lines."""
    found: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for issue in issues:
        for inv in issue.invoices:
            for line in inv.lines:
                found[(line.clinic_id, line.quarter)][inv.vendor_id] += line.amount_ore
    return found


def test_the_backdated_vendor_switch_is_credited_and_rebilled_so_the_quarter_costs_once() -> None:
    world = World()
    world.clinic("c1")
    q1 = world.issue("2026Q1")
    assert q1 is not None
    [invoice] = q1.invoices
    assert (invoice.number, invoice.vendor_id, invoice.total_ore) == ("2026-000001", "v1", 72_000)

    world.vendors["c1"][date(2026, 1, 1)] = "v2"  # recorded in March, dated back into Q1
    q2 = world.issue("2026Q2")
    assert q2 is not None
    by_vendor = {inv.vendor_id: inv for inv in q2.invoices}
    assert [(ln.kind, ln.quarter, ln.amount_ore, ln.credits) for ln in by_vendor["v1"].lines] == [
        (LineKind.CREDIT, "2026Q1", -72_000, "2026-000001")
    ]
    assert [(ln.kind, ln.quarter, ln.amount_ore) for ln in by_vendor["v2"].lines] == [
        (LineKind.CORRECTION, "2026Q1", 72_000),
        (LineKind.CHARGE, "2026Q2", 72_000),
    ]
    assert q1 == world.issues[0]  # the first issue is as it was
    assert net(world.issues)[("c1", "2026Q1")] == {"v1": 0, "v2": 72_000}
    assert sum(net(world.issues)[("c1", "2026Q1")].values()) == 72_000
    assert world.issue("2026Q2") is None  # nothing new, nothing to correct


def test_a_switch_in_the_quarter_changes_nothing_already_issued() -> None:
    world = World()
    world.clinic("c1")
    world.issue("2026Q1")
    world.vendors["c1"][date(2026, 2, 15)] = "v2"
    q2 = world.issue("2026Q2")
    assert q2 is not None
    assert [(i.vendor_id, [ln.kind for ln in i.lines]) for i in q2.invoices] == [
        ("v2", [LineKind.CHARGE])
    ]


def test_a_year_is_issued_at_once_and_its_quarters_are_never_charged_again() -> None:
    world = World()
    world.clinic("c1", capacities=3)
    year = world.issue("2026")
    assert year is not None
    assert year.quarters == ("2026Q1", "2026Q2", "2026Q3", "2026Q4")
    assert year.total_ore == 4 * 3 * 3 * 12_000
    assert world.issue("2026Q3") is None
    world.capacities["c1"][date(2026, 7, 1)] = 2  # a capacity less from Q3, learnt in May
    fix = world.issue("2027Q1")
    assert fix is not None
    kinds = [(ln.kind, ln.quarter, ln.amount_ore) for ln in fix.invoices[0].lines]
    assert kinds == [
        (LineKind.CREDIT, "2026Q3", -108_000),
        (LineKind.CORRECTION, "2026Q3", 72_000),
        (LineKind.CREDIT, "2026Q4", -108_000),
        (LineKind.CORRECTION, "2026Q4", 72_000),
        (LineKind.CHARGE, "2027Q1", 72_000),
    ]


def test_a_clinic_fixed_after_its_warning_is_charged_in_the_next_issue() -> None:
    world = World()
    world.vendors["c1"] = {START: "v1"}
    world.capacities["c1"] = {}
    q1 = world.issue("2026Q1")
    assert q1 is not None and q1.invoices == ()
    assert [(q, w.code) for q, w in q1.warnings] == [("2026Q1", "no_capacities")]
    world.capacities["c1"][START] = 1
    q2 = world.issue("2026Q2")
    assert q2 is not None
    assert [(ln.kind, ln.quarter) for ln in q2.invoices[0].lines] == [
        (LineKind.CORRECTION, "2026Q1"),
        (LineKind.CHARGE, "2026Q2"),
    ]


def test_vat_is_a_quarter_of_the_amount_to_the_nearest_ore() -> None:
    assert vat_ore(72_000) == 18_000
    assert vat_ore(-72_000) == -18_000
    assert (vat_ore(1), vat_ore(2), vat_ore(3), vat_ore(-2)) == (0, 1, 1, -1)


def test_periods_are_a_quarter_or_a_year() -> None:
    assert Period.parse("2026").quarters == tuple(Quarter(2026, n) for n in range(1, 5))
    assert Period.parse("2026Q2").quarters == (Quarter(2026, 2),)
    for bad in ("26", "2026Q0", "1999", "2026-1", ""):
        with pytest.raises(ValueError):
            Period.parse(bad)


DAYS = st.dates(date(2025, 10, 1), date(2027, 12, 31))
CLINICS = st.sampled_from(["c1", "c2", "c3"])
PERIODS = st.sampled_from(
    ["2026Q1", "2026Q2", "2026Q3", "2026Q4", "2027Q1", "2027Q2", "2026", "2027"]
)
STEPS = st.one_of(
    st.tuples(st.just("vendor"), CLINICS, DAYS, st.sampled_from(sorted(VENDORS))),
    st.tuples(st.just("capacities"), CLINICS, DAYS, st.integers(0, 6)),
    st.tuples(
        st.just("price"), st.just(""), DAYS.map(lambda d: d.replace(day=1)), st.integers(1, 30_000)
    ),
    st.tuples(st.just("issue"), st.just(""), st.just(START), PERIODS),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(STEPS, max_size=30), PERIODS)
def test_every_clinic_quarter_nets_to_one_charge_by_one_vendor(
    steps: list[tuple[str, str, date, object]], last: str
) -> None:
    world = World()
    for clinic_id in ("c1", "c2", "c3"):
        world.clinic(clinic_id)
    for kind, clinic_id, day, value in steps:
        if kind == "vendor":
            world.vendors[clinic_id][day] = str(value)
        elif kind == "capacities":
            world.capacities[clinic_id][day] = int(str(value))
        elif kind == "price":
            world.prices[day] = int(str(value))
        else:
            world.issue(str(value))
    world.issue(last)  # the next issue carries every correction still due

    issued = [q for issue in world.issues for q in issue.quarters]
    assert len(issued) == len(set(issued))  # no quarter is issued twice
    totals = net(world.issues)
    subs = world.subscribers()
    for text in issued:
        quarter = Quarter.parse(text)
        expected = {
            ln.clinic_id: ln
            for v in invoice_quarter(quarter, subs, world.prices, VENDORS).vendors
            for ln in v.lines
        }
        for clinic_id in ("c1", "c2", "c3"):
            per_vendor = totals.get((clinic_id, text), {})
            line = expected.get(clinic_id)
            assert sum(per_vendor.values()) == (line.amount_ore if line else 0)
            charged = {v for v, amount in per_vendor.items() if amount}
            assert charged == ({line.vendor_id} if line and line.amount_ore else set())
    charges = [
        (ln.clinic_id, ln.quarter)
        for issue in world.issues
        for inv in issue.invoices
        for ln in inv.lines
        if ln.kind == LineKind.CHARGE
    ]
    assert len(charges) == len(set(charges))
    lines_by_invoice = {
        (inv.number, ln.clinic_id, ln.quarter): ln
        for issue in world.issues
        for inv in issue.invoices
        for ln in inv.lines
        if ln.kind != LineKind.CREDIT
    }
    for issue in world.issues:
        for inv in issue.invoices:
            for ln in inv.lines:
                if ln.kind == LineKind.CREDIT:
                    credited = lines_by_invoice[(ln.credits, ln.clinic_id, ln.quarter)]
                    assert ln.amount_ore == -credited.amount_ore
                    assert ln.vendor_id == credited.vendor_id == inv.vendor_id
