"""The clinic's settings page, and what patients meet when the clinic is closed or absent."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from aiohttp import ClientResponse, ClientSession

from server.clock import local, now
from server.demo import ensure_demo
from server.pages.patient import TERMS_VERSION
from server.pages.render import format_time
from server.pilots.issuing import Period
from server.settings import Settings
from server.store.absences import HOLIDAY, Substitute, add_absence, list_absences
from server.store.clinics import Clinic, create_clinic, get_clinic, issue_dropin_link
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation, update_consultation
from server.store.events import read_events
from server.store.invoices import issue
from server.store.subscriptions import set_capacities, set_price, set_vendor
from server.store.vendors import create_vendor
from server.waitingroom.hours import WEEKDAYS
from tests.integration.helpers import Client, book, browser, login, make_gp, origin
from tests.unit.factories import make_clinic

JOIN = {"name": "Karen Jensen", "accepted_terms": TERMS_VERSION}
NORD = Substitute("Lægerne i Nørregade", "+45 33 12 34 56")
DAY = 86400.0
ALL_DAY = {day: [("00:00", "24:00")] for day in WEEKDAYS}


def settings_form(**changes: str) -> dict[str, str]:
    form = {f"hours_{day}": "" for day in WEEKDAYS}
    form.update(
        phone="+45 86 15 00 99",
        hours_mon="08:00-09:00, 13.00-14.00",
        hours_fri="8:00-9:30",
        wait_limit_minutes="15",
        wait_alert_minutes="5",
    )
    form.update(changes)
    return form


def local_input(ts: float) -> str:
    """What a `datetime-local` input sends: Copenhagen wall clock, to the minute."""
    return local(ts).strftime("%Y-%m-%dT%H:%M")


def absence_form(**changes: str) -> dict[str, str]:
    t = now()
    form = {
        "kind": "holiday",
        "start": local_input(t - 3600),
        "end": local_input(t + 2 * DAY),
        "substitute_name": NORD.name,
        "substitute_phone": NORD.phone,
    }
    form.update(changes)
    return form


async def html(response: ClientResponse) -> str:
    """The page's markup, without the locale strings every page carries for its scripts."""
    body = await response.text()
    return body.split('<script type="application/json" id="strings">')[0]


async def types_of(redis: Redis) -> list[tuple[str, dict[str, object]]]:
    return [(kind, data) for _, kind, data in await read_events(redis)]


async def post(session: ClientSession, path: str, data: dict[str, str], **headers: str) -> Any:
    return await session.post(path, data=data, allow_redirects=False, headers=headers)


# ---- the door ----------------------------------------------------------------------------


