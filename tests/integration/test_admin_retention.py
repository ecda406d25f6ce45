"""The admin's retention page: record a clinic's cancellation with its date, see warnings."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Any

import pytest

from server import app as app_module
from server.appkeys import CPR_KEY
from server.retention.cancellation import cancel_clinic
from server.retention.job import run_retention
from server.retention.table import CANCELLATION_NOTICE_SECONDS, DAY, INACTIVITY_SECONDS
from server.settings import Settings
from server.store import keys
from server.store.audit import read_audit
from server.store.connection import Redis
from server.store.consultations import update_consultation
from server.store.messages import add_clinic_message
from server.store.retention import get_cancellation, pilot_ended, record_access
from server.store.users import create_user
from tests.integration.helpers import GP_PASSWORD, Client, book, browser, gp_hello, login
from tests.security.helpers import SESSION_ENDED, until_closed


async def test_the_admin_records_a_cancellation_and_the_job_deletes_after_the_notice(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    await create_user(redis, "root", GP_PASSWORD, "Root", "admin")
    async with browser(client) as admin:
        await login(admin, "root")
        page = await (await admin.get("/admin/retention")).text()
        assert "Opbevaring og sletning" in page and b.clinic.name in page
        response = await admin.post(
            f"/admin/retention/clinics/{b.clinic.id}/cancel",
            data={"cancelled_on": "2026-12-01"},
            headers={"Origin": str(client.make_url("/")).rstrip("/")},
            allow_redirects=False,
        )
        assert response.status == 303
        cancellation = await get_cancellation(redis, b.clinic.id)
        assert cancellation is not None and cancellation.cancelled_on == "2026-12-01"
        page = await (await admin.get("/admin/retention")).text()
        assert "01.12.2026" in page and "Tilbagekald opsigelse" in page

    await run_retention(redis, cancellation.delete_after - DAY)
    assert await redis.exists(keys.clinic(b.clinic.id))
    await run_retention(redis, cancellation.delete_after + 1)
    assert not await redis.exists(keys.clinic(b.clinic.id))
    assert cancellation.delete_after - CANCELLATION_NOTICE_SECONDS < cancellation.delete_after


async def test_a_gp_cannot_cancel_a_clinic(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with browser(client) as gp:
        await login(gp, b.gp.username)
        response = await gp.post(
            f"/admin/retention/clinics/{b.clinic.id}/cancel",
            data={"cancelled_on": "2026-12-01"},
            allow_redirects=False,
        )
        assert response.status in (403, 303)
    assert await get_cancellation(redis, b.clinic.id) is None


async def test_the_page_shows_a_silent_clinics_warning(client: Client, redis: Redis) -> None:
    b = await book(redis)
    await record_access(redis, b.clinic.id, 1_000_000.0)
    await run_retention(redis, 1_000_000.0 + INACTIVITY_SECONDS - 10 * DAY)
    await create_user(redis, "root", GP_PASSWORD, "Root", "admin")
    async with browser(client) as admin:
        await login(admin, "root")
        page = await (await admin.get("/admin/retention?lang=en")).text()
    assert "1 clinic(s) are warned" in page or "1 klinik(ker) er varslet" in page


async def test_the_admin_reads_a_patients_data_by_cpr_and_the_read_is_audited(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    cpr_key = client.app[CPR_KEY]
    c = await update_consultation(redis, b.consultation, cpr_hash=cpr_key.hash("010203-1234"))
    await add_clinic_message(redis, c.id, "Lægen er forsinket")
    await create_user(redis, "root", GP_PASSWORD, "Root", "admin")
    async with browser(client) as admin:
        await login(admin, "root")
        response = await admin.post(
            "/admin/subject",
            data={"cpr": "010203-1234"},
            headers={"Origin": str(client.make_url("/")).rstrip("/")},
        )
        page = await response.text()
    assert response.status == 200
    assert f'data-consultation-id="{c.id}"' in page and "Lægen er forsinket" in page
    assert "010203" not in page
    exported = [e for e in await read_audit(redis) if e.action == "subject.exported"]
    assert exported[-1].data == {"consultation_ids": [c.id]}


async def test_a_gp_cannot_read_the_subject_page(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with browser(client) as gp:
        await login(gp, b.gp.username)
        response = await gp.post(
            "/admin/subject", data={"consultation": b.consultation.id}, allow_redirects=False
        )
    assert response.status in (403, 303)


async def test_the_admin_records_the_end_of_the_pilot(client: Client, redis: Redis) -> None:
    await create_user(redis, "root", GP_PASSWORD, "Root", "admin")
    async with browser(client) as admin:
        await login(admin, "root")
        response = await admin.post(
            "/admin/retention/pilot-ended",
            data={"ended_on": "2026-06-30"},
            headers={"Origin": str(client.make_url("/")).rstrip("/")},
            allow_redirects=False,
        )
        assert response.status == 303
        page = await (await admin.get("/admin/retention")).text()
    assert await pilot_ended(redis) == "2026-06-30"
    assert "Piloten sluttede 30.06.2026" in page and "slettes 30.12.2026" in page
    assert [e.data for e in await read_audit(redis) if e.action == "pilot.notetaker_ended"] == [
        {"ended_on": "2026-06-30"}
    ]


async def test_the_server_runs_the_retention_job_in_the_background(
    aiohttp_client: Any, settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = await book(redis)
    long_ago = date.fromtimestamp(time.time() - CANCELLATION_NOTICE_SECONDS - 10 * DAY)
    await cancel_clinic(redis, b.clinic.ydernummer, long_ago.isoformat(), "cli")
    monkeypatch.setattr(app_module, "RETENTION_INTERVAL_SECONDS", 0.05)

    await aiohttp_client(app_module.create_app(settings))
    for _ in range(100):
        if not await redis.exists(keys.clinic(b.clinic.id)):
            break
        await asyncio.sleep(0.05)
    assert not await redis.exists(keys.clinic(b.clinic.id))


async def test_deleting_a_clinic_closes_its_gps_open_consoles(client: Client, redis: Redis) -> None:
    b = await book(redis)
    await cancel_clinic(redis, b.clinic.ydernummer, "2026-01-01", "cli")
    async with browser(client) as gp:
        await login(gp, b.gp.username)
        async with gp.ws_connect("/ws") as ws:
            await gp_hello(ws)
            cancellation = await get_cancellation(redis, b.clinic.id)
            assert cancellation is not None
            await run_retention(redis, cancellation.delete_after + 1)
            assert (await until_closed(ws)).code == SESSION_ENDED
