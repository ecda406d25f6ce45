"""The clinic's open video hour: a shared link where each visitor gets a consultation."""

from __future__ import annotations

from server.consultations.links import resolve_link
from server.demo import ALL_DAY
from server.pages.patient import TERMS_VERSION
from server.store.clinics import create_clinic, issue_dropin_link
from server.store.connection import Redis
from server.store.consultations import Kind, get_consultation
from tests.integration.helpers import (
    Client,
    browser,
    gp_hello,
    login,
    make_gp,
    patient_hello,
    receive_type,
    send,
)

JOIN = {"name": "Karen Jensen", "accepted_terms": TERMS_VERSION}


async def test_open_hour_page_and_join(client: Client, redis: Redis) -> None:
    clinic = await create_clinic(redis, "Lægehuset Åbyhøj", "200001", "+45 1", ALL_DAY)
    token = await issue_dropin_link(redis, clinic.id)
    page = await client.get(f"/d/{token}")
    assert page.status == 200
    body = await page.text()
    assert clinic.name in body
    assert 'data-mode="dropin"' in body

    first = await (await client.post(f"/d/{token}/join", json=JOIN)).json()
    second = await (await client.post(f"/d/{token}/join", json=JOIN)).json()
    assert first["link"] != second["link"]  # a consultation of their own each
    link = first["link"].removeprefix("/j/")
    resolved = await resolve_link(redis, link)
    assert resolved.consultation is not None
    assert resolved.consultation.kind == Kind.DROP_IN
    assert resolved.consultation.clinic_id == clinic.id

    async with client.ws_connect("/ws") as ws:
        welcome = await patient_hello(ws, link, first["resume"])
        assert welcome["state"] == "waiting"
        assert (await receive_type(ws, "waiting"))["position"] == 1
    c = await get_consultation(redis, resolved.consultation.id)
    assert c is not None
    assert c.patient_name == "Karen Jensen"


async def test_closed_hour(client: Client, redis: Redis) -> None:
    clinic = await create_clinic(redis, "Lægehuset Lukket", "200002", "+45 70 00 00 00", {})
    token = await issue_dropin_link(redis, clinic.id)
    page = await client.get(f"/d/{token}")
    assert page.status == 200
    body = await page.text()
    assert 'data-testid="closed"' in body
    assert "+45 70 00 00 00" in body
    assert 'data-mode="dropin"' not in body
    refused = await client.post(f"/d/{token}/join", json=JOIN)
    assert refused.status == 409
    assert await refused.json(content_type="application/problem+json") == {
        "type": "https://almenvideo.dk/problems/clinic_closed",
        "title": "Conflict",
        "status": 409,
        "code": "clinic_closed",
        "detail": "the open video hour is closed",
        "phone": "+45 70 00 00 00",
    }


async def test_unknown_dropin_link(client: Client, redis: Redis) -> None:
    assert (await client.get("/d/Zq3v8Yc1m0pWn4rTx7bLk2dHs9gFj6aE")).status == 404
    response = await client.post("/d/Zq3v8Yc1m0pWn4rTx7bLk2dHs9gFj6aE/join", json=JOIN)
    assert response.status == 404
    assert (await response.json())["code"] == "link_unknown"


async def test_a_drop_in_visitor_who_left_is_off_todays_list(client: Client, redis: Redis) -> None:
    clinic = await create_clinic(redis, "Lægehuset Åbyhøj", "200004", "+45 1", ALL_DAY)
    gp = await make_gp(redis, clinic)
    token = await issue_dropin_link(redis, clinic.id)
    stayed = await (await client.post(f"/d/{token}/join", json=JOIN)).json()
    went = await (await client.post(f"/d/{token}/join", json=JOIN)).json()
    for visit in (stayed, went):
        async with client.ws_connect("/ws") as ws:
            await patient_hello(ws, visit["link"].removeprefix("/j/"), visit["resume"])
            if visit is went:
                await send(ws, "leave")
                await receive_type(ws, "left")
    async with browser(client) as session:
        await login(session, gp.username)
        async with session.ws_connect("/ws") as ws:
            state = await gp_hello(ws)
    today = {e["consultation_id"] for e in state["today"]}
    ids = {
        v["link"]: (await resolve_link(redis, v["link"].removeprefix("/j/")))
        for v in (stayed, went)
    }
    stayed_c, went_c = ids[stayed["link"]].consultation, ids[went["link"]].consultation
    assert stayed_c is not None and went_c is not None
    assert stayed_c.id in today
    assert went_c.id not in today