async def test_settings_need_a_logged_in_gp(client: Client, redis: Redis) -> None:
    clinic = await make_clinic(redis)
    response = await client.get("/clinic/settings", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login?next=/clinic/settings"
    for path, form in (("/clinic/settings", settings_form()), ("/clinic/absences", absence_form())):
        refused = await client.post(path, data=form, allow_redirects=False)
        assert refused.status == 303
        assert refused.headers["Location"].startswith("/login")
    assert await get_clinic(redis, clinic.id) == clinic
    assert await list_absences(redis, clinic.id) == []
    assert await read_events(redis) == []


async def test_login_leads_back_to_the_settings(client: Client, redis: Redis) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    response = await client.post(
        "/login",
        data={
            "username": gp.username,
            "password": "rugbrød-og-kaffe-42",
            "next": "/clinic/settings",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/clinic/settings"


async def test_a_gp_sees_only_their_own_clinic(client: Client, redis: Redis) -> None:
    ours = await create_clinic(redis, "Lægehuset Vest", "300001", "+45 11 11 11 11")
    theirs = await create_clinic(redis, "Lægehuset Øst", "300002", "+45 22 22 22 22")
    gp = await make_gp(redis, ours)
    t = now()
    foreign = await add_absence(redis, theirs.id, HOLIDAY, t, t + DAY, NORD, at=t)
    async with browser(client) as session:
        await login(session, gp.username)
        page = await session.get("/clinic/settings")
        assert page.status == 200
        body = await html(page)
        assert "Lægehuset Vest" in body
        assert 'value="+45 11 11 11 11"' in body
        assert "Lægehuset Øst" not in body
        assert foreign.id not in body
        # Another clinic's absence cannot be removed by guessing its id.
        response = await post(session, f"/clinic/absences/{foreign.id}/remove", {})
        assert response.status == 303
        assert response.headers["Location"] == "/clinic/settings?done=gone"
    assert await list_absences(redis, theirs.id) == [foreign]
    assert await read_events(redis) == []


async def test_cross_site_posts_are_refused(client: Client, redis: Redis) -> None:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    async with browser(client) as session:
        await login(session, gp.username)
        evil = {"Origin": "https://evil.example"}
        assert (await post(session, "/clinic/settings", settings_form(), **evil)).status == 403
        assert (await post(session, "/clinic/absences", absence_form(), **evil)).status == 403
    assert await get_clinic(redis, clinic.id) == clinic
    assert await list_absences(redis, clinic.id) == []


# ---- settings ----------------------------------------------------------------------------


async def test_the_settings_form_shows_the_current_values(client: Client, redis: Redis) -> None:
    clinic = await create_clinic(
        redis, "Lægehuset Vest", "300003", "+45 11 11 11 11",
        {"tue": [("08:00", "09:00"), ("13:00", "14:00")]}, wait_limit_minutes=20,
    )  # fmt: skip
    gp = await make_gp(redis, clinic)
    async with browser(client) as session:
        await login(session, gp.username)
        body = await html(await session.get("/clinic/settings"))
    assert 'name="hours_tue" maxlength="100" value="08:00-09:00, 13:00-14:00"' in body
    assert 'name="wait_limit_minutes"' in body and 'value="20"' in body
    assert 'value="10"' in body  # the default wait alert
    assert 'action="/clinic/absences"' in body
    assert "Der er ikke registreret noget fravær." in body
    # A day left empty is closed, and says so; no greyed-out example looks like real hours.
    assert 'name="hours_mon" maxlength="100" value="" placeholder="Lukket"' in body
    assert not re.search(r'placeholder="[^"]*\d\d:\d\d', body)
    # One label for the way back to the console.
    assert '<a href="/console" data-testid="console-link">Tilbage til venteværelset</a>' in body


async def test_valid_settings_are_saved(client: Client, redis: Redis) -> None:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    async with browser(client) as session:
        await login(session, gp.username)
        response = await post(session, "/clinic/settings", settings_form(), Origin=origin(client))
        assert response.status == 303
        assert response.headers["Location"] == "/clinic/settings?done=saved"
        page = await session.get("/clinic/settings?done=saved")
        assert "Indstillingerne er gemt." in await html(page)
    saved = await get_clinic(redis, clinic.id)
    assert saved is not None
    assert saved.phone == "+45 86 15 00 99"
    assert saved.dropin_hours == {
        "mon": [("08:00", "09:00"), ("13:00", "14:00")],
        "fri": [("08:00", "09:30")],
    }
    assert (saved.wait_limit_minutes, saved.wait_alert_minutes) == (15, 5)
    assert (saved.name, saved.ydernummer) == (clinic.name, clinic.ydernummer)
    assert await types_of(redis) == [("clinic.updated", {"clinic_id": clinic.id, "by": gp.id})]


async def test_saving_nothing_new_appends_no_event(client: Client, redis: Redis) -> None:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    async with browser(client) as session:
        await login(session, gp.username)
        await post(session, "/clinic/settings", settings_form())
        await post(session, "/clinic/settings", settings_form())
    assert [kind for kind, _ in await types_of(redis)] == ["clinic.updated"]


async def test_invalid_settings_are_shown_again_with_what_is_wrong(
    client: Client, redis: Redis
) -> None:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    bad = settings_form(
        phone="12",
        hours_tue="9-8",
        hours_wed="08:00-10:00, 09:00-11:00",
        hours_thu="11:00-10:00",
        wait_limit_minutes="-1",
        wait_alert_minutes="241",
    )
    async with browser(client) as session:
        await login(session, gp.username)
        response = await post(session, "/clinic/settings", bad)
        assert response.status == 400
        body = await html(response)
        assert 'data-testid="settings-errors"' in body
        assert "Skriv et telefonnummer med mindst 8 cifre" in body
        assert "Skriv tiderne som 08:00-12:00" in body
        assert "To tidsrum overlapper hinanden." in body
        assert "Et tidsrum skal slutte, efter det begynder." in body
        assert "Skriv et helt antal minutter fra 0 til 240." in body
        assert "Skriv et helt antal minutter fra 1 til 240." in body
        assert 'value="9-8"' in body  # what was typed is kept
        assert 'aria-invalid="true"' in body

        no_alert = await post(session, "/clinic/settings", settings_form(wait_alert_minutes="0"))
        assert no_alert.status == 400  # no wait limit is 0, but the alert always has one
        assert 'data-testid="wait_alert_minutes-error"' in await html(no_alert)

        session.cookie_jar.update_cookies({"av_lang": "en"})
        english = await html(await post(session, "/clinic/settings", bad))
        assert "Enter a phone number with at least 8 digits" in english
        assert "Two spans overlap." in english
    assert await get_clinic(redis, clinic.id) == clinic
    assert await read_events(redis) == []


async def test_the_demo_clinic_has_a_wait_limit(
    client: Client, redis: Redis, settings: Settings
) -> None:
    demo = await ensure_demo(redis, settings)
    clinic = await get_clinic(redis, demo["clinic_id"])
    assert clinic is not None
    assert (clinic.wait_limit_minutes, clinic.wait_alert_minutes) == (15, 10)
    assert await list_absences(redis, clinic.id) == []


# ---- absences ----------------------------------------------------------------------------


async def test_add_and_remove_an_absence(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with browser(client) as session:
        await login(session, b.gp.username)
        response = await post(session, "/clinic/absences", absence_form(), Origin=origin(client))
        assert response.status == 303
        assert response.headers["Location"] == "/clinic/settings?done=added"
        [absence] = await list_absences(redis, b.clinic.id)
        assert absence.kind == HOLIDAY
        assert absence.substitute == NORD
        page = await html(await session.get("/clinic/settings?done=added"))
        assert "Fraværet er tilføjet." in page
        assert NORD.name in page
        assert f'action="/clinic/absences/{absence.id}/remove"' in page
        assert 'data-reason="absent"' in page  # the status line says so

        # The patient is sent to the substitute.
        patient_page = await client.get(f"/j/{b.link}")
        assert NORD.phone in await html(patient_page)

        removed = await post(session, f"/clinic/absences/{absence.id}/remove", {})
        assert removed.headers["Location"] == "/clinic/settings?done=removed"
        again = await post(session, f"/clinic/absences/{absence.id}/remove", {})
        assert again.headers["Location"] == "/clinic/settings?done=gone"
    assert await list_absences(redis, b.clinic.id) == []
    ids = {"clinic_id": b.clinic.id, "absence_id": absence.id, "by": b.gp.id}
    assert await types_of(redis) == [("absence.added", ids), ("absence.removed", ids)]
    assert 'data-testid="join"' in await html(await client.get(f"/j/{b.link}"))


async def test_invalid_absences_are_refused_with_reasons(client: Client, redis: Redis) -> None:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    t = now()
    cases = [
        ({"kind": "strike"}, "Vælg en type fravær."),
        ({"start": "i morgen"}, "Vælg dato og klokkeslæt."),
        ({"end": ""}, "Vælg dato og klokkeslæt."),
        ({"end": local_input(t - DAY)}, "Tidspunktet er allerede passeret."),
        (
            {"start": local_input(t + 3 * DAY), "end": local_input(t + 2 * DAY)},
            "Fraværet skal slutte, efter det begynder.",
        ),
        ({"end": local_input(t + 400 * DAY)}, "Et fravær kan højst vare et år."),
        ({"substitute_name": "  "}, "Skriv navnet på den klinik"),
        ({"substitute_phone": "ring til os"}, "Skriv et telefonnummer med mindst 8 cifre"),
    ]
    async with browser(client) as session:
        await login(session, gp.username)
        for change, message in cases:
            response = await post(session, "/clinic/absences", absence_form(**change))
            assert response.status == 400, change
            body = await html(response)
            assert 'data-testid="absence-errors"' in body
            assert message in body, change
            assert NORD.name in body or "substitute_name" in change  # typed values kept
    assert await list_absences(redis, clinic.id) == []
    assert await read_events(redis) == []


async def test_an_absence_is_entered_in_copenhagen_time(client: Client, redis: Redis) -> None:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    start = local(now()).replace(second=0, microsecond=0) + timedelta(days=3)
    async with browser(client) as session:
        await login(session, gp.username)
        form = absence_form(
            start=start.strftime("%Y-%m-%dT%H:%M"), end=local_input(now() + 9 * DAY)
        )
        assert (await post(session, "/clinic/absences", form)).status == 303
    [absence] = await list_absences(redis, clinic.id)
    assert absence.start == start.timestamp()


# ---- what patients meet -------------------------------------------------------------------


async def absent(redis: Redis, clinic: Clinic) -> float:
    """Make the clinic absent from a minute ago for a day; returns when it is back."""
    t = now()
    absence = await add_absence(redis, clinic.id, HOLIDAY, t - 60, t + DAY, NORD, at=t)
    return absence.end


async def test_an_absent_clinics_patient_link_shows_the_substitute(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    back = await absent(redis, b.clinic)
    page = await client.get(f"/j/{b.link}")
    # 200: the link is fine and works again when the clinic is back; the page explains.
    assert page.status == 200
    body = await html(page)
    assert 'data-testid="closed"' in body
    assert 'data-reason="absent"' in body
    assert "Klinikken holder ferie" in body
    assert NORD.name in body
    assert f'href="tel:+4533123456">{NORD.phone}</a>' in body
    assert format_time(back, "da") in body
    assert 'data-testid="join"' not in body
    assert "data-join-url" not in body

    english = await html(await client.get(f"/j/{b.link}?lang=en"))
    assert "The clinic is on holiday" in english

    refused = await client.post(f"/j/{b.link}/join", json=JOIN)
    assert refused.status == 409
    body_json = await refused.json()
    assert body_json["code"] == "clinic_absent"
    assert body_json["substitute"] == {"name": NORD.name, "phone": NORD.phone}
    assert NORD.phone in body_json["detail"]
    assert body_json["until"].endswith("Z")
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None
    assert c.patient_participant == ""  # not seated, not queued


async def test_a_call_under_way_is_not_cut_off_by_an_absence(client: Client, redis: Redis) -> None:
    b = await book(redis)
    await update_consultation(redis, b.consultation, status=Status.IN_CALL)
    await absent(redis, b.clinic)
    body = await html(await client.get(f"/j/{b.link}"))
    assert f'data-join-url="/j/{b.link}/join"' in body


async def test_a_past_absence_does_not_close_the_link(client: Client, redis: Redis) -> None:
    b = await book(redis)
    t = now()
    await add_absence(redis, b.clinic.id, HOLIDAY, t - 2 * DAY, t - DAY, NORD, at=t - 3 * DAY)
    body = await html(await client.get(f"/j/{b.link}"))
    assert 'data-testid="join"' in body


async def test_an_absent_clinics_dropin_link_shows_the_substitute(
    client: Client, redis: Redis
) -> None:
    clinic = await create_clinic(redis, "Lægehuset Åben", "300004", "+45 70 00 00 01", ALL_DAY)
    token = await issue_dropin_link(redis, clinic.id)
    await absent(redis, clinic)
    page = await client.get(f"/d/{token}")
    assert page.status == 200
    body = await html(page)
    assert 'data-reason="absent"' in body
    assert NORD.name in body
    assert 'data-mode="dropin"' not in body
    refused = await client.post(f"/d/{token}/join", json=JOIN)
    assert refused.status == 409
    assert (await refused.json())["code"] == "clinic_absent"
    assert (await refused.json())["substitute"]["phone"] == NORD.phone


async def test_dropin_outside_hours_says_when_it_opens(client: Client, redis: Redis) -> None:
    tomorrow = local(now()) + timedelta(days=1)
    hours = {WEEKDAYS[tomorrow.weekday()]: [("10:00", "11:00")]}
    clinic = await create_clinic(redis, "Lægehuset Lukket", "300005", "+45 70 00 00 02", hours)
    token = await issue_dropin_link(redis, clinic.id)
    page = await client.get(f"/d/{token}")
    assert page.status == 200
    body = await html(page)
    assert 'data-reason="closed"' in body
    assert "+45 70 00 00 02" in body
    opens = tomorrow.replace(hour=10, minute=0, second=0, microsecond=0).timestamp()
    assert format_time(opens, "da") in body
    assert 'data-testid="next-open"' in body
    refused = await client.post(f"/d/{token}/join", json=JOIN)
    assert refused.status == 409
    assert (await refused.json())["code"] == "clinic_closed"
    assert (await refused.json())["phone"] == "+45 70 00 00 02"


# ---- what professionals see: back-door number, address, opening hours --------------------


async def test_back_door_address_and_opening_hours_are_saved(client: Client, redis: Redis) -> None:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    form = settings_form(
        back_door_phone="+45 86 15 00 11",
        address="Åbyhøjgade 12, 8230 Åbyhøj",
        opening_mon="08:00-16:00",
        opening_tue="8.00-12.00, 13:00-16:00",
    )
    async with browser(client) as session:
        await login(session, gp.username)
        assert (await post(session, "/clinic/settings", form)).status == 303
        body = await html(await session.get("/clinic/settings"))
    saved = await get_clinic(redis, clinic.id)
    assert saved is not None
    assert saved.back_door_phone == "+45 86 15 00 11"
    assert saved.address == "Åbyhøjgade 12, 8230 Åbyhøj"
    assert saved.opening_hours == {
        "mon": [("08:00", "16:00")],
        "tue": [("08:00", "12:00"), ("13:00", "16:00")],
    }
    assert saved.dropin_hours == {  # the video hours are their own
        "mon": [("08:00", "09:00"), ("13:00", "14:00")],
        "fri": [("08:00", "09:30")],
    }
    assert 'name="back_door_phone" type="tel" maxlength="100" value="+45 86 15 00 11"' in body
    assert 'value="Åbyhøjgade 12, 8230 Åbyhøj"' in body
    assert 'name="opening_tue" maxlength="100" value="08:00-12:00, 13:00-16:00"' in body
    assert "Det vises aldrig for patienter" in body


async def test_back_door_and_address_may_be_left_empty(client: Client, redis: Redis) -> None:
    clinic = await create_clinic(
        redis, "Lægehuset Vest", "300006", "+45 11 11 11 11",
        back_door_phone="+45 11 11 11 12", address="Vestergade 1, 8000 Aarhus C",
    )  # fmt: skip
    gp = await make_gp(redis, clinic)
    async with browser(client) as session:
        await login(session, gp.username)
        form = settings_form(back_door_phone="", address="")
        assert (await post(session, "/clinic/settings", form)).status == 303
    saved = await get_clinic(redis, clinic.id)
    assert saved is not None
    assert (saved.back_door_phone, saved.address, saved.opening_hours) == ("", "", {})


async def test_invalid_back_door_address_or_opening_hours_are_refused(
    client: Client, redis: Redis
) -> None:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    bad = settings_form(
        back_door_phone="bagdøren",
        address="Nørregade 1\n1165 København K",
        opening_wed="16:00-08:00",
        opening_thu="morgen",
    )
    async with browser(client) as session:
        await login(session, gp.username)
        response = await post(session, "/clinic/settings", bad)
        assert response.status == 400
        body = await html(response)
        assert 'data-testid="back_door_phone-error"' in body
        assert 'data-testid="address-error"' in body and "Skriv adressen på én linje." in body
        assert 'data-testid="opening_wed-error"' in body
        assert 'data-testid="opening_thu-error"' in body
        assert 'value="bagdøren"' in body and 'value="morgen"' in body  # what was typed is kept
        session.cookie_jar.update_cookies({"av_lang": "en"})
        english = await html(await post(session, "/clinic/settings", bad))
        assert "Write the address on one line." in english
    assert await get_clinic(redis, clinic.id) == clinic
    assert await read_events(redis) == []


async def test_the_console_says_the_clinic_is_absent_while_patients_are_sent_away(
    client: Client, redis: Redis
) -> None:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    async with browser(client) as session:
        await login(session, gp.username)
        assert 'data-testid="absent-notice"' not in await html(await session.get("/console"))
        t = now()
        await add_absence(redis, clinic.id, HOLIDAY, t - 60, t + 86400, NORD, at=t)
        body = await html(await session.get("/console"))
    assert 'data-testid="absent-notice"' in body
    assert "Klinikken er registreret som fraværende" in body
    assert format_time(t + 86400, "da") in body
    assert NORD.name in body and NORD.phone in body
    assert 'href="/clinic/settings#absences"' in body


async def test_a_clinic_sees_its_own_issued_invoice_lines_and_coming_prices(
    client: Client, redis: Redis
) -> None:
    ours, theirs = await make_clinic(redis), await make_clinic(redis, "Lægerne i Brabrand")
    vendor = await create_vendor(redis, "Journal A/S", [])
    for clinic, capacities in ((ours, 2), (theirs, 5)):
        await set_capacities(redis, "test", clinic.id, date(2023, 1, 1), capacities)
        await set_vendor(redis, "test", clinic.id, date(2023, 1, 1), vendor.id)
    before = await html_of(client, await make_gp(redis, ours))
    assert 'data-testid="no-clinic-invoices"' in before
    await issue(redis, "test", Period.parse("2026Q1"))
    coming = (local(now()).date().replace(day=1) + timedelta(days=40)).replace(day=1)
    await set_price(redis, "test", coming, 12_500)
    page = await html_of(client, await make_gp(redis, ours))
    assert page.count('data-testid="clinic-invoice-line"') == 1
    assert 'data-testid="clinic-line-amount">720,00 kr<' in page  # not the other's 1.800,00
    assert "1.800,00" not in page
    assert "ekskl. moms" in page and "125,00 kr" in page


async def html_of(client: Client, gp: Any) -> str:
    async with browser(client) as session:
        await login(session, gp.username)
        response = await session.get("/clinic/settings")
        assert response.status == 200
        return await response.text()
