"""CSV downloads: the spreadsheet shape people get, from the machine shape integrations get."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from server.callquality.export import CSV_HEADER as CALL_COLUMNS
from server.pages.budgets import CSV_HEADER as BUDGET_COLUMNS
from server.pages.csvexport import BOM, spreadsheet_text
from server.pilots.evidencecsv import ROW_COLUMNS, SUMMARY_COLUMNS
from server.pilots.invoices import CSV_COLUMNS as INVOICE_COLUMNS
from server.pilots.statements import COLUMNS as STATEMENT_COLUMNS

LOCALES = Path(__file__).resolve().parents[2] / "web" / "locales"
EVERY_EXPORT = (
    ROW_COLUMNS, SUMMARY_COLUMNS, STATEMENT_COLUMNS, INVOICE_COLUMNS, CALL_COLUMNS,
    BUDGET_COLUMNS,
)  # fmt: skip

MACHINE = (
    "engine,engine_version,amount,note\r\n"
    'pocketsphinx,5.0.3,720.50,"a, b"\r\n'
    "http,1.2,-0.10,x;y\r\n"
)


def test_semicolons_decimal_commas_a_bom_and_the_given_headers() -> None:
    text = spreadsheet_text(MACHINE, ["Motor", "Version", "Beløb", "Note"], {"amount"})
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM)), delimiter=";"))
    assert rows == [
        ["Motor", "Version", "Beløb", "Note"],
        ["pocketsphinx", "5.0.3", "720,50", "a, b"],  # a version is not a number
        ["http", "1.2", "-0,10", "x;y"],  # a cell with a semicolon is quoted, not split
    ]


def test_an_empty_export_is_only_the_mark() -> None:
    assert spreadsheet_text("", [], ()) == BOM


def test_every_column_of_every_export_has_a_header_for_people_in_both_languages() -> None:
    for lang in ("da", "en"):
        strings = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
        for columns in EVERY_EXPORT:
            missing = [c for c in columns if not strings.get(f"csv.{c}")]
            assert missing == [], (lang, missing)
