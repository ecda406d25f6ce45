"""A vendor's receiver down for a while (nothing listening: connections refused) while
events happen: once it is back, every event arrives, none goes to the dead letters."""

from __future__ import annotations

import asyncio

from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.settings import Settings
from server.store.connection import Redis
from server.store.events import EventType, append_event
from tests.integration.webhookreceiver import (
    FAST,
    Receiver,
    bearer,
    eventually,
    register,
    vendor_with_key,
)
from tests.support.redisserver import free_port
from tests.unit.factories import make_clinic

EVENTS = 12
DOWN_SECONDS = 2.0  # some forty retry intervals of the fast policy


async def test_every_event_reaches_a_receiver_that_was_down(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    local = settings.with_(webhook_policy=FAST, webhook_allow_local=True)
    api = await aiohttp_client(create_app(local))
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])
    port = free_port()
    async with Receiver(port=port) as before:
        await register(api, key, before.url)

    sent = [
        await append_event(
            redis, EventType.PATIENT_WAITING, consultation_id=f"c{n}", clinic_id=clinic.id
        )
        for n in range(EVENTS)
    ]
    await asyncio.sleep(DOWN_SECONDS)  # deliveries fail and are retried meanwhile

    async with Receiver(port=port) as after:
        await eventually(lambda: set(after.ids()) >= set(sent), within=30)
    assert before.arrived == []
    dead = await api.get("/api/v1/webhook/dead-letters", headers=bearer(key))
    assert dead.status == 200
    assert (await dead.json())["dead_letters"] == []
