"""From the event stream into the vendors' outboxes, once per event across all instances.

Every instance reads `av:events` in one consumer group, so each entry goes to one of them.
Filing an entry's messages and acknowledging it happen in one transaction, so an instance
that dies mid-way leaves the entry pending; after `claim_idle` seconds another instance (or
the same one, restarted) claims it with XAUTOCLAIM and files it.
"""

from __future__ import annotations

import time
from collections import defaultdict

from server.store import keys
from server.store.connection import Redis
from server.store.events import join_events
from server.store.vendors import get_vendor
from server.store.webhooks import webhook_vendor_ids
from server.webhooks import outbox
from server.webhooks.outbox import Message
from server.webhooks.payloads import (
    StreamEvent,
    payload_body,
    published_clinic,
    vendor_payload,
    ydernumre,
)
from server.webhooks.policy import DeliveryPolicy
from server.webhooks.resilience import pause_after_error, stop_if_cancelled

GROUP = "webhooks"
BATCH = 100
# A consumer (an instance that has gone) with nothing pending is forgotten after this long.
FORGET_CONSUMER_MS = 24 * 3600 * 1000

Entry = tuple[str, dict[str, str] | None]


class FanOut:
    def __init__(self, redis: Redis, consumer: str, policy: DeliveryPolicy) -> None:
        self.redis = redis
        self.consumer = consumer
        self.policy = policy

    async def ensure_group(self) -> None:
        """The group starts at the stream's end: events from before webhooks existed stay
        out of them (the polling endpoint still has them)."""
        await join_events(self.redis, GROUP, start="$")

    async def run(self) -> None:
        claim_every = self.policy.claim_idle / 2
        block_ms = max(1, int(min(1.0, claim_every) * 1000))
        last_claim = -claim_every
        grouped = False
        while True:
            stop_if_cancelled()
            try:
                if not grouped:
                    await self.ensure_group()
                    grouped = True
                if time.monotonic() - last_claim >= claim_every:
                    last_claim = time.monotonic()
                    await self.claim_stale()
                reply = await self.redis.xreadgroup(
                    GROUP, self.consumer, {keys.EVENTS: ">"}, count=BATCH, block=block_ms
                )
                for _stream, entries in reply or []:
                    await self.file(entries)
            except Exception:
                grouped = False  # Redis may have restarted empty
                await pause_after_error("webhook fan-out")

    async def claim_stale(self) -> None:
        """Take over entries another consumer read but never acknowledged."""
        idle_ms = int(self.policy.claim_idle * 1000)
        start = "0-0"
        while True:
            start, entries, *_ = await self.redis.xautoclaim(
                keys.EVENTS, GROUP, self.consumer, idle_ms, start_id=start, count=BATCH
            )
            if entries:
                await self.file(entries)
            if start == "0-0":
                break
        await self._forget_gone_consumers()

    async def _forget_gone_consumers(self) -> None:
        for c in await self.redis.xinfo_consumers(keys.EVENTS, GROUP):
            if c["pending"] == 0 and c["idle"] > FORGET_CONSUMER_MS and c["name"] != self.consumer:
                await self.redis.xgroup_delconsumer(keys.EVENTS, GROUP, c["name"])

    async def file(self, entries: list[Entry]) -> None:
        """File each entry's messages in the outboxes of the vendors serving its clinic, and
        acknowledge the entries, all in one transaction."""
        parsed = [StreamEvent.parse(entry_id, fields) for entry_id, fields in entries if fields]
        published = [(e, clinic_id) for e in parsed if e and (clinic_id := published_clinic(e))]
        subscribers = await self._subscribers() if published else {}
        numbers = await ydernumre(self.redis, subscribers) if subscribers else {}
        now = time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            for event, clinic_id in published:
                if clinic_id not in numbers:
                    continue
                body = payload_body(vendor_payload(event, numbers[clinic_id]))
                for vendor_id in subscribers[clinic_id]:
                    # The first try is due at the event's own time: oldest events go first.
                    message = Message(event.id, body, now)
                    outbox.enqueue(pipe, vendor_id, message, event.at_ms / 1000)
            pipe.xack(keys.EVENTS, GROUP, *(entry_id for entry_id, _ in entries))
            await pipe.execute()

    async def _subscribers(self) -> dict[str, list[str]]:
        """clinic id -> the vendors with a webhook that serve it."""
        by_clinic: dict[str, list[str]] = defaultdict(list)
        for vendor_id in sorted(await webhook_vendor_ids(self.redis)):
            vendor = await get_vendor(self.redis, vendor_id)
            for clinic_id in vendor.clinic_ids if vendor else ():
                by_clinic[clinic_id].append(vendor_id)
        return by_clinic
