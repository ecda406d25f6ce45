"""The calls CSV: one line per week and clinic, shares as fractions, names made harmless."""

from __future__ import annotations

import csv
import io

from server.callquality.export import CSV_HEADER, calls_csv
from server.callquality.success import WeekFigures


def test_rows_with_and_without_successes() -> None:
    rows = [
        WeekFigures("2026-W49", "c1", 4, 3, 900, 2100, 1),
        WeekFigures("2026-W49", "c2", 1, 0, None, None, 0),
    ]
    text = calls_csv(rows, {"c1": "+45 Lægehuset", "c2": "Klinik Syd"})
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == list(CSV_HEADER)
    assert parsed[1] == [
        "2026-W49", "c1", "'+45 Lægehuset", "4", "3", "1", "0.750", "900", "2100", "1", "0.333",
    ]  # fmt: skip
    assert parsed[2] == ["2026-W49", "c2", "Klinik Syd", "1", "0", "1", "0.000", "", "", "0", ""]
