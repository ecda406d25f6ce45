"""Webhook delivery end to end: the real app(s), a real Redis, and vendors' receivers as
real HTTP servers on real ports."""

from __future__ import annotations

import asyncio
import time

from pytest_aiohttp import AiohttpClient

from server.settings import Settings
from server.store import keys
from server.store.connection import Redis
from server.store.events import EventType, append_event
from server.webhooks.fanout import GROUP, fanout_consumer
from server.webhooks.signing import verify
from tests.integration.webhookreceiver import (
    FAST,
    Receiver,
    bearer,
    eventually,
    register,
    start,
    vendor_with_key,
)
from tests.unit.factories import make_clinic


async def all_sent(redis: Redis) -> bool:
    """No vendor has a delivery pending."""
    vendor_ids = await redis.smembers(keys.WEBHOOK_VENDORS)
    return not await redis.exists(*(keys.webhook_messages(v) for v in vendor_ids))


async def test_a_vendor_registers_its_webhook_and_gets_a_new_secret_each_time(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    api = await start(aiohttp_client, settings)
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])

    missing = await api.get("/api/v1/webhook", headers=bearer(key))
    assert missing.status == 404
    assert (await missing.json())["code"] == "no_webhook"

    first = await register(api, key, "https://lps.example.dk/hook")
    second = await register(api, key, "https://lps.example.dk/hook")
    assert first != second and second.startswith("whsec_")
    shown = await api.get("/api/v1/webhook", headers=bearer(key))
    shown_body = await shown.json()
    assert (shown_body["url"], shown_body["secret"]) == ("https://lps.example.dk/hook", second)
    assert shown_body["active"] is True

    for body in [{"url": "http://lps.example.dk/hook"}, {"url": 5}, {}, {"url": "x", "y": 1}]:
        refused = await api.put("/api/v1/webhook", json=body, headers=bearer(key))
        assert refused.status == 422
        assert refused.content_type == "application/problem+json"
        assert (await refused.json())["code"] == "invalid_body"
    assert (await api.put("/api/v1/webhook", json={"url": "https://x.dk"})).status == 401
    assert (await api.get("/api/v1/webhook/dead-letters")).status == 401


async def test_a_delivery_is_signed_and_retried_with_the_same_id_after_a_500(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    api = await start(aiohttp_client, settings)
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])
    async with Receiver(answer=lambda n: 500 if n == 0 else 200) as receiver:
        secret = await register(api, key, receiver.url)
        event_id = await append_event(
            redis, EventType.PATIENT_WAITING, consultation_id="c1", clinic_id=clinic.id
        )
        await eventually(lambda: len(receiver.answered) == 2)
        await eventually(lambda: all_sent(redis))

    (first, status_1), (second, status_2) = receiver.answered
    assert (status_1, status_2) == (500, 200)
    assert first.id == second.id == event_id
    assert first.body == second.body
    assert first.payload == {
        "id": event_id,
        "type": "patient.waiting",
        "timestamp": first.payload["timestamp"],
        "data": {"consultation_id": "c1", "clinic": clinic.ydernummer},
    }
    assert first.headers["Content-Type"] == "application/json"
    receiver.verify_all(secret)
    assert len(receiver.arrived) == 2


