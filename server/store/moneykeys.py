"""The Redis keys of the economy: the PLSP subscription (prices, capacities, vendors over
time), issued invoices, budget lines and honoraria. Money: kept as bookkeeping requires
(server.retention.rows_economy). `keys` re-exports them, so every key is still `keys.X`.
"""

from server.store.keyprefix import PREFIX

__all__ = [
    "BUDGET_LINES",
    "HONORARIA_EARNINGS",
    "HONORARIA_LEDGER",
    "HONORARIA_PROGRAMMES",
    "INVOICE_ISSUES",
    "INVOICE_NUMBERS",
    "PRICE_PROPOSALS",
    "SUBSCRIPTION_PRICES",
    "budget_spendings",
    "clinic_capacities",
    "clinic_lps_vendor",
    "honoraria_enrolments",
]

SUBSCRIPTION_PRICES = f"{PREFIX}:subscription:prices"  # hash: from ISO date -> øre/capacity/month
PRICE_PROPOSALS = f"{PREFIX}:subscription:price_proposals"  # hash: proposal id -> JSON


INVOICE_ISSUES = f"{PREFIX}:invoices:issues"  # list, append-only: JSON issue n at index n-1
INVOICE_NUMBERS = f"{PREFIX}:invoices:numbers"  # counter: the last invoice number used


def clinic_capacities(clinic_id: str) -> str:
    """Hash: effective-from ISO date (Copenhagen) -> the clinic's number of GP capacities
    (lægekapaciteter) from then on, as the PLSP subscription counts them."""
    return f"{PREFIX}:clinic:{clinic_id}:capacities"


def clinic_lps_vendor(clinic_id: str) -> str:
    """Hash: effective-from ISO date (Copenhagen) -> id of the vendor whose LPS the clinic
    uses from then on: who invoices its PLSP subscription, and (the value in force today)
    which vendor's API may act for the clinic. The one record of it."""
    return f"{PREFIX}:clinic:{clinic_id}:lps_vendor"


BUDGET_LINES = f"{PREFIX}:budget:lines"  # hash: budget line id -> JSON (name, programme, øre)


def budget_spendings(line_id: str) -> str:
    """Stream: the line's spendings and corrections in øre, append-only, never trimmed."""
    return f"{PREFIX}:budget:line:{line_id}:spendings"


HONORARIA_PROGRAMMES = f"{PREFIX}:honoraria:programmes"  # hash: programme id -> JSON with rules
HONORARIA_LEDGER = f"{PREFIX}:honoraria:ledger"  # stream: accruals, reversals, payouts; øre
HONORARIA_EARNINGS = f"{PREFIX}:honoraria:earnings"  # set: "programme|gp|earning key" used


def honoraria_enrolments(programme_id: str) -> str:
    """Hash: GP user id -> JSON of their enrolment (start and end day) in the programme."""
    return f"{PREFIX}:honoraria:programme:{programme_id}:enrolments"
