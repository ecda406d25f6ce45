"""The retention table: every kind of record the platform keeps, as data.

One row per key family in `server.store.keys`; `tests/unit/test_retention_table.py` fails
when a family has no row, and `docs/retention.md` is generated from these rows
(`almenvideo retention doc`). The periods the job enforces are the constants below; the
rows describe them, and Redis TTLs enforce the short ones.
"""

from __future__ import annotations

from server.retention import rows_clinics, rows_economy, rows_partners, rows_patients
from server.retention.record import (
    AUDIT_SECONDS,
    BOOKKEEPING_YEARS,
    CANCELLATION_NOTICE_SECONDS,
    DAY,
    INACTIVITY_SECONDS,
    INACTIVITY_WARNING_SECONDS,
    PILOT_EVALUATION_SECONDS,
    Personal,
    Record,
    Scope,
)

__all__ = [
    "AUDIT_SECONDS",
    "BOOKKEEPING_YEARS",
    "CANCELLATION_NOTICE_SECONDS",
    "DAY",
    "INACTIVITY_SECONDS",
    "INACTIVITY_WARNING_SECONDS",
    "PILOT_EVALUATION_SECONDS",
    "TABLE",
    "Personal",
    "Record",
    "Scope",
    "by_family",
]

TABLE: tuple[Record, ...] = (
    *rows_patients.ROWS,
    *rows_clinics.ROWS,
    *rows_partners.ROWS,
    *rows_economy.ROWS,
)


def by_family() -> dict[str, Record]:
    return {r.family: r for r in TABLE}
