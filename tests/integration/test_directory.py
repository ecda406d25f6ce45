"""The clinic directory for professionals: search and clinic pages for municipality staff, the
export API for organisations' systems, the LPS's absence push, and the audit trail."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from aiohttp import ClientResponse

from server.clock import local, now
from server.directory.publicholidays import public_holidays
from server.store.absences import HOLIDAY, Substitute, add_absence, list_absences
from server.store.audit import read_audit
from server.store.clinics import Clinic, create_clinic
from server.store.connection import Redis
from server.store.events import read_events
from server.store.organisations import Organisation, create_organisation, issue_organisation_key
from server.store.users import User, UserRole, create_user
from server.store.vendors import Vendor, create_vendor, issue_api_key
from server.waitingroom.clinicavailability import absence_stops_queueing
from server.waitingroom.hours import WEEKDAYS
from tests.integration.helpers import GP_PASSWORD, Client, book, browser, login, make_gp

BACK_DOOR = "+45 70 11 22 33"
NORD = Substitute("Lægerne i Nørregade", "+45 33 12 34 56")
VEST = Substitute("Lægehuset Vest", "+45 86 44 55 66")
ALL_DAY = {day: [("00:00", "24:00")] for day in WEEKDAYS}
DAY = 86400.0
PROBLEM = "application/problem+json"

_names = itertools.count(1)


async def make_reader(
    redis: Redis, role: str = UserRole.STAFF, org: Organisation | None = None
) -> User:
    """A municipality nurse (or organisation admin, or platform admin) who may read it."""
    if role == UserRole.ADMIN:
        return await create_user(
            redis, f"admin-{next(_names)}", GP_PASSWORD, "Ada Admin", UserRole.ADMIN
        )
    org = org or await create_organisation(redis, "Aarhus Kommune", "751")
    return await create_user(
        redis, f"staff-{next(_names)}", GP_PASSWORD, "Mette Berg", role,
        organisation_id=org.id, title="Hjemmesygeplejerske",
    )  # fmt: skip


async def make_listed_clinic(
    redis: Redis, name: str = "Lægehuset Åbyhøj", ydernummer: str = "400001", **fields: Any
) -> Clinic:
    values: dict[str, Any] = {
        "phone": "+45 86 15 00 00",
        "back_door_phone": BACK_DOOR,
        "address": "Åbyhøjgade 12, 8230 Åbyhøj",
        "opening_hours": ALL_DAY,
    }
    values.update(fields)
    return await create_clinic(redis, name, ydernummer, **values)


async def page(response: ClientResponse) -> str:
    """The page's markup, without the locale strings every page carries for its scripts."""
    body = await response.text()
    return body.split('<script type="application/json" id="strings">')[0]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def iso(ts: float) -> str:
    return local(ts).isoformat(timespec="seconds")


def open_today() -> bool:
    """An all-day clinic is open unless today is a public holiday."""
    return local(now()).date() not in public_holidays()


# ---- who may read it ---------------------------------------------------------------------


