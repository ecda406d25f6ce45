"""One instance's reader in a consumer group of the event stream.

Every instance reads `av:events` in the group, so each entry goes to one of them. A batch is
handled, then acknowledged in one transaction with whatever the handler queued on it, so an
instance that dies mid-way leaves the batch pending; after `claim_idle` seconds another
instance (or the same one, restarted) claims it with XAUTOCLAIM and handles it again.
Delivery is therefore at least once: handlers are idempotent, keyed by event id.

The loop outlives errors (Redis restarting empty makes it join the group again) but never
its own cancellation.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from redis.asyncio.client import Pipeline

from server.resilience import pause_after_error, stop_if_cancelled
from server.store import decoded, keys
from server.store.connection import Redis
from server.store.events import StreamEvent, join_events

BATCH = 100
# A consumer (an instance that has gone) with nothing pending is forgotten after this long.
FORGET_CONSUMER_MS = 24 * 3600 * 1000

Entry = tuple[str, dict[str, str] | None]
# Handles a batch of well-formed events; what it queues on the pipeline commits together
# with the batch's acknowledgement.
Handler = Callable[[list[StreamEvent], Pipeline], Awaitable[None]]


class GroupConsumer:
    def __init__(
        self,
        redis: Redis,
        group: str,
        consumer: str,
        handler: Handler,
        *,
        start: str,
        claim_idle: float,
    ) -> None:
        """`start` is where a new group begins ("0": every event there is, "$": those from
        now on); `claim_idle` is how many seconds an unacknowledged entry waits to be claimed."""
        self.redis = redis
        self.group = group
        self.consumer = consumer
        self.handler = handler
        self.start = start
        self.claim_idle = claim_idle

    async def ensure_group(self) -> None:
        await join_events(self.redis, self.group, self.start)

    async def run(self) -> None:
        claim_every = self.claim_idle / 2
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
                await self.step(block_ms)
            except Exception:
                grouped = False  # Redis may have restarted empty
                await pause_after_error(f"event consumer group {self.group!r}")

    async def step(self, block_ms: int | None = None) -> int:
        """Handle the next batch of new entries; how many there were."""
        reply = await self.redis.xreadgroup(
            self.group, self.consumer, {keys.EVENTS: ">"}, count=BATCH, block=block_ms
        )
        entries = [entry for _stream, batch in decoded.streams(reply) or [] for entry in batch]
        await self.handle(entries)
        return len(entries)

    async def claim_stale(self) -> None:
        """Take over entries another consumer read but never acknowledged."""
        idle_ms = int(self.claim_idle * 1000)
        start = "0-0"
        while True:
            start, entries, *_ = await self.redis.xautoclaim(
                keys.EVENTS, self.group, self.consumer, idle_ms, start_id=start, count=BATCH
            )
            await self.handle(entries)
            if start == "0-0":
                break
        await self._forget_gone_consumers()

    async def handle(self, entries: list[Entry]) -> None:
        """Handle the entries' events, then acknowledge all of them (malformed ones too)."""
        if not entries:
            return
        parsed = (StreamEvent.parse(entry_id, fields) for entry_id, fields in entries if fields)
        events = [event for event in parsed if event is not None]
        async with self.redis.pipeline(transaction=True) as pipe:
            await self.handler(events, pipe)
            pipe.xack(keys.EVENTS, self.group, *(entry_id for entry_id, _ in entries))
            await pipe.execute()

    async def _forget_gone_consumers(self) -> None:
        for c in await self.redis.xinfo_consumers(keys.EVENTS, self.group):
            if c["pending"] == 0 and c["idle"] > FORGET_CONSUMER_MS and c["name"] != self.consumer:
                await self.redis.xgroup_delconsumer(keys.EVENTS, self.group, c["name"])
