"""Issue 15, "Standards, to the letter", webhooks (https://www.standardwebhooks.com/): a 410
disables the endpoint, a rotated secret keeps signing for a while beside the new one, and a
429 or 503 with `Retry-After` is not tried again before it says."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from pytest_aiohttp import AiohttpClient

from server.settings import Settings
from server.store import keys
from server.store.connection import Redis
from server.store.events import EventType, append_event
from server.webhooks.policy import retry_after
from server.webhooks.signing import InvalidSignature, verify
from tests.integration.webhookreceiver import (
    Client,
    Receiver,
    bearer,
    eventually,
    register,
    start,
    vendor_with_key,
)
from tests.unit.factories import make_clinic


async def shown(api: Client, key: str) -> dict[str, object]:
    response = await api.get("/api/v1/webhook", headers=bearer(key))
    assert response.status == 200
    body: dict[str, object] = await response.json()
    return body


async def test_a_410_disables_the_endpoint_until_it_is_registered_again(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    api = await start(aiohttp_client, settings)
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])
    async with Receiver(answer=lambda n: 410 if n == 0 else 200) as receiver:
        await register(api, key, receiver.url)
        first = await append_event(
            redis, EventType.CALL_STARTED, consultation_id="c1", clinic_id=clinic.id
        )
        await eventually(lambda: len(receiver.answered) == 1)

        async def disabled() -> bool:
            return (await shown(api, key))["active"] is False

        await eventually(disabled)
        webhook = await shown(api, key)
        assert webhook["disabled_at"] and "410" in str(webhook["disabled_reason"])

        # Disabled: nothing more is tried, neither the first event nor a new one.
        await append_event(redis, EventType.CALL_ENDED, consultation_id="c1", clinic_id=clinic.id)
        await asyncio.sleep(0.5)
        assert len(receiver.arrived) == 1

        # Registered again, it receives what was pending when it said 410.
        await register(api, key, receiver.url)
        assert (await shown(api, key))["active"] is True
        await eventually(lambda: len(receiver.answered) == 2)
    assert receiver.ids() == [first, first]


async def test_after_a_rotation_both_secrets_sign_for_a_while(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    """A receiver still holding the old secret, and one already holding the new one, both
    accept the deliveries made after the rotation."""
    api = await start(aiohttp_client, settings)
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])
    async with Receiver() as receiver:
        old = await register(api, key, receiver.url)
        new = await register(api, key, receiver.url)
        await append_event(redis, EventType.CALL_STARTED, consultation_id="c1", clinic_id=clinic.id)
        await eventually(lambda: len(receiver.answered) == 1)
    [delivery] = receiver.arrived
    verify(old, delivery.headers, delivery.body, now=time.time())
    verify(new, delivery.headers, delivery.body, now=time.time())
    assert len(delivery.headers["webhook-signature"].split()) == 2
    webhook = await shown(api, key)
    assert webhook["secret"] == new and webhook["previous_secret_signs_until"]

    # The overlap over, only the new secret signs.
    await redis.hset(keys.webhook(await the_vendor(redis)), "previous_until", "0")
    async with Receiver() as receiver:
        await register_same_secret_url(redis, receiver.url)
        await append_event(redis, EventType.CALL_ENDED, consultation_id="c1", clinic_id=clinic.id)
        await eventually(lambda: len(receiver.answered) == 1)
    [later] = receiver.arrived
    verify(new, later.headers, later.body, now=time.time())
    with pytest.raises(InvalidSignature):
        verify(old, later.headers, later.body, now=time.time())


async def the_vendor(redis: Redis) -> str:
    """The one vendor with a webhook."""
    [vendor_id] = await redis.smembers(keys.WEBHOOK_VENDORS)
    return str(vendor_id)


async def register_same_secret_url(redis: Redis, url: str) -> None:
    """Point the webhook at another receiver without rotating its secret."""
    await redis.hset(keys.webhook(await the_vendor(redis)), "url", url)


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis, status: int
) -> None:
    api = await start(aiohttp_client, settings)
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])
    async with Receiver(answer=lambda n: status, headers=lambda n: {"Retry-After": "30"}) as r:
        await register(api, key, r.url)
        event_id = await append_event(
            redis, EventType.CALL_STARTED, consultation_id="c1", clinic_id=clinic.id
        )
        await eventually(lambda: len(r.answered) == 1)
        answered_at = time.time()
        vendor_id = await the_vendor(redis)

        async def rescheduled() -> bool:
            raw = await redis.hget(keys.webhook_messages(vendor_id), event_id)
            return raw is not None and '"attempts": 1' in raw

        await eventually(rescheduled)
        due = await redis.zscore(keys.webhook_due(vendor_id), event_id)
        assert due is not None and due >= answered_at + 25  # FAST would retry within 0.2 s
        await asyncio.sleep(0.5)
    assert len(r.arrived) == 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = time.time()
    later = format_datetime(datetime.fromtimestamp(now + 120, UTC), usegmt=True)
    assert retry_after("120", now) == 120
    assert retry_after(later, now) == pytest.approx(120, abs=1)
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 0
    assert retry_after("soon", now) is None
    assert retry_after("", now) is None