async def test_two_instances_deliver_each_event_once_and_only_to_its_clinics_vendors(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    a = await start(aiohttp_client, settings.with_(instance_id="instance-a"))
    b = await start(aiohttp_client, settings.with_(instance_id="instance-b"))
    ours, theirs = await make_clinic(redis), await make_clinic(redis, "Lægerne i Brabrand")
    key = await vendor_with_key(redis, [ours.id])
    other_key = await vendor_with_key(redis, [theirs.id], "Anden Journal ApS")
    async with Receiver() as receiver, Receiver() as other:
        secret = await register(a, key, receiver.url)
        await register(b, other_key, other.url)
        sent = []
        for n in range(60):
            clinic = ours if n % 3 else theirs
            sent.append(
                (clinic, await append_event(redis, EventType.CALL_STARTED, consultation_id=f"c{n}",
                                            clinic_id=clinic.id))
            )  # fmt: skip
            await append_event(
                redis, EventType.PATIENT_HELD, consultation_id=f"c{n}", clinic_id=ours.id
            )
        ours_ids = [eid for clinic, eid in sent if clinic is ours]
        theirs_ids = [eid for clinic, eid in sent if clinic is theirs]
        await eventually(lambda: len(set(receiver.ids())) == len(ours_ids))
        await eventually(lambda: len(set(other.ids())) == len(theirs_ids))
        await eventually(lambda: all_sent(redis))
        await asyncio.sleep(0.5)  # room for a duplicate to show up, if there were one

    assert sorted(receiver.ids()) == sorted(ours_ids)  # each once, nothing of the other clinic
    assert sorted(other.ids()) == sorted(theirs_ids)
    assert {r.payload["type"] for r in receiver.arrived} == {"call.started"}
    receiver.verify_all(secret)
    consumers = await redis.xinfo_consumers(keys.EVENTS, GROUP)
    assert {c["name"] for c in consumers} <= {"instance-a", "instance-b"}
    assert all(c["pending"] == 0 for c in consumers)


async def test_a_slow_vendor_does_not_delay_another(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    api = await start(aiohttp_client, settings, request_timeout=30)
    # A clinic has one LPS vendor at a time (one record serves invoices and tenancy), so
    # each vendor serves a clinic of its own, and both clinics' events come interleaved.
    slow_clinic, fast_clinic = await make_clinic(redis), await make_clinic(redis, "Hurtig")
    slow_key = await vendor_with_key(redis, [slow_clinic.id], "Langsom Journal")
    fast_key = await vendor_with_key(redis, [fast_clinic.id], "Hurtig Journal")
    async with Receiver(hold=asyncio.Event()) as slow, Receiver() as fast:
        await register(api, slow_key, slow.url)
        await register(api, fast_key, fast.url)
        ids: dict[str, list[str]] = {slow_clinic.id: [], fast_clinic.id: []}
        for n in range(10):
            for clinic_id in ids:
                ids[clinic_id].append(
                    await append_event(
                        redis, EventType.CALL_STARTED, consultation_id=f"c{n}", clinic_id=clinic_id
                    )
                )
        await eventually(lambda: len(slow.arrived) > 0)
        await eventually(lambda: len(fast.answered) == len(ids[fast_clinic.id]))
        # The slow vendor's endpoint has not answered once, and the other got everything.
        assert slow.answered == []
        assert sorted(fast.ids()) == sorted(ids[fast_clinic.id])

        assert slow.hold is not None
        slow.hold.set()
        await eventually(lambda: set(slow.ids()) == set(ids[slow_clinic.id]))


async def test_a_delivery_failing_for_max_age_becomes_a_dead_letter(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    api = await start(aiohttp_client, settings, max_age=0.5)
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])
    async with Receiver(answer=lambda n: 503) as receiver:
        await register(api, key, receiver.url)
        event_id = await append_event(
            redis, EventType.CALL_ENDED, consultation_id="c1", clinic_id=clinic.id,
            billing_code="0125", duration_seconds=300, parties=2,
        )  # fmt: skip

        async def dead() -> list[dict[str, object]]:
            response = await api.get("/api/v1/webhook/dead-letters", headers=bearer(key))
            assert response.status == 200
            found: list[dict[str, object]] = (await response.json())["dead_letters"]
            return found

        async def has_dead() -> bool:
            return bool(await dead())

        await eventually(has_dead)
        tries = len(receiver.arrived)
        await asyncio.sleep(0.5)
        assert len(receiver.arrived) == tries  # given up: no more tries

    [letter] = await dead()
    assert letter["id"] == event_id
    assert letter["payload"] == receiver.arrived[0].payload
    assert letter["last_error"] == "HTTP 503"
    assert letter["attempts"] == tries > 1
    assert {r.id for r in receiver.arrived} == {event_id}
    assert await all_sent(redis)


async def test_events_read_by_an_instance_that_died_are_taken_over(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])
    await fanout_consumer(redis, "instance-gone", FAST).ensure_group()
    event_id = await append_event(redis, EventType.PATIENT_LEFT, consultation_id="c1",
                                  clinic_id=clinic.id, reason="vanished")  # fmt: skip
    # An instance reads the event and dies before filing it.
    read = await redis.xreadgroup(GROUP, "instance-gone", {keys.EVENTS: ">"}, count=10)
    assert [entry_id for entry_id, _ in read[0][1]] == [event_id]

    api = await start(aiohttp_client, settings, claim_idle=0.5)
    async with Receiver() as receiver:
        secret = await register(api, key, receiver.url)
        await eventually(lambda: receiver.ids() == [event_id])
    receiver.verify_all(secret)
    assert receiver.arrived[0].payload["data"] == {
        "consultation_id": "c1", "clinic": clinic.ydernummer, "reason": "vanished",
    }  # fmt: skip
    pending = await redis.xpending(keys.EVENTS, GROUP)
    assert pending["pending"] == 0


async def test_a_rotated_secret_signs_the_deliveries_after_it(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    api = await start(aiohttp_client, settings)
    clinic = await make_clinic(redis)
    key = await vendor_with_key(redis, [clinic.id])
    async with Receiver() as receiver:
        old = await register(api, key, receiver.url)
        await append_event(redis, EventType.CALL_STARTED, consultation_id="c1", clinic_id=clinic.id)
        await eventually(lambda: len(receiver.answered) == 1)
        new = await register(api, key, receiver.url)
        await append_event(redis, EventType.CALL_STARTED, consultation_id="c2", clinic_id=clinic.id)
        await eventually(lambda: len(receiver.answered) == 2)
    before, after = receiver.arrived
    verify(old, before.headers, before.body, now=time.time())
    verify(new, after.headers, after.body, now=time.time())
