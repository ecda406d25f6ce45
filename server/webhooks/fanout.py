"""From the event stream into the vendors' outboxes, once per event across all instances.

Every instance reads `av:events` in the consumer group `webhooks` (see
`server.store.groupconsumer`). Filing a batch's messages and acknowledging the batch happen
in one transaction: an instance that dies mid-way files nothing, and another claims the
batch and files it.
"""

from __future__ import annotations

import time
from collections import defaultdict

from redis.asyncio.client import Pipeline

from server.store.connection import Redis
from server.store.events import StreamEvent
from server.store.groupconsumer import GroupConsumer
from server.store.vendors import get_vendor
from server.store.webhooks import webhook_vendor_ids
from server.webhooks import outbox
from server.webhooks.outbox import Message
from server.webhooks.payloads import payload_body, published_clinic, vendor_payload, ydernumre
from server.webhooks.policy import DeliveryPolicy

GROUP = "webhooks"


def fanout_consumer(redis: Redis, consumer: str, policy: DeliveryPolicy) -> GroupConsumer:
    """The group starts at the stream's end: events from before webhooks existed stay out of
    them (the polling endpoint still has them)."""
    return GroupConsumer(
        redis, GROUP, consumer, FanOut(redis), start="$", claim_idle=policy.claim_idle
    )


class FanOut:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def __call__(self, events: list[StreamEvent], pipe: Pipeline) -> None:
        """Queue each event's messages for the outboxes of the vendors serving its clinic."""
        published = [(e, clinic_id) for e in events if (clinic_id := published_clinic(e))]
        subscribers = await self._subscribers() if published else {}
        numbers = await ydernumre(self.redis, subscribers) if subscribers else {}
        now = time.time()
        for event, clinic_id in published:
            if clinic_id not in numbers:
                continue
            body = payload_body(vendor_payload(event, numbers[clinic_id]))
            for vendor_id in subscribers[clinic_id]:
                # The first try is due at the event's own time: oldest events go first.
                message = Message(event.id, body, now)
                outbox.enqueue(pipe, vendor_id, message, event.at_ms / 1000)

    async def _subscribers(self) -> dict[str, list[str]]:
        """clinic id -> the vendors with a webhook that serve it."""
        by_clinic: dict[str, list[str]] = defaultdict(list)
        for vendor_id in sorted(await webhook_vendor_ids(self.redis)):
            vendor = await get_vendor(self.redis, vendor_id)
            for clinic_id in vendor.clinic_ids if vendor else ():
                by_clinic[clinic_id].append(vendor_id)
        return by_clinic
