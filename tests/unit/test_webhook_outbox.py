"""A vendor's outbox in a real Redis: leases, retries with back-off, dead letters."""

from __future__ import annotations

import json
import random

from server.store import keys
from server.store.connection import Redis
from server.webhooks import outbox
from server.webhooks.outbox import Message
from server.webhooks.policy import DeliveryPolicy

T0 = 1_780_000_000.0
POLICY = DeliveryPolicy(base_delay=5, max_delay=3600, max_age=86400)
BODY = '{"id":"e1","type":"patient.waiting","timestamp":"t","data":{}}'


async def put(redis: Redis, *messages: Message, due: float = T0) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        for m in messages:
            outbox.enqueue(pipe, "v1", m, due)
        await pipe.execute()


async def test_a_leased_message_is_hidden_until_the_lease_ends(redis: Redis) -> None:
    await put(redis, Message("e1", BODY, T0))
    [leased] = await outbox.lease_due(redis, "v1", T0, T0 + 40, 10)
    assert leased == Message("e1", BODY, T0)
    assert await outbox.lease_due(redis, "v1", T0 + 39, T0 + 80, 10) == []
    assert [m.id for m in await outbox.lease_due(redis, "v1", T0 + 40, T0 + 80, 10)] == ["e1"]


async def test_lease_takes_the_oldest_due_first_and_at_most_count(redis: Redis) -> None:
    for n in range(5):
        await put(redis, Message(f"e{n}", BODY, T0), due=T0 - 10 + n)
    await put(redis, Message("later", BODY, T0), due=T0 + 60)
    leased = await outbox.lease_due(redis, "v1", T0, T0 + 40, 3)
    assert [m.id for m in leased] == ["e0", "e1", "e2"]
    assert [m.id for m in await outbox.lease_due(redis, "v1", T0, T0 + 40, 10)] == ["e3", "e4"]


async def test_filing_the_same_event_twice_keeps_one_message(redis: Redis) -> None:
    await put(redis, Message("e1", BODY, T0))
    await outbox.failed(redis, "v1", Message("e1", BODY, T0), "HTTP 500", T0 + 1, POLICY)
    await put(redis, Message("e1", BODY, T0 + 2), due=T0)
    [again] = await outbox.lease_due(redis, "v1", T0 + 3600, T0 + 3640, 10)
    assert (again.attempts, again.first_at) == (1, T0)


async def test_delivered_removes_the_message(redis: Redis) -> None:
    await put(redis, Message("e1", BODY, T0))
    await outbox.delivered(redis, "v1", "e1")
    assert await redis.exists(keys.webhook_due("v1"), keys.webhook_messages("v1")) == 0


async def test_a_failure_is_retried_after_a_jittered_back_off(redis: Redis) -> None:
    await put(redis, Message("e1", BODY, T0))
    rng = random.Random(1)
    expected = random.Random(1).uniform(0, 5)
    assert not await outbox.failed(
        redis, "v1", Message("e1", BODY, T0), "HTTP 500", T0, POLICY, rng
    )
    assert await redis.zscore(keys.webhook_due("v1"), "e1") == T0 + expected
    [retry] = await outbox.lease_due(redis, "v1", T0 + 5, T0 + 45, 10)
    assert (retry.attempts, retry.last_error, retry.body) == (1, "HTTP 500", BODY)


async def test_after_a_day_of_failures_it_becomes_a_dead_letter(redis: Redis) -> None:
    await put(redis, Message("e1", BODY, T0))
    tried = Message("e1", BODY, T0, attempts=30)
    assert await outbox.failed(redis, "v1", tried, "no answer within 10 s", T0 + 86400, POLICY)
    assert await redis.exists(keys.webhook_due("v1"), keys.webhook_messages("v1")) == 0
    assert await outbox.dead_letters(redis, "v1") == [
        {
            "id": "e1",
            "payload": json.loads(BODY),
            "attempts": 31,
            "first_attempt_at": "2026-05-28T20:26:40Z",
            "dead_at": "2026-05-29T20:26:40Z",
            "last_error": "no answer within 10 s",
        }
    ]


async def test_a_late_failure_does_not_bring_back_a_delivered_message(redis: Redis) -> None:
    """Two senders after a lease ran out: one succeeded, the other's failure is moot."""
    await put(redis, Message("e1", BODY, T0))
    await outbox.delivered(redis, "v1", "e1")
    await outbox.failed(redis, "v1", Message("e1", BODY, T0), "HTTP 500", T0, POLICY)
    await outbox.failed(redis, "v1", Message("e1", BODY, T0), "HTTP 500", T0 + 86400, POLICY)
    assert await redis.exists(keys.webhook_due("v1"), keys.webhook_messages("v1")) == 0
    assert await outbox.dead_letters(redis, "v1") == []


async def test_dead_letters_are_capped_newest_first(redis: Redis) -> None:
    for n in range(outbox.DEAD_LETTERS_KEPT + 5):
        await put(redis, Message(f"e{n}", BODY, T0))
        await outbox.failed(redis, "v1", Message(f"e{n}", BODY, T0), "x", T0 + 86400, POLICY)
    assert await redis.llen(keys.webhook_dead_letters("v1")) == outbox.DEAD_LETTERS_KEPT
    newest = await outbox.dead_letters(redis, "v1", count=2)
    assert [d["id"] for d in newest] == [
        f"e{outbox.DEAD_LETTERS_KEPT + 4}",
        f"e{outbox.DEAD_LETTERS_KEPT + 3}",
    ]
