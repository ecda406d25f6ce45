"""GP capacities from a register extract (yderregister or SOR style): one row per clinic,
`ydernummer, count, valid from`, and a report of what each row did.

PLO settles the number of capacities from such extracts, so loading one must say exactly
what changed. The rules:

- Columns by header (`ydernummer`; `count`/`antal`/`kapaciteter`/`capacities`;
  `valid_from`/`gyldig_fra`/`fra`/`since`), or, without a header, in that order. Comma or
  semicolon separated, as a Danish spreadsheet saves it.
- Dates as `2026-01-01`, `01-01-2026` or `01.01.2026`. Counts are whole numbers 0 to 99.
- A row whose count is already in force on its date changes nothing (`unchanged`); one for
  an unknown ydernummer is `unknown_clinic`; a malformed row is `bad_row`. The same
  ydernummer and date twice with different counts is `conflict`, and neither is loaded.
- Only `changed` rows are recorded, each as if typed on the subscriptions page (audited).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from server.pilots.invoices import History, in_force, parse_capacities, parse_day

CHANGED, UNCHANGED, UNKNOWN_CLINIC, BAD_ROW, CONFLICT = (
    "changed", "unchanged", "unknown_clinic", "bad_row", "conflict",
)  # fmt: skip
MAX_ROWS = 5_000  # Denmark has about 1,700 clinics
_NAMES = {
    "ydernummer": "ydernummer",
    "ydernr": "ydernummer",
    "count": "count",
    "antal": "count",
    "kapaciteter": "count",
    "capacities": "count",
    "valid_from": "valid_from",
    "gyldig_fra": "valid_from",
    "fra": "valid_from",
    "since": "valid_from",
}
_DANISH_DAY = re.compile(r"^(\d{2})[-.](\d{2})[-.](\d{4})$")
_YDERNUMMER = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class ReportRow:
    line: int  # in the file, from 1 (the header too)
    ydernummer: str
    since: date | None
    count: int | None
    status: str
    previous: int | None = None  # in force on `since` before (changed, unchanged)
    clinic_id: str = ""


def _day(text: str) -> date | None:
    if match := _DANISH_DAY.match(text):
        return parse_day(f"{match[3]}-{match[2]}-{match[1]}")
    return parse_day(text)


def _rows(text: str) -> list[tuple[int, dict[str, str]]]:
    lines = text.lstrip("\ufeff").splitlines()
    sample = next((line for line in lines if line.strip()), "")
    delimiter = ";" if sample.count(";") >= sample.count(",") and ";" in sample else ","
    cells = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    order = ["ydernummer", "count", "valid_from"]
    start = 0
    if cells and not any(c.strip().isdigit() for c in cells[0][:1]):
        header = [_NAMES.get(c.strip().casefold().replace(" ", "_"), "") for c in cells[0]]
        if set(order) <= set(header):
            order, start = header, 1
    return [
        (n + 1, dict(zip(order, (c.strip() for c in row), strict=False)))
        for n, row in enumerate(cells)
        if n >= start and any(c.strip() for c in row)
    ][:MAX_ROWS]


def plan_import(
    text: str, clinics: Mapping[str, str], histories: Mapping[str, History[int]]
) -> list[ReportRow]:
    """What loading the extract would do, row by row. `clinics` maps ydernummer to clinic
    id; `histories` clinic id to its capacity history."""
    parsed: list[ReportRow] = []
    for line, row in _rows(text):
        ydernummer = row.get("ydernummer", "")
        since, count = _day(row.get("valid_from", "")), parse_capacities(row.get("count", ""))
        if not _YDERNUMMER.match(ydernummer) or since is None or count is None:
            parsed.append(ReportRow(line, ydernummer, since, count, BAD_ROW))
        elif ydernummer not in clinics:
            parsed.append(ReportRow(line, ydernummer, since, count, UNKNOWN_CLINIC))
        else:
            parsed.append(ReportRow(line, ydernummer, since, count, CHANGED))
    counts: dict[tuple[str, date | None], set[int | None]] = {}
    for r in parsed:
        if r.status == CHANGED:
            counts.setdefault((r.ydernummer, r.since), set()).add(r.count)
    report: list[ReportRow] = []
    done: set[tuple[str, date | None]] = set()
    for r in parsed:
        if r.status != CHANGED:
            report.append(r)
            continue
        clinic_id = clinics[r.ydernummer]
        if len(counts[(r.ydernummer, r.since)]) > 1:
            report.append(
                ReportRow(r.line, r.ydernummer, r.since, r.count, CONFLICT, None, clinic_id)
            )
            continue
        assert r.since is not None
        previous = in_force(histories.get(clinic_id, {}), r.since)
        repeated = (r.ydernummer, r.since) in done
        status = UNCHANGED if previous == r.count or repeated else CHANGED
        done.add((r.ydernummer, r.since))
        report.append(
            ReportRow(r.line, r.ydernummer, r.since, r.count, status, previous, clinic_id)
        )
    return report
