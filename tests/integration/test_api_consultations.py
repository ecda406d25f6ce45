"""The LPS API's consultation endpoints, as a vendor's system calls them over HTTP."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from server.app import create_app
from server.clock import local_day
from server.settings import Settings
from server.store.clinics import Clinic
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation
from server.store.events import read_events
from server.store.users import User
from server.store.vendors import create_vendor, issue_api_key
from tests.integration.helpers import Client, join, make_gp, patient_hello, receive_type
from tests.support.redisdump import stored_text
from tests.unit.factories import make_clinic

CPR_NUMBER = "010203-1234"


@dataclass(frozen=True)
class Lps:
    clinic: Clinic
    gp: User
    auth: dict[str, str]


async def lps(redis: Redis, name: str = "Test-LPS") -> Lps:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    vendor = await create_vendor(redis, name, [clinic.id])
    key = await issue_api_key(redis, vendor.id)
    return Lps(clinic, gp, {"Authorization": f"Bearer {key}"})


def booking(v: Lps, minutes: int = 30, **changes: Any) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(minutes=minutes)
    body: dict[str, Any] = {
        "external_id": f"lps-{time.monotonic_ns()}",
        "clinic": v.clinic.ydernummer,
        "practitioner": v.gp.username,
        "patient": {
            "reference": "pt-77",
            "display_name": "Karen Jensen",
            "phone": "+45 20 30 40 50",
        },
        "kind": "video",
        "scheduled_start": start.isoformat(),
        "duration_minutes": 15,
    }
    return {**body, **changes}


async def problem(response: Any) -> tuple[int, str]:
    assert response.content_type == "application/problem+json", await response.text()
    body = await response.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["status"] == response.status
    return response.status, body["code"]


async def book(client: Client, v: Lps, **changes: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/consultations", json=booking(v, **changes), headers=v.auth
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def test_booking_returns_the_consultation_and_a_working_patient_link(
    client: Client, redis: Redis
) -> None:
    v = await lps(redis)
    body = booking(v)
    response = await client.post("/api/v1/consultations", json=body, headers=v.auth)
    assert response.status == 201
    made = await response.json()
    assert response.headers["Location"] == f"/api/v1/consultations/{made['id']}"
    assert (made["status"], made["external_id"], made["clinic"], made["practitioner"]) == (
        "booked", body["external_id"], v.clinic.ydernummer, v.gp.username,
    )  # fmt: skip
    assert made["patient"] == {"reference": "pt-77", "display_name": "Karen Jensen"}
    assert made["clinician_url"].endswith("/console")
    link = made["patient_url"].split("/j/")[1]
    assert (await client.get(f"/j/{link}")).status == 200
    read = await (await client.get(f"/api/v1/consultations/{made['id']}", headers=v.auth)).json()
    assert read["patient_url"] is None  # shown once
    assert {k: read[k] for k in ("id", "status", "scheduled_start")} == {
        k: made[k] for k in ("id", "status", "scheduled_start")
    }
    events = [(kind, data) for _, kind, data in await read_events(redis)]
    assert ("consultation.created", {"consultation_id": made["id"], "clinic_id": v.clinic.id,
            "vendor_id": events[0][1]["vendor_id"]}) in events  # fmt: skip


async def test_the_same_idempotency_key_replays_and_another_body_conflicts(
    client: Client, redis: Redis
) -> None:
    v = await lps(redis)
    body = booking(v)
    headers = {**v.auth, "Idempotency-Key": "book-1"}
    first = await client.post("/api/v1/consultations", json=body, headers=headers)
    again = await client.post("/api/v1/consultations", json=body, headers=headers)
    assert (first.status, again.status) == (201, 201)
    assert await first.json() == await again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await client.post(
        "/api/v1/consultations", json={**body, "duration_minutes": 20}, headers=headers
    )
    assert await problem(other) == (409, "idempotency_key_reused")
    # Without the key, the LPS's booking id still guards against a double booking.
    twin = await client.post("/api/v1/consultations", json=body, headers=v.auth)
    assert await problem(twin) == (409, "duplicate_external_id")
    # A failed request releases its key: corrected, it goes through with the same key.
    bad = {**booking(v), "clinic": "000000"}
    fixed = booking(v)
    key = {**v.auth, "Idempotency-Key": "book-2"}
    assert await problem(await client.post("/api/v1/consultations", json=bad, headers=key)) == (
        422, "invalid_body",
    )  # fmt: skip
    assert (await client.post("/api/v1/consultations", json=fixed, headers=key)).status == 201


async def test_bad_bookings_get_clear_problems(client: Client, redis: Redis) -> None:
    v = await lps(redis)
    stranger = await lps(redis, "Other LPS")
    cases = [
        (booking(v, clinic="12"), (422, "invalid_body")),
        (booking(v, kind="phone"), (422, "invalid_body")),
        (booking(v, duration_minutes=1), (422, "invalid_body")),
        (booking(v, scheduled_start="2026-01-01T10:00:00"), (422, "invalid_body")),  # no offset
        (
            booking(v, patient={"reference": "x", "display_name": "y", "cpr": "12"}),
            (422, "invalid_body"),
        ),
        (booking(v, unexpected=1), (422, "invalid_body")),
        (booking(v, clinic=stranger.clinic.ydernummer), (403, "clinic_not_served")),
        (booking(v, practitioner=stranger.gp.username), (422, "unknown_practitioner")),
        (booking(v, minutes=-60), (422, "in_the_past")),
    ]
    for body, expected in cases:
        response = await client.post("/api/v1/consultations", json=body, headers=v.auth)
        assert await problem(response) == expected, body
    malformed = await client.post("/api/v1/consultations", data="{", headers=v.auth)
    assert await problem(malformed) == (400, "malformed")
    anonymous = await client.post("/api/v1/consultations", json=booking(v))
    assert await problem(anonymous) == (401, "missing_api_key")
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    invalid = await client.post(
        "/api/v1/consultations", json=booking(v), headers={"Authorization": "Bearer avk_x"}
    )
    assert await problem(invalid) == (401, "invalid_api_key")
    body = await invalid.json()
    assert body["type"].endswith("/invalid_api_key") and body["title"] == "Unauthorised"


async def test_a_vendor_never_reaches_another_vendors_clinic(client: Client, redis: Redis) -> None:
    mine, theirs = await lps(redis), await lps(redis, "Other LPS")
    made = await book(client, mine)
    path = f"/api/v1/consultations/{made['id']}"
    for method, url, kwargs in [
        ("GET", path, {}),
        ("PATCH", path, {"json": {"duration_minutes": 20}}),
        ("DELETE", path, {}),
        ("POST", path + "/patient-link", {}),
        ("POST", path + "/participants", {"json": {"organisation": "101"}}),
    ]:
        response = await client.request(method, url, headers=theirs.auth, **kwargs)
        assert await problem(response) == (404, "unknown_consultation"), (method, url)
    day = local_day(time.time() + 1800)
    listing = await client.get(
        "/api/v1/consultations", params={"clinic": mine.clinic.ydernummer, "date": day},
        headers=theirs.auth,
    )  # fmt: skip
    assert await problem(listing) == (403, "clinic_not_served")
    stored = await get_consultation(redis, made["id"])
    assert stored is not None and stored.status == "booked" and stored.duration_minutes == 15


async def test_reschedule_list_relink_and_cancel(client: Client, redis: Redis) -> None:
    v = await lps(redis)
    made = await book(client, v, minutes=30)
    path = f"/api/v1/consultations/{made['id']}"
    later = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    moved = await client.patch(
        path, json={"scheduled_start": later.isoformat(), "duration_minutes": 20}, headers=v.auth
    )
    assert moved.status == 200, await moved.text()
    body = await moved.json()
    assert datetime.fromisoformat(body["scheduled_start"]) == later
    assert body["duration_minutes"] == 20
    for day, expected in (
        (local_day(later.timestamp()), [made["id"]]),
        (local_day(time.time() + 1800), []),
    ):
        listing = await client.get(
            "/api/v1/consultations", params={"clinic": v.clinic.ydernummer, "date": day},
            headers=v.auth,
        )  # fmt: skip
        assert [c["id"] for c in (await listing.json())["consultations"]] == expected, day
    bad_query = await client.get("/api/v1/consultations", params={"clinic": "x"}, headers=v.auth)
    assert await problem(bad_query) == (422, "invalid_query")

    old_link = made["patient_url"].split("/j/")[1]
    relink = await client.post(path + "/patient-link", headers=v.auth)
    assert relink.status == 201
    new_link = (await relink.json())["patient_url"].split("/j/")[1]
    assert (await client.get(f"/j/{old_link}")).status == 410
    assert (await client.get(f"/j/{new_link}")).status == 200

    assert (await client.delete(path, headers=v.auth)).status == 204
    assert (await client.delete(path, headers=v.auth)).status == 204  # twice is fine
    read = await (await client.get(path, headers=v.auth)).json()
    assert read["status"] == Status.CANCELLED
    late = await client.patch(path, json={"duration_minutes": 30}, headers=v.auth)
    assert await problem(late) == (409, "not_reschedulable")
    assert (await client.get(f"/j/{new_link}")).status == 410
    kinds = [kind for _, kind, _ in await read_events(redis)]
    assert kinds.count("consultation.updated") == 2 and "consultation.cancelled" in kinds


async def test_cancelling_a_waiting_patient_tells_them(client: Client, redis: Redis) -> None:
    v = await lps(redis)
    made = await book(client, v, minutes=5)
    link = made["patient_url"].split("/j/")[1]
    resume = await join(client, link)
    async with client.ws_connect("/ws") as ws:
        await patient_hello(ws, link, resume)
        assert (
            await client.delete(f"/api/v1/consultations/{made['id']}", headers=v.auth)
        ).status == 204
        await receive_type(ws, "removed")
    stored = await get_consultation(redis, made["id"])
    assert stored is not None and stored.status == Status.CANCELLED


async def test_a_cpr_number_is_never_stored(client: Client, redis: Redis) -> None:
    v = await lps(redis)
    patient = {"reference": "pt-1", "display_name": "Karen", "cpr": CPR_NUMBER}
    made = await book(client, v, patient=patient)
    again = await book(client, v, patient=patient)
    everything = await stored_text(redis)
    assert CPR_NUMBER not in everything and CPR_NUMBER.replace("-", "") not in everything
    first, second = (
        (await get_consultation(redis, made["id"])),
        (await get_consultation(redis, again["id"])),
    )
    assert first is not None and second is not None
    assert first.cpr_hash and first.cpr_hash == second.cpr_hash  # the same person matches
    assert "cpr" not in (
        await (await client.get(f"/api/v1/consultations/{made['id']}", headers=v.auth)).text()
    )


async def test_too_many_requests_get_429_with_retry_after(
    aiohttp_client: Any, settings: Settings, redis: Redis
) -> None:
    limited: TestClient = await aiohttp_client(create_app(settings.with_(api_rate_per_minute=3)))  # type: ignore[type-arg]
    v = await lps(redis)
    statuses = []
    for _ in range(4):
        response = await limited.get("/api/v1/consultations/nope", headers=v.auth)
        statuses.append(response.status)
    assert statuses[:3] == [404, 404, 404]
    assert await problem(response) == (429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60


async def test_the_openapi_document_covers_every_api_route(client: Client) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"] == "3.1.0"
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    served = {
        (route.resource.canonical, route.method)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
        and route.method != "HEAD"
        and route.resource.canonical != "/api/v1/openapi.json"
    }
    assert served == documented
    create = document["paths"]["/api/v1/consultations"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ConsultationIn"
    )
    assert "422" in create["responses"] and "429" in create["responses"]
