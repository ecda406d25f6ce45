"""Times at the edge of the calendar are refused with a 4xx, store nothing, log no
traceback, and a stored one (from before the rule) cannot break a page for good."""

from __future__ import annotations

import logging

import pytest

from server.clock import iso_local, iso_utc, local_day, now
from server.pages.render import format_time
from server.store import keys
from server.store.absences import Absence, Substitute, list_absences
from server.store.connection import Redis
from server.store.consultations import get_consultation
from tests.integration.helpers import Client, book, browser, login
from tests.integration.test_api_consultations import booking, lps, problem
from tests.security.logcheck import assert_no_traceback

NORD = {"name": "Lægerne i Nørregade", "phone": "+45 33 12 34 56"}
EDGES = [
    ("9999-06-01T00:00:00+00:00", "9999-12-31T23:59:59-14:00"),  # ends in year 10000 UTC
    ("9999-12-30T00:00:00+14:00", "9999-12-31T23:59:59+14:00"),
    ("2100-12-31T00:00:00+01:00", "2101-01-01T12:00:00+01:00"),  # just past the range
    ("0001-01-01T00:00:00+14:00", "2099-01-01T00:00:00+00:00"),
]


@pytest.fixture(autouse=True)
def _logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


@pytest.mark.parametrize(("start", "end"), EDGES)
async def test_an_absence_at_the_calendars_edge_is_refused_by_the_api(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture, start: str, end: str
) -> None:
    v = await lps(redis)
    path = f"/api/v1/clinics/{v.clinic.ydernummer}/absences"
    body = {"kind": "holiday", "start": start, "end": end, "substitute": NORD}
    response = await client.post(path, json=body, headers=v.auth)
    assert await problem(response) == (422, "invalid_body")
    assert await list_absences(redis, v.clinic.id) == []
    listed = await client.get(path, headers=v.auth)
    assert listed.status == 200
    assert_no_traceback(caplog)


@pytest.mark.parametrize(
    ("start", "end"),
    [("9999-12-30T00:00", "9999-12-31T23:59"), ("2100-12-31T12:00", "2101-01-01T12:00")],
)
async def test_an_absence_at_the_calendars_edge_is_refused_by_the_settings_page(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture, start: str, end: str
) -> None:
    b = await book(redis)
    form = {
        "kind": "holiday",
        "start": start,
        "end": end,
        "substitute_name": NORD["name"],
        "substitute_phone": NORD["phone"],
    }
    async with browser(client) as session:
        await login(session, b.gp.username)
        response = await session.post("/clinic/absences", data=form, allow_redirects=False)
        assert response.status == 400, await response.text()
        assert 'data-testid="absence-errors"' in await response.text()
        assert (await session.get("/clinic/settings")).status == 200
    assert await list_absences(redis, b.clinic.id) == []
    assert_no_traceback(caplog)


async def test_a_stored_absence_beyond_year_9999_breaks_no_page(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """One stored before the rule existed (written straight into Redis) is shown, not
    fatal: the settings page and the absences API still answer."""
    v = await lps(redis)
    sub = Substitute(NORD["name"], NORD["phone"])
    end = 253402300799.0 + 14 * 3600  # 9999-12-31T23:59:59-14:00
    stale = Absence("stale", v.clinic.id, "holiday", end - 30 * 86400, end, sub)
    await redis.hset(keys.clinic_absences(v.clinic.id), stale.id, stale.to_json())
    async with browser(client) as session:
        await login(session, v.gp.username)
        assert (await session.get("/clinic/settings")).status == 200
    path = f"/api/v1/clinics/{v.clinic.ydernummer}/absences"
    assert (await client.get(path, headers=v.auth)).status == 200
    assert_no_traceback(caplog)


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:00:00-14:00", "2101-01-01T00:00:00+01:00", "1999-12-31T00:00:00Z"]
)
async def test_a_booking_at_the_calendars_edge_is_refused(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture, start: str
) -> None:
    v = await lps(redis)
    before = await redis.keys(f"{keys.PREFIX}:consultation:*")
    response = await client.post(
        "/api/v1/consultations", json=booking(v, scheduled_start=start), headers=v.auth
    )
    assert (await problem(response))[0] == 422
    assert await redis.keys(f"{keys.PREFIX}:consultation:*") == before

    made = await client.post("/api/v1/consultations", json=booking(v), headers=v.auth)
    cid = (await made.json())["id"]
    stored = await get_consultation(redis, cid)
    assert stored is not None
    patched = await client.patch(
        f"/api/v1/consultations/{cid}", json={"scheduled_start": start}, headers=v.auth
    )
    assert (await problem(patched))[0] == 422
    assert await get_consultation(redis, cid) == stored
    fhir = await client.get(f"/fhir/Appointment/{cid}", headers=v.auth)
    assert fhir.status == 200
    assert_no_traceback(caplog)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2101-01-01"])
async def test_a_clinics_day_at_the_calendars_edge_is_refused(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture, day: str
) -> None:
    v = await lps(redis)
    query = {"clinic": v.clinic.ydernummer, "date": day}
    response = await client.get("/api/v1/consultations", params=query, headers=v.auth)
    assert await problem(response) == (422, "invalid_query")
    assert_no_traceback(caplog)


def test_edge_instants_format_without_failing() -> None:
    for ts in (1e30, -1e30, float("nan"), float("inf"), 253402300799.0 + 14 * 3600, now()):
        assert iso_local(ts) and iso_utc(ts) and local_day(ts)
        assert format_time(ts, "da") and format_time(ts, "en")
