"""The LPS simulator against the real app over real HTTP: it books, shows the link, frames
the GP's view, receives the platform's signed webhooks, and files and acknowledges notes."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from integrations.lps.simulator.app import create_app as create_simulator
from integrations.lps.simulator.appkeys import RECORD
from integrations.lps.simulator.config import SimulatorConfig
from integrations.lps.simulator.pages import local_time
from server.app import create_app
from server.settings import Settings
from server.store.connection import Redis
from server.store.consultations import get_consultation
from server.store.notes import approve
from server.store.vendors import create_vendor, issue_api_key
from server.webhooks.policy import DeliveryPolicy
from server.webhooks.signing import sign
from tests.integration.helpers import make_gp
from tests.support.redisserver import free_port
from tests.unit.factories import make_clinic

Client = TestClient[web.Request, web.Application]

# Retries in milliseconds, and outboxes looked at often, so deliveries arrive within a test.
QUICK = DeliveryPolicy(base_delay=0.05, max_delay=0.2, poll_interval=0.05, claim_idle=1)


@dataclass(frozen=True)
class Setup:
    platform: Client
    simulator: Client
    auth: dict[str, str]


async def setup(aiohttp_client: AiohttpClient, settings: Settings, redis: Redis) -> Setup:
    # The simulator receives webhooks on this machine: the development setting allows it.
    local = settings.with_(webhook_policy=QUICK, webhook_allow_local=True)
    platform = await aiohttp_client(create_app(local))
    clinic = await make_clinic(redis)
    gp = await make_gp(redis, clinic)
    port = free_port()
    vendor = await create_vendor(redis, "Simulator", [clinic.id], [f"http://127.0.0.1:{port}"])
    key = await issue_api_key(redis, vendor.id)
    config = SimulatorConfig(
        api_base=str(platform.make_url("")).rstrip("/"), api_key=key,
        clinic=clinic.ydernummer, practitioner=gp.username, port=port,
    )  # fmt: skip
    simulator = await aiohttp_client(create_simulator(config), server_kwargs={"port": port})
    return Setup(platform, simulator, {"Authorization": f"Bearer {key}"})


async def eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        await asyncio.sleep(0.05)


async def book(s: Setup, name: str = "Karen Jensen") -> tuple[str, dict[str, str]]:
    """Fill in the calendar's form as it is served; returns the consultation id and form."""
    page = await (await s.simulator.get("/")).text()
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    form |= {"patient_name": name, "patient_reference": "pt-1", "duration": "15"}
    form |= dict(re.findall(r'name="(date|time)" required value="([^"]*)"', page))
    booked = await s.simulator.post("/book", data=form, allow_redirects=False)
    assert booked.status == 303, await booked.text()
    return booked.headers["Location"].rsplit("/", 1)[1], form


async def test_it_books_once_per_form_and_shows_the_patient_link(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    s = await setup(aiohttp_client, settings, redis)
    consultation_id, form = await book(s)
    page = await (await s.simulator.get(f"/consultations/{consultation_id}")).text()
    link = re.search(r'value="([^"]+/j/[^"]+)"[^>]*data-testid="patient-link"', page)
    assert link is not None
    # The same form sent again (a double click) is the same booking: the Idempotency-Key.
    again = await s.simulator.post("/book", data=form, allow_redirects=False)
    assert again.headers["Location"] == f"/consultations/{consultation_id}"
    calendar = await (await s.simulator.get("/")).text()
    assert calendar.count("Karen Jensen") == 1
    # A new link replaces the old one.
    await s.simulator.post(f"/consultations/{consultation_id}/patient-link")
    page = await (await s.simulator.get(f"/consultations/{consultation_id}")).text()
    assert link[1] not in page and "/j/" in page
    # The API's refusal is shown in the form, not as a crash.
    refused = await s.simulator.post("/book", data={**form, "idempotency_key": "k2", "time": ""})
    assert 'data-testid="error"' in await refused.text()


async def test_the_video_page_frames_a_fresh_embed_url_from_almenvideo_only(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    s = await setup(aiohttp_client, settings, redis)
    consultation_id, _ = await book(s)
    video = await s.simulator.get(f"/consultations/{consultation_id}/video")
    assert video.status == 200
    assert "frame-src http://127.0.0.1:8080" in video.headers["Content-Security-Policy"]
    src = re.search(r'<iframe id="gp-view" src="([^"]+)"', await video.text())
    assert src is not None and "/embed/" in src[1]
    path = "/embed/" + src[1].split("/embed/")[1]
    assert (await s.platform.get(path, allow_redirects=False)).status == 303
    assert (await s.platform.get(path, allow_redirects=False)).status == 410


async def test_webhooks_are_verified_and_each_event_kept_once(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    s = await setup(aiohttp_client, settings, redis)
    record = s.simulator.app[RECORD]
    secret = record.webhook_secret
    assert secret is not None, record.webhook_status  # registered itself at start
    consultation_id, _ = await book(s)
    await eventually(lambda: any(e.type == "consultation.created" for e in record.events))
    events = await (await s.simulator.get("/events")).text()
    assert "consultation.created" in events and consultation_id in events
    created = next(e for e in record.events if e.type == "consultation.created")
    assert created.timestamp not in events  # UTC on the wire, the practice's clock on screen
    assert local_time(created.timestamp) in events

    body = json.dumps(
        {"id": "1-1", "type": "patient.waiting", "timestamp": "2026-01-01T10:00:00.000Z",
         "data": {"consultation_id": consultation_id, "clinic": "1"}}
    ).encode()  # fmt: skip
    now = int(time.time())
    forged = sign("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", "1-1", now, body)
    replayed = sign(secret, "1-1", now - 3600, body)
    for headers in (forged, replayed, {}):
        assert (await s.simulator.post("/webhooks", data=body, headers=headers)).status == 401
    assert record.rejected_webhooks == 3
    before = len(record.events)
    for _ in range(2):  # delivered twice (at least once): kept once
        posted = await s.simulator.post(
            "/webhooks", data=body, headers=sign(secret, "1-1", now, body)
        )
        assert posted.status == 204
    assert len(record.events) == before + 1


async def test_an_approved_note_is_filed_then_acknowledged_and_gone_from_almenvideo(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    s = await setup(aiohttp_client, settings, redis)
    record = s.simulator.app[RECORD]
    consultation_id, _ = await book(s)
    c = await get_consultation(redis, consultation_id)
    assert c is not None
    await approve(redis, c, by=c.practitioner_id, text="Kontakt pga. hoste. Plan: hvile.")
    # note.approved arrives by webhook; the simulator fetches, files and acknowledges it.
    await eventually(
        lambda: consultation_id in record.notes and record.notes[consultation_id].acknowledged
    )
    assert record.notes[consultation_id].text == "Kontakt pga. hoste. Plan: hvile."
    note = await s.platform.get(f"/api/v1/consultations/{consultation_id}/note", headers=s.auth)
    assert note.status == 410  # the platform deleted its copy
    page = await (await s.simulator.get(f"/consultations/{consultation_id}")).text()
    assert "Kontakt pga. hoste" in page
    # Asking again (the button) explains that the note is gone.
    again = await s.simulator.post(f"/consultations/{consultation_id}/note")
    assert "note_deleted" in await again.text()