async def test_the_directory_needs_a_login(client: Client, redis: Redis) -> None:
    clinic = await make_listed_clinic(redis)
    for path in ("/directory?q=aby", f"/directory/clinics/{clinic.ydernummer}"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/login?next=/directory")
    assert await read_audit(redis) == []


async def test_gps_may_not_read_it(client: Client, redis: Redis) -> None:
    """A GP's own clinic's facts are on its settings page; the directory is for others."""
    clinic = await make_listed_clinic(redis)
    gp = await make_gp(redis, clinic)
    async with browser(client) as session:
        await login(session, gp.username)
        for path in ("/directory?q=aby", f"/directory/clinics/{clinic.ydernummer}"):
            response = await session.get(path)
            assert response.status == 403
            body = await page(response)
            assert "Du har ikke adgang til denne side" in body
            assert BACK_DOOR not in body
    assert await read_audit(redis) == []


async def test_a_staff_member_lands_on_the_directory(client: Client, redis: Redis) -> None:
    nurse = await make_reader(redis)
    async with browser(client) as session:
        response = await session.post(
            "/login",
            data={"username": nurse.username, "password": GP_PASSWORD},
            allow_redirects=False,
        )
        assert response.headers["Location"] == "/directory"
        body = await page(await session.get("/directory"))
    assert 'data-testid="directory-search"' in body
    assert 'data-testid="directory-results"' not in body  # nothing asked, nothing listed


# ---- search ------------------------------------------------------------------------------


async def test_search_by_name_address_or_ydernummer(client: Client, redis: Redis) -> None:
    aby = await make_listed_clinic(redis)
    nord = await make_listed_clinic(
        redis, "Lægerne i Nørregade", "400002", address="Nørregade 1, 1165 København K"
    )
    nurse = await make_reader(redis)
    async with browser(client) as session:
        await login(session, nurse.username)

        async def found(query: str) -> list[str]:
            response = await session.get("/directory", params={"q": query})
            assert response.status == 200
            body = await page(response)
            assert BACK_DOOR not in body  # only on the clinic's own (audited) page
            return [part.split('"')[0] for part in body.split('data-ydernummer="')[1:]]

        assert await found("åbyhøj") == [aby.ydernummer]
        assert await found("AABYHOJ") == [aby.ydernummer]  # case and Danish letters fold
        assert await found("norregade 1165") == [nord.ydernummer]  # address, every word
        assert await found("400002") == [nord.ydernummer]
        assert await found("lægе") == []  # a Cyrillic "е" is not an "e"
        assert sorted(await found("læge")) == sorted([aby.ydernummer, nord.ydernummer])
        none = await page(await session.get("/directory", params={"q": "Skagen"}))
        assert "Ingen klinikker passer på »Skagen«." in none
        link = await page(await session.get("/directory", params={"q": "nørre"}))
        assert f'href="/directory/clinics/{nord.ydernummer}"' in link
    assert await read_audit(redis) == []  # searching is not looking a clinic up


async def test_many_matches_are_cut_short(client: Client, redis: Redis) -> None:
    for n in range(30):
        await make_listed_clinic(redis, f"Lægehuset {n:02d}", f"41{n:04d}")
    nurse = await make_reader(redis)
    async with browser(client) as session:
        await login(session, nurse.username)
        body = await page(await session.get("/directory", params={"q": "lægehuset"}))
    assert body.count('data-testid="directory-result"') == 25
    assert "Viser de første 25 af 30." in body
    assert 'data-total="30"' in body


# ---- a clinic's page ---------------------------------------------------------------------


async def test_staff_see_the_back_door_number_and_the_look_up_is_audited(
    client: Client, redis: Redis
) -> None:
    clinic = await make_listed_clinic(redis)
    nurse = await make_reader(redis)
    before = now()
    async with browser(client) as session:
        await login(session, nurse.username)
        response = await session.get(f"/directory/clinics/{clinic.ydernummer}")
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        body = await page(response)
    assert clinic.name in body
    assert clinic.address in body
    assert f'<a href="tel:+4570112233" data-testid="back-door-phone">{BACK_DOOR}</a>' in body
    assert "Kun til fagpersoner" in body
    reason = "hours" if open_today() else "public_holiday"
    assert f'data-reason="{reason}"' in body
    assert 'data-testid="no-absences"' in body
    assert "00:00-24:00" in body  # today's hours and the week

    [entry] = await read_audit(redis)
    assert entry.action == "directory.viewed"
    assert entry.actor == f"user:{nurse.id}"
    assert entry.data == {
        "organisation_id": nurse.organisation_id,
        "clinic_id": clinic.id,
        "ydernummer": clinic.ydernummer,
        "channel": "web",
    }
    assert before <= entry.at <= now()


async def test_organisation_admins_and_admins_may_read_it_too(client: Client, redis: Redis) -> None:
    clinic = await make_listed_clinic(redis)
    org_admin = await make_reader(redis, UserRole.ORG_ADMIN)
    admin = await make_reader(redis, UserRole.ADMIN)
    for user in (org_admin, admin):
        async with browser(client) as session:
            await login(session, user.username)
            body = await page(await session.get(f"/directory/clinics/{clinic.ydernummer}"))
            assert BACK_DOOR in body
    entries = await read_audit(redis)
    assert [(e.actor, e.data["organisation_id"]) for e in entries] == [
        (f"user:{org_admin.id}", org_admin.organisation_id),
        (f"user:{admin.id}", ""),
    ]


async def test_the_page_shows_the_current_and_next_absence_with_the_substitute(
    client: Client, redis: Redis
) -> None:
    clinic = await make_listed_clinic(redis)
    t = now()
    await add_absence(redis, clinic.id, HOLIDAY, t - 60, t + DAY, NORD, at=t)
    await add_absence(redis, clinic.id, "course", t + 5 * DAY, t + 6 * DAY, VEST, at=t)
    nurse = await make_reader(redis)
    async with browser(client) as session:
        await login(session, nurse.username)
        body = await page(await session.get(f"/directory/clinics/{clinic.ydernummer}"))
        english = await page(
            await session.get(f"/directory/clinics/{clinic.ydernummer}", params={"lang": "en"})
        )
    assert 'data-open="false" data-reason="absence"' in body
    current = body.split('data-testid="current-absence"')[1].split('data-testid="next-absence"')[0]
    assert "Ferie" in current
    assert NORD.name in current and 'href="tel:+4533123456"' in current
    upcoming = body.split('data-testid="next-absence"')[1]
    assert "Kursus" in upcoming and VEST.name in upcoming and VEST.phone in upcoming
    assert "Åbner" in body  # when it is back
    assert "Away now" in english and "Covered by" in english and "Opens" in english


async def test_an_unknown_ydernummer_is_a_404_page(client: Client, redis: Redis) -> None:
    nurse = await make_reader(redis)
    async with browser(client) as session:
        await login(session, nurse.username)
        for ydernummer in ("999999", "abc", "1" * 20):
            response = await session.get(f"/directory/clinics/{ydernummer}")
            assert response.status == 404
            body = await page(response)
            assert "Klinikken findes ikke" in body
        english = await session.get("/directory/clinics/999999", params={"lang": "en"})
        assert "No such clinic" in await page(english)
    assert await read_audit(redis) == []


# ---- the export API ----------------------------------------------------------------------


async def test_the_export_gives_an_organisations_system_the_clinic(
    client: Client, redis: Redis
) -> None:
    clinic = await make_listed_clinic(redis, opening_hours={"mon": [("08:00", "16:00")]})
    t = now()
    away = await add_absence(redis, clinic.id, HOLIDAY, t + DAY, t + 3 * DAY, NORD, at=t)
    org = await create_organisation(redis, "Odense Kommune", "461")
    key = await issue_organisation_key(redis, org.id, "omsorgsjournal")
    response = await client.get(
        f"/api/v1/directory/clinics/{clinic.ydernummer}", headers=bearer(key)
    )
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    next_change = body.pop("next_change")
    assert body == {
        "ydernummer": clinic.ydernummer,
        "name": clinic.name,
        "address": clinic.address,
        "back_door_phone": BACK_DOOR,
        "open_now": body["open_now"],
        "status_reason": body["status_reason"],
        "opening_hours": {
            day: [{"opens": "08:00", "closes": "16:00"}] if day == "mon" else [] for day in WEEKDAYS
        },
        "current_absence": None,
        "next_absence": {
            "id": away.id,
            "kind": "holiday",
            "start": iso(away.start),
            "end": iso(away.end),
            "substitute": {"name": NORD.name, "phone": NORD.phone},
        },
    }
    assert body["status_reason"] in ("hours", "closed", "public_holiday")
    assert body["open_now"] == (body["status_reason"] == "hours")
    changes = datetime.fromisoformat(next_change)
    assert changes.utcoffset() is not None
    assert changes.timestamp() > t

    [entry] = await read_audit(redis)
    assert entry.action == "directory.viewed"
    assert entry.actor == f"organisation:{org.id}"
    assert entry.data == {
        "organisation_id": org.id,
        "clinic_id": clinic.id,
        "ydernummer": clinic.ydernummer,
        "channel": "api",
    }


async def test_the_export_reports_the_current_absence(client: Client, redis: Redis) -> None:
    clinic = await make_listed_clinic(redis)
    t = now()
    await add_absence(redis, clinic.id, HOLIDAY, t - 60, t + DAY, NORD, at=t)
    org = await create_organisation(redis, "Odense Kommune", "461")
    key = await issue_organisation_key(redis, org.id)
    response = await client.get(
        f"/api/v1/directory/clinics/{clinic.ydernummer}", headers=bearer(key)
    )
    body = await response.json()
    assert (body["open_now"], body["status_reason"]) == (False, "absence")
    assert body["current_absence"]["substitute"] == {"name": NORD.name, "phone": NORD.phone}
    assert body["next_absence"] is None
    assert body["next_change"] == iso(t + DAY)  # open all day: back when the absence ends


async def test_the_export_needs_a_valid_organisation_key(client: Client, redis: Redis) -> None:
    clinic = await make_listed_clinic(redis)
    vendor = await create_vendor(redis, "Journal A/S", [clinic.id])
    vendor_key = await issue_api_key(redis, vendor.id)
    nurse = await make_reader(redis)
    path = f"/api/v1/directory/clinics/{clinic.ydernummer}"
    cases: list[tuple[dict[str, str], str]] = [
        ({}, "missing_api_key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing_api_key"),
        (bearer("avo_not-a-real-key"), "invalid_api_key"),
        (bearer(vendor_key), "invalid_api_key"),  # an LPS vendor is not an organisation
    ]
    for headers, code in cases:
        response = await client.get(path, headers=headers)
        assert response.status == 401, headers
        assert response.content_type == PROBLEM
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        body = await response.json()
        assert body["code"] == code
        assert body["status"] == 401
        assert BACK_DOOR not in await response.text()
    async with browser(client) as session:  # a staff member's session is not an API key
        await login(session, nurse.username)
        assert (await session.get(path)).status == 401
    assert await read_audit(redis) == []


async def test_the_export_of_an_unknown_clinic_is_a_404_problem(
    client: Client, redis: Redis
) -> None:
    org = await create_organisation(redis, "Odense Kommune", "461")
    key = await issue_organisation_key(redis, org.id)
    response = await client.get("/api/v1/directory/clinics/999999", headers=bearer(key))
    assert response.status == 404
    assert response.content_type == PROBLEM
    assert (await response.json())["code"] == "unknown_clinic"
    assert await read_audit(redis) == []


# ---- the LPS pushes absences -------------------------------------------------------------


async def vendor_for(redis: Redis, *clinics: Clinic) -> tuple[Vendor, str]:
    vendor = await create_vendor(redis, "Journal A/S", [c.id for c in clinics])
    return vendor, await issue_api_key(redis, vendor.id)


def absence_body(**changes: Any) -> dict[str, Any]:
    t = now()
    body: dict[str, Any] = {
        "kind": "holiday",
        "start": iso(t - 60),
        "end": iso(t + 2 * DAY),
        "substitute": {"name": NORD.name, "phone": NORD.phone},
    }
    body.update(changes)
    return body


async def test_a_pushed_absence_shows_in_the_directory_and_the_waiting_room(
    client: Client, redis: Redis
) -> None:
    b = await book(redis, await make_listed_clinic(redis))
    vendor, key = await vendor_for(redis, b.clinic)
    path = f"/api/v1/clinics/{b.clinic.ydernummer}/absences"
    sent = absence_body()
    response = await client.post(path, json=sent, headers=bearer(key))
    assert response.status == 201, await response.text()
    created = await response.json()
    [stored] = await list_absences(redis, b.clinic.id)
    assert created == {"id": stored.id, **sent}
    assert response.headers["Location"] == f"{path}/{stored.id}"
    assert stored.substitute == NORD

    listed = await (await client.get(path, headers=bearer(key))).json()
    assert listed == {"ydernummer": b.clinic.ydernummer, "absences": [created]}

    # The waiting room: the patient is sent to the substitute and cannot queue.
    state = await absence_stops_queueing(redis, b.clinic, b.consultation)
    assert state is not None and state.substitute == NORD
    patient_page = await page(await client.get(f"/j/{b.link}"))
    assert 'data-reason="absent"' in patient_page and NORD.phone in patient_page

    # The directory.
    nurse = await make_reader(redis)
    async with browser(client) as session:
        await login(session, nurse.username)
        body = await page(await session.get(f"/directory/clinics/{b.clinic.ydernummer}"))
    assert 'data-reason="absence"' in body
    assert NORD.name in body

    added = [e for e in await read_audit(redis) if e.action == "absence.added"]
    assert [(e.actor, e.data) for e in added] == [
        (
            f"vendor:{vendor.id}",
            {"clinic_id": b.clinic.id, "absence_id": stored.id, "channel": "api"},
        )
    ]
    events = [(kind, data) for _, kind, data in await read_events(redis)]
    assert (
        "absence.added",
        {"clinic_id": b.clinic.id, "absence_id": stored.id, "vendor": vendor.id},
    ) in events


async def test_a_vendor_removes_an_absence(client: Client, redis: Redis) -> None:
    clinic = await make_listed_clinic(redis)
    vendor, key = await vendor_for(redis, clinic)
    path = f"/api/v1/clinics/{clinic.ydernummer}/absences"
    created = await (await client.post(path, json=absence_body(), headers=bearer(key))).json()
    removed = await client.delete(f"{path}/{created['id']}", headers=bearer(key))
    assert removed.status == 204
    assert await list_absences(redis, clinic.id) == []
    again = await client.delete(f"{path}/{created['id']}", headers=bearer(key))
    assert again.status == 404
    assert (await again.json())["code"] == "unknown_absence"
    entries = [(e.action, e.actor) for e in await read_audit(redis)]
    assert entries == [
        ("absence.added", f"vendor:{vendor.id}"),
        ("absence.removed", f"vendor:{vendor.id}"),
    ]


async def test_a_vendor_touches_only_the_clinics_it_serves(client: Client, redis: Redis) -> None:
    ours = await make_listed_clinic(redis)
    theirs = await make_listed_clinic(redis, "Lægehuset Syd", "400009")
    _, key = await vendor_for(redis, ours)
    t = now()
    foreign = await add_absence(redis, theirs.id, HOLIDAY, t, t + DAY, VEST, at=t)
    base = f"/api/v1/clinics/{theirs.ydernummer}/absences"
    for method, path, body in (
        ("GET", base, None),
        ("POST", base, absence_body()),
        ("DELETE", f"{base}/{foreign.id}", None),
    ):
        response = await client.request(method, path, json=body, headers=bearer(key))
        assert response.status == 403, (method, path)
        assert response.content_type == PROBLEM
        assert (await response.json())["code"] == "clinic_not_served"
    # Nor through its own clinic's address.
    sneaky = f"/api/v1/clinics/{ours.ydernummer}/absences/{foreign.id}"
    assert (await client.delete(sneaky, headers=bearer(key))).status == 404
    assert await list_absences(redis, theirs.id) == [foreign]

    unknown = await client.get("/api/v1/clinics/999999/absences", headers=bearer(key))
    assert (unknown.status, (await unknown.json())["code"]) == (404, "unknown_clinic")
    no_key = await client.get(f"/api/v1/clinics/{ours.ydernummer}/absences")
    assert (no_key.status, (await no_key.json())["code"]) == (401, "missing_api_key")
    org = await create_organisation(redis, "Odense Kommune", "461")
    org_key = await issue_organisation_key(redis, org.id)
    wrong = await client.get(f"/api/v1/clinics/{ours.ydernummer}/absences", headers=bearer(org_key))
    assert (wrong.status, (await wrong.json())["code"]) == (401, "invalid_api_key")


async def test_invalid_absences_are_refused_with_field_errors(client: Client, redis: Redis) -> None:
    clinic = await make_listed_clinic(redis)
    _, key = await vendor_for(redis, clinic)
    path = f"/api/v1/clinics/{clinic.ydernummer}/absences"
    t = now()
    local_start = local(t + DAY).replace(tzinfo=None).isoformat(timespec="seconds")
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"kind": "strike"}, "kind", "kind"),
        ({"kind": None}, "kind", "string_type"),
        ({"start": local_start}, "start", "timezone_aware"),
        ({"start": "tomorrow"}, "start", "datetime_from_date_parsing"),
        ({"end": iso(t - DAY), "start": iso(t - 2 * DAY)}, "end", "absence_past"),
        ({"start": iso(t + 3 * DAY), "end": iso(t + 2 * DAY)}, "end", "absence_order"),
        ({"end": iso(t + 400 * DAY)}, "end", "absence_long"),
        ({"substitute": {"name": " ", "phone": NORD.phone}}, "substitute.name", "substitute_name"),
        ({"substitute": {"name": "X", "phone": "ring"}}, "substitute.phone", "phone"),
        ({"substitute": {"name": "X"}}, "substitute.phone", "missing"),
        ({"note": "hi"}, "note", "extra_forbidden"),
    ]
    for change, field, code in cases:
        response = await client.post(path, json=absence_body(**change), headers=bearer(key))
        assert response.status == 422, change
        assert response.content_type == PROBLEM
        body = await response.json()
        assert body["code"] == "invalid_body"
        assert {"field": field, "code": code} in [
            {"field": e["field"], "code": e["code"]} for e in body["errors"]
        ], (change, body["errors"])
    no_end = absence_body()
    del no_end["end"]
    missing = await (await client.post(path, json=no_end, headers=bearer(key))).json()
    assert {"field": "end", "code": "missing"} in [
        {"field": e["field"], "code": e["code"]} for e in missing["errors"]
    ]
    not_json = await client.post(path, data=b"{kind:", headers=bearer(key))
    # Not JSON at all is 400 `malformed`, as everywhere (docs/integration-guide.md#errors).
    assert (not_json.status, (await not_json.json())["code"]) == (400, "malformed")
    assert await list_absences(redis, clinic.id) == []
    assert await read_audit(redis) == []
