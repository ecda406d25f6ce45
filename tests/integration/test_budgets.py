"""The budget dashboard over real HTTP and a real Redis: admin only, spending recorded and
shown in the table and the chart, corrections, audit, refusals, and the CSV export."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

from aiohttp import ClientSession

from server.pilots.money import parse_kroner
from server.pilots.roadmap import LINES, PROGRAMMES
from server.store.audit import read_audit
from server.store.budgets import list_spendings, spent
from server.store.connection import Redis
from tests.integration.accountpages import html, make_admin, make_organisation, post
from tests.integration.helpers import Client, browser, login, make_gp
from tests.unit.factories import make_clinic

PAGE = "/admin/budgets"
RECORD = "/admin/budgets/spendings"
CSV = "/admin/budgets.csv"
SVG = "{http://www.w3.org/2000/svg}"
ROAD_MAP_ORDER = [  # by programme, then year, then the road map's order
    line
    for p in PROGRAMMES
    for line in sorted(LINES, key=lambda x: (x.year, x.position))
    if line.programme_id == p.id
]
FORM = {"line": "lps_integration", "on": "2025-04-01", "amount": "12.500,50", "text": "Sprint 1"}


def _chart(body: str) -> ET.Element:
    found = re.search(r"<svg .*?</svg>", body, re.S)
    assert found, body
    return ET.fromstring(found.group(0))


def _bar(svg: ET.Element, line_id: str) -> ET.Element:
    return next(g for g in svg.iter(f"{SVG}g") if g.attrib.get("data-line") == line_id)


def _row(body: str, line_id: str) -> str:
    found = re.search(
        rf'<tr data-testid="budget-line" data-line-id="{line_id}".*?</tr>', body, re.S
    )
    assert found, line_id
    return found.group(0)


async def _as_admin(client: Client, redis: Redis, session: ClientSession) -> str:
    admin = await make_admin(redis)
    await login(session, admin.username)
    return admin.id


async def test_nobody_logged_in_is_sent_to_log_in(client: Client, redis: Redis) -> None:
    for path in (PAGE, CSV):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == f"/login?next={path}"
    refused = await client.post(RECORD, data=FORM, allow_redirects=False)
    assert refused.status == 303
    assert await list_spendings(redis, "lps_integration") == []


async def test_other_roles_get_a_forbidden_page(client: Client, redis: Redis) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    _, org_admin, nurse = await make_organisation(redis)
    for user in (gp, org_admin, nurse):
        async with browser(client) as session:
            await login(session, user.username)
            page = await session.get(PAGE, allow_redirects=False)
            assert page.status == 403
            assert "ikke adgang" in await page.text()
            assert (await session.get(CSV, allow_redirects=False)).status == 403
            assert (await post(session, RECORD, FORM)).status == 403
    assert await list_spendings(redis, "lps_integration") == []
    assert await read_audit(redis) == []


async def test_the_admin_sees_every_line_grouped_with_totals_and_a_chart(
    client: Client, redis: Redis
) -> None:
    async with browser(client) as session:
        await _as_admin(client, redis, session)
        admin_page = await html(await session.get("/admin"))
        assert 'href="/admin/budgets"' in admin_page
        page = await session.get(PAGE)
        assert page.status == 200
        assert page.headers["Cache-Control"] == "no-store"
        body = await html(page)
    assert body.count('data-testid="budget-line"') == len(LINES)
    assert body.index("Video i almen praksis") < body.index("Tværsektoriel video")
    assert "I alt, Video i almen praksis" in body
    total = re.search(r'data-testid="overall-total">.*?</tr>', body, re.S)
    assert total and "11.000.000,00 kr" in total.group(0)
    for year, budget in ((2024, "1.500.000,00"), (2025, "4.500.000,00"), (2026, "5.000.000,00")):
        row = re.search(rf'data-testid="year-total" data-year="{year}".*?</tr>', body, re.S)
        assert row and f"{budget} kr" in row.group(0)
    svg = _chart(body)
    assert svg.attrib["role"] == "img"
    bars = [g for g in svg.iter(f"{SVG}g") if "data-line" in g.attrib]
    assert [g.attrib["data-line"] for g in bars] == [line.id for line in ROAD_MAP_ORDER]
    assert 'data-testid="no-spendings"' in body


async def test_recorded_spending_shows_in_the_table_the_chart_and_the_audit(
    client: Client, redis: Redis
) -> None:
    async with browser(client) as session:
        admin_id = await _as_admin(client, redis, session)
        before = _chart(await html(await session.get(PAGE)))
        response = await post(session, RECORD, FORM)
        assert response.status == 303
        assert response.headers["Location"].startswith(f"{PAGE}?recorded=1")
        body = await html(await session.get(response.headers["Location"]))
    assert await spent(redis, "lps_integration") == 1_250_050
    row = _row(body, "lps_integration")
    assert "12.500,50 kr" in row and "787.499,50 kr" in row and "1,6 %" in row
    assert 'data-testid="budget-recorded"' in body
    listed = re.search(
        r'data-testid="spendings" data-line-id="lps_integration".*?</table>', body, re.S
    )
    assert listed and "Sprint 1" in listed.group(0) and "Ada Admin" in listed.group(0)
    spent_before = next(r for r in _bar(before, "lps_integration") if r.get("class") == "spent")
    spent_after = next(
        r for r in _bar(_chart(body), "lps_integration") if r.get("class") == "spent"
    )
    # the 2026 lines of 3 M kr set the scale now: 12.500,50 of 800.000 kr is 2 px, not 0
    assert (int(spent_before.attrib["width"]), int(spent_after.attrib["width"])) == (0, 2)
    [entry] = await read_audit(redis)
    assert (entry.action, entry.actor) == ("budget.spending_recorded", f"user:{admin_id}")
    assert entry.data["amount_ore"] == 1_250_050


async def test_overspending_is_marked_in_the_table_and_the_chart(
    client: Client, redis: Redis
) -> None:
    async with browser(client) as session:
        await _as_admin(client, redis, session)
        over = {**FORM, "line": "pilot_honoraria", "amount": "60.000"}
        assert (await post(session, RECORD, over)).status == 303
        body = await html(await session.get(PAGE))
    row = _row(body, "pilot_honoraria")
    assert 'class="overspent"' in row and "-10.000,00 kr" in row and "overskredet" in row
    assert "overspent" in _bar(_chart(body), "pilot_honoraria").attrib["class"].split()


async def test_bad_input_shows_the_page_again_with_errors_and_changes_nothing(
    client: Client, redis: Redis
) -> None:
    async with browser(client) as session:
        await _as_admin(client, redis, session)
        bad = {**FORM, "amount": "12,345", "on": "2025-13-01"}
        response = await post(session, RECORD, bad)
        assert response.status == 422
        body = await html(response)
        assert 'data-testid="spending-errors"' in body
        assert "højst to decimaler" in body and "gyldig dato" in body
        assert 'value="12,345"' in body  # what was typed is kept
        negative = await post(session, f"{RECORD}?lang=en", {**FORM, "amount": "-5"})
        assert negative.status == 422
        assert "A negative amount must be a correction" in await html(negative)
    assert await list_spendings(redis, "lps_integration") == []
    assert await read_audit(redis) == []


async def test_a_correction_is_made_from_the_list_and_keeps_both_entries(
    client: Client, redis: Redis
) -> None:
    async with browser(client) as session:
        await _as_admin(client, redis, session)
        await post(session, RECORD, FORM)
        body = await html(await session.get(PAGE))
        link = re.search(r'href="([^"]+)" data-testid="correct"', body)
        assert link
        form = await html(await session.get(link.group(1).replace("&amp;", "&")))
        assert 'data-testid="correcting"' in form and 'value="-12.500,50"' in form
        [original] = await list_spendings(redis, "lps_integration")
        fix = {**FORM, "amount": "-12.500,50", "text": "Forkert linje", "corrects": original.id}
        assert (await post(session, RECORD, fix)).status == 303
        again = await post(session, RECORD, {**fix, "amount": "-0,01"})
        assert again.status == 422
        assert "mere fra, end der er tilbage" in await html(again)
        corrected = await html(await session.get(PAGE))
        assert "Rettelse af posteringen fra 01.04.2025 på 12.500,50 kr" in corrected
        assert 'data-testid="correct"' not in corrected  # nothing is left to correct
    assert await spent(redis, "lps_integration") == 0
    assert [s.amount_ore for s in await list_spendings(redis, "lps_integration")] == [
        1_250_050,
        -1_250_050,
    ]


async def test_the_csv_parses_back_to_the_exact_figures(client: Client, redis: Redis) -> None:
    async with browser(client) as session:
        await _as_admin(client, redis, session)
        await post(session, RECORD, FORM)
        await post(session, RECORD, {**FORM, "line": "cross_sector_rest", "amount": "0,01"})
        response = await session.get(f"{CSV}?format=csv-en")
        assert response.status == 200
        assert response.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [r["line_id"] for r in rows] == [line.id for line in ROAD_MAP_ORDER]
    for row, line in zip(rows, ROAD_MAP_ORDER, strict=True):
        budget, used, left = (parse_kroner(row[k], "en") for k in ("budget", "spent", "remaining"))
        assert budget == line.budget_ore
        assert used == await spent(redis, line.id)
        assert left == budget - used
    assert {r["line_id"]: r["spent"] for r in rows if r["spent"] != "0.00"} == {
        "lps_integration": "12500.50",
        "cross_sector_rest": "0.01",
    }


async def test_the_download_for_people_opens_in_a_danish_spreadsheet(
    client: Client, redis: Redis
) -> None:
    async with browser(client) as session:
        await _as_admin(client, redis, session)
        await post(session, RECORD, FORM)
        response = await session.get(CSV)
        assert response.status == 200 and response.content_type == "text/csv"
        body = await response.read()
    # UTF-8 with a byte-order mark, semicolons, Danish headers and decimal commas.
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    header, *lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert header == [
        "Program-id", "Program", "Budgetlinje-id", "Budgetlinje", "År", "Budget (kr.)",
        "Brugt (kr.)", "Tilbage (kr.)",
    ]  # fmt: skip
    integration = next(line for line in lines if line[2] == "lps_integration")
    assert (integration[4], integration[6]) == ("2025", "12500,50")
    assert integration[3] == "Projekt: Dyb integration af video i LPS"


async def test_a_cross_site_post_is_refused(client: Client, redis: Redis) -> None:
    async with browser(client) as session:
        await _as_admin(client, redis, session)
        response = await post(session, RECORD, FORM, Origin="https://evil.example")
        assert response.status == 403
    assert await list_spendings(redis, "lps_integration") == []
