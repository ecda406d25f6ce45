"""The success rate from real sockets: each admit is an attempt, the browsers' reports land
on it, and the admin page counts successes and failures with their reasons."""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp import ClientWebSocketResponse

from server.callquality.success import WINDOW_SECONDS, iso_week
from server.clock import now
from server.store import keys
from server.store.callattempts import current_attempt, get_attempt
from server.store.connection import Redis
from tests.integration.accountpages import html, make_admin, make_organisation
from tests.integration.helpers import (
    Client,
    book,
    browser,
    login,
    make_gp,
    receive_error,
    receive_type,
    send,
)
from tests.integration.test_signalling import in_call, waiting_patient
from tests.unit.factories import PATIENT_NAME, make_clinic

MEDIA: dict[str, Any] = {
    "phase": "media", "media": True, "local_candidate": "relay", "remote_candidate": "srflx",
    "transport": "tls", "rtt_ms": 48, "loss_per_mille": 2, "inbound_kbps": 800,
}  # fmt: skip


async def settled(ws: ClientWebSocketResponse) -> None:
    """Everything sent before on this socket has been handled (handled in order)."""
    await send(ws, "signal", to="nobody", description={"type": "offer", "sdp": "v=0"}, ref="s")
    await receive_error(ws, "unknown_peer", "s")


async def admin_page(client: Client, redis: Redis, path: str) -> str:
    admin = await make_admin(redis)
    async with browser(client) as session:
        await login(session, admin.username)
        response = await session.get(path)
        assert response.status == 200
        return await response.text() if path.endswith(".csv") else await html(response)


async def test_reports_are_stored_and_the_page_shows_the_success(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    async with in_call(client, b) as call:
        await send(call.gp, "call.report", peer=call.patient_id, **MEDIA)
        patient_side = {**MEDIA, "local_candidate": "host", "transport": "udp"}
        await send(call.patient, "call.report", peer=call.gp_id, **patient_side)
        await settled(call.gp)
        await settled(call.patient)
        attempt_id = await current_attempt(redis, b.consultation.id)
        assert attempt_id is not None
        a = await get_attempt(redis, attempt_id)
        assert a is not None and a.gp is not None and a.patient is not None
        assert (a.clinic_id, a.gp.local_candidate, a.gp.transport) == (b.clinic.id, "relay", "tls")
        assert a.patient.local_candidate == "host" and a.patient.media_at is not None
        stored = str(await redis.hgetall(keys.call_attempt(attempt_id)))
        assert PATIENT_NAME not in stored and call.patient_id not in stored
    week = iso_week(now())
    body = await admin_page(client, redis, f"/admin/calls?week={week}")
    assert f'data-week="{week}"' in body and b.clinic.name in body
    assert 'data-testid="attempts">1<' in body
    assert 'data-testid="success-rate">100,0 %<' in body
    assert 'data-testid="relayed">100,0 %<' in body
    assert 'data-testid="no-failures"' in body


async def test_an_attempt_without_media_in_the_window_fails_with_no_media(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    async with in_call(client, b) as call:
        await send(call.gp, "call.report", peer=call.patient_id, **MEDIA)  # the GP's side only
        await settled(call.gp)
        attempt_id = await current_attempt(redis, b.consultation.id)
        assert attempt_id is not None
        # The window passes: the admit moves back in time past it.
        earlier = now() - WINDOW_SECONDS - 1
        await redis.hset(keys.call_attempt(attempt_id), "started_at", earlier)
        await redis.zadd(keys.CALL_ATTEMPTS, {attempt_id: earlier})
    body = await admin_page(client, redis, f"/admin/calls?week={iso_week(earlier)}")
    assert 'data-testid="attempts">1<' in body and 'data-testid="failed">1<' in body
    assert 'data-testid="call-failure" data-reason="no_media"' in body
    assert "Intet billede eller lyd inden for 30 sekunder" in body


async def test_ended_before_media_and_a_reported_ice_failure(client: Client, redis: Redis) -> None:
    ended = await book(redis)
    async with in_call(client, ended) as call:
        await send(call.gp, "end", consultation_id=ended.consultation.id)
        await receive_type(call.gp, "call.ended")
    failing = await book(redis, ended.clinic)
    async with in_call(client, failing) as call:
        await send(call.patient, "call.report", peer=call.gp_id, phase="failed", media=False,
                   failure="ice_failed")  # fmt: skip
        await settled(call.patient)
        await send(call.gp, "end", consultation_id=failing.consultation.id)
        await receive_type(call.gp, "call.ended")
    body = await admin_page(client, redis, f"/admin/calls?week={iso_week(now())}")
    assert 'data-testid="attempts">2<' in body and 'data-testid="failed">2<' in body
    assert 'data-testid="success-rate">0,0 %<' in body
    assert body.count('data-testid="call-failure"') == 2
    assert 'data-reason="ended_before_media"' in body and 'data-reason="ice_failed"' in body


async def test_only_the_gp_patient_connection_counts(client: Client, redis: Redis) -> None:
    """A GP's report of a connection with someone else (an invited professional) is not
    evidence that the patient's call reached media."""
    b = await book(redis)
    async with in_call(client, b) as call:
        await send(call.gp, "call.report", peer="a-professional", **MEDIA)
        await send(call.patient, "call.report", peer=call.patient_id, **MEDIA)
        await settled(call.gp)
        await settled(call.patient)
        attempt_id = await current_attempt(redis, b.consultation.id)
        assert attempt_id is not None
        a = await get_attempt(redis, attempt_id)
        assert a is not None and (a.gp, a.patient) == (None, None)


async def test_a_waiting_patient_cannot_report(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with waiting_patient(client, b) as p:
        await send(p.ws, "call.report", peer="someone", **MEDIA, ref="r")
        await receive_error(p.ws, "not_in_call", "r")
    assert await redis.keys("av:call_attempt:*") == []


async def test_the_csv_has_the_figures_quoted_against_formulas(
    client: Client, redis: Redis
) -> None:
    b = await book(redis, await make_clinic(redis, "=HYPERLINK(1)"))
    async with in_call(client, b) as call:
        for ws, peer in ((call.gp, call.patient_id), (call.patient, call.gp_id)):
            await send(ws, "call.report", peer=peer, **MEDIA)
            await settled(ws)
    text = await admin_page(client, redis, "/admin/calls.csv?format=csv-en")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["week", "clinic_id", "clinic", "attempts"]
    assert rows[1][1:7] == [b.clinic.id, "'=HYPERLINK(1)", "1", "1", "0", "1.000"]


async def test_only_the_platform_admin_sees_the_page(client: Client, redis: Redis) -> None:
    for path in ("/admin/calls", "/admin/calls.csv"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/login")
    gp = await make_gp(redis, await make_clinic(redis))
    _, org_admin, nurse = await make_organisation(redis)
    for user in (gp, org_admin, nurse):
        async with browser(client) as session:
            await login(session, user.username)
            for path in ("/admin/calls", "/admin/calls.csv"):
                assert (await session.get(path, allow_redirects=False)).status == 403
    body = await admin_page(client, redis, "/admin")
    assert 'href="/admin/calls"' in body
