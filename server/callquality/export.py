"""The week's figures per clinic as CSV, for a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from server.callquality.success import WeekFigures

CSV_HEADER = (
    "week", "clinic_id", "clinic", "attempts", "succeeded", "failed", "success_rate",
    "setup_p50_ms", "setup_p95_ms", "relayed", "relayed_share",
)  # fmt: skip
DECIMAL_COLUMNS = frozenset({"success_rate", "relayed_share"})
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """Text a spreadsheet would run as a formula (a name starting with "=") is quoted."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _share(per_mille: int | None) -> str:
    """A share as a fraction with three decimals ("0.995"), blank when there is none."""
    return "" if per_mille is None else f"{per_mille / 1000:.3f}"


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def calls_csv(rows: Sequence[WeekFigures], clinic_names: Mapping[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow(
            [
                r.week, r.clinic_id, _text(clinic_names.get(r.clinic_id, "")), r.attempts,
                r.succeeded, r.failed, _share(r.success_per_mille), _number(r.setup_p50_ms),
                _number(r.setup_p95_ms), r.relayed, _share(r.relayed_per_mille),
            ]
        )  # fmt: skip
    return out.getvalue()
