"""Every CSV download, in the two shapes its readers need.

People open a download in a Danish spreadsheet: semicolons between cells, a decimal comma,
UTF-8 with a byte-order mark (without it Excel guesses the wrong encoding) and headers in
the reader's language. That is the default. Integrations ask for `?format=csv-en`: commas,
a decimal point, no byte-order mark and the stable snake_case column names. Each export's
domain module writes only that machine shape; this module turns it into the spreadsheet
shape on the way out, so every export follows the same rules.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence

from aiohttp import web

from server.appkeys import LOCALES
from server.i18n import request_language
from server.responses import NO_STORE

MACHINE = "csv-en"
BOM = "\ufeff"


def spreadsheet_text(machine: str, headers: Sequence[str], decimals: Collection[str]) -> str:
    """The machine CSV in the spreadsheet shape: `headers` replace its header row, and the
    cells of the columns named in `decimals` get a decimal comma."""
    rows = list(csv.reader(io.StringIO(machine)))
    if not rows:
        return BOM
    names = rows[0]
    assert len(headers) == len(names), "one header per column"
    commas = {i for i, name in enumerate(names) if name in decimals}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(headers)
    for row in rows[1:]:
        writer.writerow(
            [cell.replace(".", ",") if i in commas else cell for i, cell in enumerate(row)]
        )
    return BOM + out.getvalue()


def csv_export(
    request: web.Request, machine: str, filename: str, decimals: Collection[str] = ()
) -> web.Response:
    """A CSV download, never cached (the figures change): the spreadsheet shape with headers
    in the reader's language (`csv.<column>` in the locales), or `?format=csv-en`."""
    if request.query.get("format") == MACHINE:
        text = machine
    else:
        lang = request_language(request)
        locales = request.app[LOCALES]
        names = next(csv.reader(io.StringIO(machine)), [])
        headers = [locales.translate(lang, f"csv.{name}") for name in names]
        text = spreadsheet_text(machine, headers, decimals)
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )
