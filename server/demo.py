"""The demo clinic: created once, refreshed on every run.

Secrets are stored only as hashes, so each run issues fresh ones for the same objects: a new
GP password, a new LPS API key (the previous demo key is revoked) and a new patient link
(the previous link is revoked). The clinic, GP, vendor and consultation are made only once;
the consultation is replaced when it has ended or its link window has closed.

Beside the clinic: a platform admin, a municipality (Københavns Kommune, 101) with its
organisation admin and a home-care nurse, each with a fresh password on every run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from server.accounts import CLI, add_organisation, ensure_account, new_password
from server.auth.tokens import token_hash
from server.clock import local_day, now
from server.consultations.linkrules import LinkState, link_state
from server.consultations.links import issue_link
from server.honoraria.enrolment import enrol_gp
from server.settings import Settings
from server.store import decoded, keys
from server.store.clinics import create_clinic, get_clinic, issue_dropin_link, save_clinic
from server.store.connection import Redis
from server.store.consultations import Kind, create_consultation, get_consultation
from server.store.honoraria import create_programme, get_enrolment, get_programme
from server.store.organisations import Organisation, get_organisation, organisation_by_code
from server.store.subscriptions import capacity_history, set_capacities, set_vendor, vendor_history
from server.store.users import UserRole, create_user, set_password
from server.store.vendors import (
    create_vendor,
    issue_api_key,
    list_api_keys,
    revoke_api_key,
    set_vendor_origins,
)

CLINIC_NAME = "Lægehuset Demo"
CLINIC_YDERNUMMER = "099999"
CLINIC_PHONE = "+45 70 20 30 40"
GP_USERNAME = "demo-gp"
WAIT_LIMIT_MINUTES = 15
WAIT_ALERT_MINUTES = 10
ADMIN_USERNAME = "demo-admin"
ORGANISATION_NAME = "Københavns Kommune"
ORGANISATION_CODE = "101"
ORG_ADMIN_USERNAME = "demo-kommune-admin"
STAFF_USERNAME = "demo-sygeplejerske"
# The LPS simulator that scripts/run-demo starts: the demo vendor's page that frames the GP.
SIMULATOR_ORIGIN = "http://127.0.0.1:8090"
# The demo pilot programme's rules, in øre: onboarding 2.000 kr, 300 kr per reviewed AI
# draft, 500 kr per evaluation questionnaire, at most 10.000 kr per GP.
DEMO_HONORARIA = {
    "onboarding": 200_000, "per_consultation": 30_000, "per_questionnaire": 50_000,
    "cap": 1_000_000,
}  # fmt: skip
ALL_DAY = {day: [("00:00", "24:00")] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SUBSCRIBED_SINCE = date(2023, 1, 1)  # the PLSP subscription: 2 GP capacities, via Demo LPS
CAPACITIES = 2


async def ensure_demo(redis: Redis, settings: Settings) -> dict[str, Any]:
    state = decoded.fields(await redis.hgetall(keys.demo()))
    clinic = await get_clinic(redis, state["clinic_id"]) if "clinic_id" in state else None
    if clinic is None:
        clinic = await create_clinic(
            redis,
            CLINIC_NAME,
            CLINIC_YDERNUMMER,
            CLINIC_PHONE,
            dropin_hours=ALL_DAY,
            wait_limit_minutes=WAIT_LIMIT_MINUTES,
            wait_alert_minutes=WAIT_ALERT_MINUTES,
        )
        state["clinic_id"] = clinic.id
    if not clinic.notetaker_pilot:  # the demo shows the note-taker (pocketsphinx, English)
        clinic = replace(clinic, notetaker_pilot=True)
        await save_clinic(redis, clinic)

    password = new_password()
    if "gp_user_id" in state:
        await set_password(redis, state["gp_user_id"], password)
    else:
        gp = await create_user(
            redis, GP_USERNAME, password, "Dr. Demo Hansen", UserRole.GP, clinic.id
        )
        state["gp_user_id"] = gp.id

    if "vendor_id" not in state:
        state["vendor_id"] = (await create_vendor(redis, "Demo LPS", [])).id  # serves below
    await set_vendor_origins(redis, state["vendor_id"], [SIMULATOR_ORIGIN])
    for old in await list_api_keys(redis, state["vendor_id"]):
        await revoke_api_key(redis, state["vendor_id"], old.id)
    api_key = await issue_api_key(redis, state["vendor_id"], label="demo")
    await _ensure_subscription(redis, clinic.id, state["vendor_id"])

    c = (
        await get_consultation(redis, state["consultation_id"])
        if "consultation_id" in state
        else None
    )
    if c is None or link_state(c, c.link_hash, False, now()) is not LinkState.OK:
        start = (int(now()) // 60 + 5) * 60
        c = await create_consultation(
            redis, clinic.id, Kind.SCHEDULED, scheduled_start=start, duration_minutes=15,
            practitioner_id=state["gp_user_id"], patient_ref="demo-patient",
        )  # fmt: skip
        state["consultation_id"] = c.id
    link, c = await issue_link(redis, c)
    dropin = await issue_dropin_link(redis, clinic.id)
    if "dropin_hash" in state:
        await redis.delete(keys.dropin_link(state["dropin_hash"]))
    state["dropin_hash"] = token_hash(dropin)

    await _ensure_programme(redis, state)
    org = await _ensure_organisation(redis, state)
    await redis.hset(keys.demo(), mapping=decoded.writable(state))
    base = settings.public_base_url
    return {
        "base_url": base,
        "clinic_id": clinic.id,
        "ydernummer": clinic.ydernummer,
        "gp": {"username": GP_USERNAME, "password": password},
        "api_key": api_key,
        "vendor_id": state["vendor_id"],
        "consultation_id": c.id,
        "patient_url": f"{base}/j/{link}",
        "dropin_url": f"{base}/d/{dropin}",
        "clinician_url": f"{base}/console",
        "organisation_id": org.id,
        **await _ensure_organisation_people(redis, org),
    }


async def _ensure_subscription(redis: Redis, clinic_id: str, vendor_id: str) -> None:
    """The demo clinic's PLSP subscription, recorded once (a later run leaves any changes an
    admin made on the subscriptions page as they are)."""
    if SUBSCRIBED_SINCE not in await capacity_history(redis, clinic_id):
        await set_capacities(redis, CLI, clinic_id, SUBSCRIBED_SINCE, CAPACITIES)
    if SUBSCRIBED_SINCE not in await vendor_history(redis, clinic_id):
        await set_vendor(redis, CLI, clinic_id, SUBSCRIBED_SINCE, vendor_id)


async def _ensure_programme(redis: Redis, state: dict[str, str]) -> None:
    """The note-taker pilot programme of this year with the demo GP enrolled, made once.
    It is named after the current year so that demo calls held today accrue honoraria."""
    programme = (
        await get_programme(redis, state["programme_id"]) if "programme_id" in state else None
    )
    if programme is None:
        year = local_day(now())[:4]
        programme = await create_programme(
            redis, f"AI-notatassistent {year}", f"{year}-01-01", f"{year}-12-31",
            "pilot_honoraria", DEMO_HONORARIA, CLI,
        )  # fmt: skip
        state["programme_id"] = programme.id
    if await get_enrolment(redis, programme.id, state["gp_user_id"]) is None:
        await enrol_gp(redis, programme, state["gp_user_id"], programme.starts, programme.ends, CLI)


async def _ensure_organisation(redis: Redis, state: dict[str, str]) -> Organisation:
    """The demo municipality, or the one already known by its code."""
    org = (
        await get_organisation(redis, state["organisation_id"])
        if "organisation_id" in state
        else None
    )
    org = org or await organisation_by_code(redis, ORGANISATION_CODE)
    if org is None:
        org = await add_organisation(redis, CLI, ORGANISATION_NAME, ORGANISATION_CODE)
    state["organisation_id"] = org.id
    return org


async def _ensure_organisation_people(redis: Redis, org: Organisation) -> dict[str, Any]:
    """The platform admin, the municipality's admin and a nurse: made once, and given fresh
    passwords on every run (which also ends their open sessions)."""
    people = {
        "admin": await ensure_account(
            redis, CLI, ADMIN_USERNAME, "Demo Administrator", UserRole.ADMIN
        ),
        "org_admin": await ensure_account(
            redis, CLI, ORG_ADMIN_USERNAME, "Kim Kommune", UserRole.ORG_ADMIN, org.id
        ),
        "staff": await ensure_account(
            redis,
            CLI,
            STAFF_USERNAME,
            "Sara Sygeplejerske",
            UserRole.STAFF,
            org.id,
            "Hjemmesygeplejerske",
        ),
    }
    return {
        name: {"username": account.user.username, "password": account.password}
        for name, account in people.items()
    }
