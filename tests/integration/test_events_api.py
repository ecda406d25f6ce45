"""GET /api/v1/events: the webhooks' payloads by polling, for the vendor's own clinics only."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.clock import now
from server.consultations import call
from server.settings import Settings
from server.store.callattempts import record_report
from server.store.connection import Redis
from server.store.events import EventType, append_event
from tests.integration.webhookreceiver import (
    FAST,
    Client,
    Receiver,
    bearer,
    eventually,
    register,
    vendor_with_key,
)
from tests.unit.factories import make_clinic, make_scheduled, no_seat, room_of, waiting_patient


async def poll(api: Client, key: str, **query: str) -> dict[str, Any]:
    response = await api.get("/api/v1/events", params=query, headers=bearer(key))
    assert response.status == 200, await response.text()
    page: dict[str, Any] = await response.json()
    return page


async def test_a_vendor_sees_only_its_clinics_published_events(
    client: Client, redis: Redis
) -> None:
    ours, theirs = await make_clinic(redis), await make_clinic(redis, "Lægerne i Brabrand")
    x = await vendor_with_key(redis, [ours.id], "X Journal")
    y = await vendor_with_key(redis, [theirs.id], "Y Journal")
    waiting = await append_event(
        redis, EventType.PATIENT_WAITING, consultation_id="c1", clinic_id=ours.id
    )
    await append_event(redis, EventType.PATIENT_WAITING, consultation_id="c2", clinic_id=theirs.id)
    await append_event(redis, EventType.PATIENT_HELD, consultation_id="c1", clinic_id=ours.id)
    await append_event(
        redis, EventType.ABSENCE_ADDED, clinic_id=ours.id, absence_id="a1", vendor="v"
    )
    ended = await append_event(
        redis, EventType.CALL_ENDED, consultation_id="c1", clinic_id=ours.id,
        billing_code="0126", duration_seconds=754, parties=3,
    )  # fmt: skip

    page = await poll(client, x)
    assert [(e["id"], e["type"]) for e in page["events"]] == [
        (waiting, "patient.waiting"),
        (ended, "call.ended"),
    ]
    assert page["events"][1]["data"] == {
        "consultation_id": "c1",
        "clinic": ours.ydernummer,
        "duration_seconds": 754,
        "participants": 3,
        "billing_code": "0126",
    }
    assert page["next"] == ended
    theirs_page = await poll(client, y)
    assert [e["data"]["consultation_id"] for e in theirs_page["events"]] == ["c2"]
    assert {e["data"]["clinic"] for e in theirs_page["events"]} == {theirs.ydernummer}


async def test_the_cursor_pages_through_oldest_first(client: Client, redis: Redis) -> None:
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])
    ids = [
        await append_event(
            redis, EventType.CALL_STARTED, consultation_id=f"c{n}", clinic_id=clinic.id
        )
        for n in range(5)
    ]
    seen: list[str] = []
    cursor = "0-0"
    while True:
        page = await poll(client, key, after=cursor, limit="2")
        if not page["events"]:
            break
        assert len(page["events"]) <= 2
        seen += [e["id"] for e in page["events"]]
        cursor = page["next"]
    assert seen == ids
    assert page["next"] == ids[-1]  # nothing new: the cursor stays
    later = await append_event(
        redis, EventType.CALL_STARTED, consultation_id="c9", clinic_id=clinic.id
    )
    assert [e["id"] for e in (await poll(client, key, after=cursor))["events"]] == [later]


async def test_the_cursor_moves_past_other_clinics_traffic(client: Client, redis: Redis) -> None:
    ours, theirs = await make_clinic(redis), await make_clinic(redis, "Lægerne i Brabrand")
    key = await vendor_with_key(redis, [ours.id])
    others = [
        await append_event(
            redis, EventType.CALL_STARTED, consultation_id=f"c{n}", clinic_id=theirs.id
        )
        for n in range(3)
    ]
    page = await poll(client, key)
    assert page == {"events": [], "next": others[-1]}


@pytest.mark.parametrize(
    "query",
    [
        {"after": "abc"},
        {"after": "1-2-3"},
        {"after": "1718000000000"},
        {"after": "99999999999999999999-0"},
        {"after": ""},
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "many"},
    ],
)
async def test_a_bad_cursor_or_limit_is_a_422_problem(
    client: Client, redis: Redis, query: dict[str, str]
) -> None:
    key = await vendor_with_key(redis, [(await make_clinic(redis)).id])
    response = await client.get("/api/v1/events", params=query, headers=bearer(key))
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert problem["code"] == "invalid_query"
    assert problem["errors"][0]["field"] == next(iter(query))


async def test_the_largest_cursor_is_the_end_not_an_error(client: Client, redis: Redis) -> None:
    key = await vendor_with_key(redis, [(await make_clinic(redis)).id])
    end = "18446744073709551615-18446744073709551615"
    assert await poll(client, key, after=end) == {"events": [], "next": end}


async def test_polling_needs_a_vendor_key(client: Client) -> None:
    assert (await client.get("/api/v1/events")).status == 401
    wrong = await client.get("/api/v1/events", headers=bearer("avk_nope"))
    assert wrong.status == 401


async def test_polling_returns_exactly_what_the_webhook_delivered(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    """A real consultation's life: waiting, admitted, a three-party call, ended."""
    # The receiver listens on this machine: the development setting that allows it.
    local = settings.with_(webhook_policy=FAST, webhook_allow_local=True)
    api = await aiohttp_client(create_app(local))
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])
    async with Receiver() as receiver:
        await register(api, key, receiver.url)
        c = await make_scheduled(redis, clinic)
        w = await waiting_patient(redis, c)
        assert await room_of(redis).admit(w.consultation, "gp-user", "gp-part", no_seat) is not None
        for participant in ["gp-part", w.patient.id, "municipality-part"]:
            await call.connect(redis, c.id, participant)
        await record_report(  # the GP's browser decoded the patient's media: a code applies
            redis, c.id, "gp", {"phase": "media", "media": True}, now()
        )
        assert await room_of(redis).end(w.consultation) is not None
        await eventually(lambda: len(receiver.arrived) == 3)

    polled = (await poll(api, key))["events"]
    delivered = sorted((r.payload for r in receiver.arrived), key=lambda p: p["id"])
    assert polled == delivered
    assert [p["type"] for p in polled] == ["patient.waiting", "call.started", "call.ended"]
    assert polled[2]["data"]["participants"] == 3
    assert polled[2]["data"]["billing_code"] == "0126"


async def test_the_openapi_document_declares_webhook_and_events_operations(
    client: Client,
) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    assert set(paths["/api/v1/webhook"]) == {"get", "put"}
    assert "get" in paths["/api/v1/webhook/dead-letters"]
    events = paths["/api/v1/events"]["get"]
    assert {p["name"] for p in events["parameters"]} == {"after", "limit"}
    assert "422" in events["responses"]
    assert "EventsPage" in document["components"]["schemas"]
