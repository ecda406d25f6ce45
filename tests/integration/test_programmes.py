"""Pilot programmes over real HTTP and a real Redis: the admin's pages, a GP's statement, the
accrual consumer running inside the app, and the CSV reading back to the øre."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from pathlib import Path

from server.clock import local_day, now
from server.pilots.money import parse_kroner
from server.pilots.programmes import KINDS
from server.pilots.statements import quarter_of
from server.store.audit import read_audit
from server.store.connection import Redis
from server.store.honoraria import list_programmes, read_ledger
from server.store.notes import Section, approve, save_draft
from tests.integration.accountpages import html, make_admin, post
from tests.integration.helpers import Client, browser, login, make_gp
from tests.unit.factories import make_clinic, make_scheduled

YEAR = local_day(now())[:4]
CREATE = {
    "name": "AI-notatassistent",
    "starts": f"{YEAR}-01-01",
    "ends": f"{YEAR}-12-31",
    "budget_line": "pilot_honoraria",
    "onboarding": "2.000",
    "per_consultation": "300",
    "per_questionnaire": "500,50",
    "cap": "10.000",
}


async def _create(session: object, data: dict[str, str] | None = None) -> str:
    response = await post(session, "/admin/programmes", data or CREATE)  # type: ignore[arg-type]
    assert response.status == 303, await response.text()
    return str(response.headers["Location"])


async def test_only_admins_see_programmes_and_only_gps_their_statement(
    client: Client, redis: Redis
) -> None:
    for path in ("/admin/programmes", "/admin/programmes/x", "/statement", "/statement.csv"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/login")
    gp = await make_gp(redis, await make_clinic(redis))
    admin = await make_admin(redis)
    async with browser(client) as session:
        await login(session, gp.username)
        for path in ("/admin/programmes", "/admin/programmes/x/statements.csv?quarter=2025Q1"):
            assert (await session.get(path, allow_redirects=False)).status == 403
        assert (await post(session, "/admin/programmes", CREATE)).status == 403
        statement = await session.get("/statement")
        assert statement.status == 200
        assert 'data-testid="not-enrolled"' in await html(statement)
    async with browser(client) as session:
        await login(session, admin.username)
        assert (await session.get("/statement", allow_redirects=False)).status == 403
    assert await list_programmes(redis) == []


async def test_bad_input_changes_nothing_and_says_what_is_wrong(
    client: Client, redis: Redis
) -> None:
    admin = await make_admin(redis)
    async with browser(client) as session:
        await login(session, admin.username)
        bad = {**CREATE, "name": "", "cap": "10,000.5", "ends": f"{int(YEAR) - 1}-12-31"}
        page = await post(session, "/admin/programmes", bad)
        assert page.status == 422
        body = await html(page)
        assert 'data-testid="name-error"' in body and 'data-testid="cap-error"' in body
        assert "Slutdatoen ligger før startdatoen." in body
        where = await _create(session)
        amounts = dict.fromkeys(("onboarding", "per_consultation", "per_questionnaire", "cap"), "1")
        rules = await post(session, f"{where}/rules", {"effective_from": "2001-01-01", **amounts})
        assert rules.status == 422
        assert "uden for programmets periode" in await html(rules)
        english = await post(session, f"{where}/enrol?lang=en", {"gp_id": "nobody", "starts": "x"})
        assert english.status == 422
        assert "Choose a GP." in await html(english)
        assert (await post(session, f"{where}/payout", {"up_to": CREATE["starts"]})).status == 422
    entries, payouts = await read_ledger(redis)
    assert entries == [] and payouts == []
    [programme] = await list_programmes(redis)
    assert len(programme.rules) == 1
    assert programme.rules[0].per_questionnaire_ore == 50_050
    async with browser(client) as session:
        await login(session, admin.username)
        bad_csv = await session.get(f"{where}/statements.csv?quarter=2025-1")
        assert bad_csv.status == 400
        assert (await bad_csv.json())["code"] == "bad_quarter"


async def test_a_programme_runs_from_enrolment_to_payout_and_each_gp_sees_only_their_own(
    client: Client, redis: Redis
) -> None:
    clinic = await make_clinic(redis)
    lise, ole = (
        await make_gp(redis, clinic, "Dr. Lise Holm"),
        await make_gp(redis, clinic, "Dr. Ole Berg"),
    )
    admin = await make_admin(redis)
    async with browser(client) as session:
        await login(session, admin.username)
        where = await _create(session)
        for gp in (lise, ole):
            enrol = {"gp_id": gp.id, "starts": CREATE["starts"], "ends": CREATE["ends"]}
            assert (await post(session, f"{where}/enrol", enrol)).status == 303
        done = {"gp_id": lise.id, "on": f"{YEAR}-02-03"}
        assert (await post(session, f"{where}/questionnaire", done)).status == 303
        assert (await post(session, f"{where}/questionnaire", done)).status == 303  # sent twice

        # The consumer inside the app accrues Lise's reviewed AI draft.
        c = await make_scheduled(redis, clinic)
        await save_draft(redis, c, [Section("reason", "Årsag", "Hoste")], engine="pocketsphinx")
        await approve(redis, c, lise.id)
        for _ in range(100):
            entries, _ = await read_ledger(redis)
            if any(e.earning == f"consultation:{c.id}" for e in entries):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the consultation did not accrue")

        ole_onboarding = next(e for e in entries if e.gp_id == ole.id)
        undo = {"entry_id": ole_onboarding.id, "reason": "Tilmeldt ved en fejl"}
        assert (await post(session, f"{where}/reverse", undo)).status == 303
        again = await post(session, f"{where}/reverse", undo)
        assert again.status == 422 and "allerede tilbageført" in await html(again)
        assert (await post(session, f"{where}/payout", {"up_to": CREATE["ends"]})).status == 303

        page = await html(await session.get(where))
        assert "Dr. Lise Holm" in page and "Tilmeldt ved en fejl" in page
        assert "2.000,00 kr" in page and "500,50 kr" in page and "300,00 kr" in page
        # People see batches by number and reversals by what they reverse, never ledger ids.
        assert "Udbetaling 1" in page and "Udbetalt i udbetaling 1" in page
        assert "tilbagefører: Opstartshonorar" in page
        visible = re.sub(r"<[^>]*>", " ", page)  # the text, without attributes
        assert not re.search(r"#?\d{13}-\d+", visible), "a ledger id is shown"
        assert f"consultation:{c.id}" not in visible and c.id not in visible

        quarter = f"{YEAR}Q1"
        exported = await session.get(f"{where}/statements.csv?quarter={quarter}&format=csv-en")
        assert exported.status == 200 and exported.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO(await exported.text())))
    entries, _ = await read_ledger(redis)
    in_quarter = [e for e in entries if quarter_of(e.on) == quarter]
    assert sum(parse_kroner(r["amount_kr"], "en") for r in rows) == sum(
        e.amount_ore for e in in_quarter
    )
    assert {r["entry_id"] for r in rows} == {e.id for e in in_quarter}
    assert all(r["payout"] for r in rows)

    async with browser(client) as session:
        await login(session, lise.username)
        statement = await html(await session.get(f"/statement?quarter={quarter}"))
        assert "Dr. Ole Berg" not in statement and "Tilmeldt ved en fejl" not in statement
        assert "2.000,00 kr" in statement and "Evalueringsskema" in statement
        own = await session.get(f"/statement.csv?quarter={quarter}&format=csv-en")
        own_rows = list(csv.DictReader(io.StringIO(await own.text())))
        assert own_rows and {r["gp_id"] for r in own_rows} == {lise.id}
        english = await html(await session.get(f"/statement?quarter={quarter}&lang=en"))
        assert "DKK 2,000.00" in english
        assert (await session.get("/statement.csv?quarter=Q1")).status == 400

    actions = {a.action for a in await read_audit(redis)}
    for action in ("programme_created", "gp_enrolled", "accrued", "questionnaire_recorded",
                   "reversed", "paid"):  # fmt: skip
        assert f"honorarium.{action}" in actions
    assert re.search(r"/admin/programmes/[0-9a-f]+$", where)


def test_every_programme_string_is_in_both_languages() -> None:
    root = Path(__file__).parents[2]
    strings = {
        lang: json.loads((root / "web" / "locales" / f"{lang}.json").read_text())
        for lang in ("da", "en")
    }
    sources = [
        *(root / "web" / "templates").glob("*programme*.html"),
        *(root / "web" / "templates").glob("_honoraria_*.html"),
        root / "web" / "templates" / "statement.html",
        *(root / "server" / "pilots").glob("*.py"),
        *(root / "server" / "pages").glob("*.py"),
        root / "server" / "store" / "honoraria.py",
    ]
    used = {k for p in sources for k in re.findall(r"prog\.[a-z_]*[a-z](?![a-z_])", p.read_text())}
    used |= {f"prog.rule_{kind}" for kind in KINDS}
    prog = {lang: {k for k in s if k.startswith("prog.")} for lang, s in strings.items()}
    assert prog["da"] == prog["en"]
    assert used <= prog["da"], used - prog["da"]
