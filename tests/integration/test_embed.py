"""Embedding the GP's view in an LPS: the embed-session contract, the single-use URL, the
session it opens, and who may frame the pages."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.auth.tokens import token_hash
from server.auth.web import EMBED_COOKIE
from server.clock import now
from server.security import CSP
from server.settings import Settings
from server.store import keys
from server.store.clinics import Clinic
from server.store.connection import Redis
from server.store.consultations import Consultation, Status, update_consultation
from server.store.notes import Section, approve, save_draft
from server.store.users import User, create_user
from server.store.vendors import create_vendor, issue_api_key, set_vendor_origins
from tests.integration.helpers import (
    GP_PASSWORD,
    Client,
    browser,
    gp_hello,
    login,
    make_gp,
    receive_type,
)
from tests.unit.factories import make_clinic, make_scheduled, room_of

ORIGINS = ["https://lps.example", "http://127.0.0.1:8090"]
FRAME_ANCESTORS = "frame-ancestors https://lps.example http://127.0.0.1:8090"


@dataclass(frozen=True)
class Embedder:
    clinic: Clinic
    gp: User
    consultation: Consultation
    auth: dict[str, str]


async def embedder(redis: Redis, origins: list[str] = ORIGINS) -> Embedder:
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic, "Dr. Ida Lund")
    vendor = await create_vendor(redis, "Test-LPS", [clinic.id])
    await set_vendor_origins(redis, vendor.id, origins)
    key = await issue_api_key(redis, vendor.id)
    c = await make_scheduled(redis, clinic, practitioner_id=gp.id)
    return Embedder(clinic, gp, c, {"Authorization": f"Bearer {key}"})


async def embed_session(
    client: Client, e: Embedder, practitioner: str | None = None, consultation_id: str = ""
) -> ClientResponse:
    return await client.post(
        f"/api/v1/consultations/{consultation_id or e.consultation.id}/embed-session",
        json={"practitioner": practitioner or e.gp.username},
        headers=e.auth,
    )


async def embed_path(client: Client, e: Embedder) -> str:
    """`/embed/<token>` of a new embed session (its URL names the public base URL)."""
    response = await embed_session(client, e)
    assert response.status == 201, await response.text()
    return "/embed/" + str((await response.json())["url"]).split("/embed/")[1]


def frame_ancestors(response: ClientResponse) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors"))


async def problem_code(response: ClientResponse) -> tuple[int, str]:
    assert response.content_type == "application/problem+json", await response.text()
    return response.status, (await response.json())["code"]


async def test_the_url_is_single_use_and_expires_within_a_minute(
    client: Client, redis: Redis, settings: Settings
) -> None:
    e = await embedder(redis)
    response = await embed_session(client, e)
    assert response.status == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert set(body) == {"url", "expires_at"}
    assert 0 < datetime.fromisoformat(body["expires_at"]).timestamp() - time.time() <= 60
    token = body["url"].split("/embed/")[1]
    assert body["url"].startswith(f"{settings.public_base_url}/embed/")
    stored = keys.embed_token(token_hash(token))
    assert 0 < await redis.ttl(stored) <= 60
    assert token not in await redis.get(stored)  # stored under its hash only

    async with browser(client) as lps_frame:
        opened = await lps_frame.get(f"/embed/{token}", allow_redirects=False)
        assert opened.status == 303
        assert opened.headers["Location"] == f"/console?consultation={e.consultation.id}&embed=1"
        assert frame_ancestors(opened) == FRAME_ANCESTORS
        assert await redis.exists(stored) == 0  # taken at first use
        again = await lps_frame.get(f"/embed/{token}", allow_redirects=False)
    assert again.status == 410
    assert "Linket er brugt eller udløbet" in await again.text()
    # Shown inside the vendor's frame, so the GP reads why.
    assert frame_ancestors(again) == FRAME_ANCESTORS


async def test_an_expired_token_is_gone(client: Client, redis: Redis) -> None:
    e = await embedder(redis)
    # The record outlives its stated expiry (a clock step, a restored dump): still refused.
    token = (await embed_path(client, e)).split("/embed/")[1]
    stored = keys.embed_token(token_hash(token))
    record = json.loads(await redis.get(stored))
    await redis.set(stored, json.dumps({**record, "expires_at": time.time() - 1}), ex=60)
    late = await client.get(f"/embed/{token}?lang=en", allow_redirects=False)
    assert late.status == 410
    assert "This link has been used or has expired" in await late.text()
    # Redis let the key expire: the same answer.
    token = (await embed_path(client, e)).split("/embed/")[1]
    await redis.pexpire(keys.embed_token(token_hash(token)), 1)
    await asyncio.sleep(0.01)
    assert (await client.get(f"/embed/{token}", allow_redirects=False)).status == 410
    unknown = await client.get("/embed/" + "x" * 43, allow_redirects=False)
    assert unknown.status == 410
    assert frame_ancestors(unknown) == "frame-ancestors 'none'"  # nobody known to frame it for


async def test_opening_logs_in_that_gp_to_that_consultations_framed_console(
    client: Client, redis: Redis
) -> None:
    e = await embedder(redis)
    colleague = await make_gp(redis, e.clinic, "Dr. Per Vikar")
    response = await embed_session(client, e, practitioner=colleague.username)
    path = "/embed/" + (await response.json())["url"].split("/embed/")[1]
    async with browser(client) as lps_frame:
        opened = await lps_frame.get(path)
        assert opened.status == 200
        assert frame_ancestors(opened) == FRAME_ANCESTORS
        page = await opened.text()
        assert "Dr. Per Vikar" in page  # the practitioner the URL was bound to
        assert 'data-testid="logout"' not in page  # the LPS's frame has no navigation of ours
        data = json.loads(re.search(r'id="console-data">(.*?)</script>', page, re.S)[1])  # type: ignore[index]
        assert data["focus"] == e.consultation.id
        assert data["embed"] == {"consultation_id": e.consultation.id, "origins": ORIGINS}
        # The frame reloads, and the console's socket, use the session the URL opened.
        reloaded = await lps_frame.get(f"/console?consultation={e.consultation.id}&embed=1")
        assert frame_ancestors(reloaded) == FRAME_ANCESTORS
        async with lps_frame.ws_connect("/ws") as ws:
            state = await gp_hello(ws)
        assert state["type"] == "clinic.state"


async def test_an_embedded_view_healed_after_a_pubsub_loss_still_sees_only_its_consultation(
    client: Client, redis: Redis
) -> None:
    e = await embedder(redis)
    other = await make_scheduled(redis, e.clinic, practitioner_id=e.gp.id, patient_name="Anden")
    assert await room_of(redis).enter(other) is not None
    response = await embed_session(client, e)
    path = "/embed/" + (await response.json())["url"].split("/embed/")[1]
    async with browser(client) as lps_frame:
        assert (await lps_frame.get(path)).status == 200
        async with lps_frame.ws_connect("/ws") as ws:
            state = await gp_hello(ws)
            assert state["waiting"] == []
            assert await redis.client_kill_filter(_type="pubsub") >= 1
            healed = await receive_type(ws, "clinic.state")
    assert healed["waiting"] == []
    assert [d["consultation_id"] for d in healed["today"]] == [e.consultation.id]


async def test_the_embedded_view_of_an_ended_consultation_shows_its_outcome_and_note(
    client: Client, redis: Redis
) -> None:
    e = await embedder(redis)
    path = await embed_path(client, e)
    async with browser(client) as lps_frame:
        before = await (await lps_frame.get(path)).text()
        assert "Patienten er ikke i venteværelset endnu" in before
        ended = await update_consultation(
            redis, e.consultation, status=Status.ENDED, ended_at=now(), billing_code="0125"
        )
        plan = [Section("plan", "Plan", "Kontrol om en uge.")]
        await save_draft(redis, ended, plan, engine="pocketsphinx")
        await approve(redis, ended, e.gp.id)
        page = await (
            await lps_frame.get(f"/console?consultation={e.consultation.id}&embed=1")
        ).text()
    assert "Patienten er ikke i venteværelset endnu" not in page
    assert 'data-testid="focus-status">Konsultationen er afsluttet.' in page
    assert "0125 videokonsultation" in page
    assert "Kontrol om en uge." in page and 'data-testid="focus-note"' in page


async def test_the_embed_cookie_works_in_a_third_party_iframe(
    aiohttp_client: object, settings: Settings, redis: Redis
) -> None:
    """SameSite=None needs Secure; Partitioned keeps it when third-party cookies are blocked.
    (Browsers accept Secure cookies from http://127.0.0.1 and localhost.) Without secure
    cookies (plain http elsewhere) it falls back to SameSite=Lax: a same-site LPS only."""
    secure: TestClient = await aiohttp_client(create_app(settings.with_(secure_cookies=True)))  # type: ignore[operator, type-arg]
    e = await embedder(redis)
    token = (await embed_path(secure, e)).split("/embed/")[1]
    opened = await secure.get(f"/embed/{token}", allow_redirects=False)
    cookie = next(c for c in opened.headers.getall("Set-Cookie") if c.startswith(EMBED_COOKIE))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite", "partitioned", "path", "max-age"} == attributes
    assert "SameSite=None" in cookie

    token = (await embed_path(secure, e)).split("/embed/")[1]
    plain: TestClient = await aiohttp_client(create_app(settings))  # type: ignore[operator, type-arg]
    opened = await plain.get(f"/embed/{token}", allow_redirects=False)
    cookie = next(c for c in opened.headers.getall("Set-Cookie") if c.startswith(EMBED_COOKIE))
    assert "SameSite=Lax" in cookie and "Secure" not in cookie and "Partitioned" not in cookie


async def test_the_practitioner_must_be_a_gp_of_the_clinic(client: Client, redis: Redis) -> None:
    e = await embedder(redis)
    elsewhere = await make_gp(redis, await make_clinic(redis, "Lægehuset Andetsteds"))
    admin = await create_user(redis, "admin-embed", GP_PASSWORD, "Ada", "admin")
    for name in (elsewhere.username, admin.username, "nobody-at-all"):
        assert await problem_code(await embed_session(client, e, practitioner=name)) == (
            422, "unknown_practitioner",
        )  # fmt: skip
    for body in ({}, {"practitioner": ""}, {"practitioner": "x", "extra": 1}):
        response = await client.post(
            f"/api/v1/consultations/{e.consultation.id}/embed-session", json=body, headers=e.auth
        )
        assert await problem_code(response) == (422, "invalid_body")
    malformed = await client.post(
        f"/api/v1/consultations/{e.consultation.id}/embed-session", data="{", headers=e.auth
    )
    assert await problem_code(malformed) == (400, "malformed")


async def test_another_vendors_consultation_is_not_found(client: Client, redis: Redis) -> None:
    e = await embedder(redis)
    other = await embedder(redis)
    assert await problem_code(
        await embed_session(client, other, e.gp.username, e.consultation.id)
    ) == (404, "unknown_consultation")
    assert await problem_code(await embed_session(client, e, consultation_id="nope")) == (
        404, "unknown_consultation",
    )  # fmt: skip
    anonymous = await client.post(
        f"/api/v1/consultations/{e.consultation.id}/embed-session", json={"practitioner": "x"}
    )
    assert await problem_code(anonymous) == (401, "missing_api_key")
    await update_consultation(redis, e.consultation, status=Status.CANCELLED)
    assert await problem_code(await embed_session(client, e)) == (409, "consultation_cancelled")


async def test_the_ordinary_console_cannot_be_framed(client: Client, redis: Redis) -> None:
    e = await embedder(redis)
    other = await embedder(redis)
    async with browser(client) as gp_browser:
        await login(gp_browser, e.gp.username)
        console = await gp_browser.get(f"/console?consultation={e.consultation.id}&embed=1")
        assert console.status == 200
        assert console.headers["Content-Security-Policy"] == CSP
        assert frame_ancestors(console) == "frame-ancestors 'none'"
        page = await console.text()
        data = json.loads(re.search(r'id="console-data">(.*?)</script>', page, re.S)[1])  # type: ignore[index]
        assert (data["focus"], data["embed"]) == (e.consultation.id, None)
        foreign = await gp_browser.get(f"/console?consultation={other.consultation.id}")
        assert foreign.status == 404


async def test_a_vendor_without_origins_cannot_be_framed_at_all(
    client: Client, redis: Redis
) -> None:
    e = await embedder(redis, origins=[])
    async with browser(client) as lps_frame:
        opened = await lps_frame.get(await embed_path(client, e))
    assert opened.status == 200
    assert frame_ancestors(opened) == "frame-ancestors 'none'"
