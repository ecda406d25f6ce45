"""Router over Redis pub/sub: one subscriber connection per instance, fanned out locally.

Redis delivers a channel's messages in publish order, and a socket publishes one message
after the other, so each sender's messages arrive in the order it sent them. A control is
parsed once here, on arrival, and the same object goes to every local listener.

`subscribe` returns once Redis has confirmed the subscription: a listener that reads a
snapshot after subscribing (a GP's list, a patient's place) then misses no later change.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict

from server.signalling import controls
from server.signalling.controls import Delivery
from server.signalling.router import Listener
from server.store.connection import Redis

log = logging.getLogger(__name__)

SUBSCRIBE_PATIENCE_SECONDS = 5.0


class RedisRouter:
    def __init__(self, redis: Redis, instance_channel: str) -> None:
        self._redis = redis
        self._pubsub = redis.pubsub()  # with its confirmations, which `run` reads
        self._listeners: dict[str, set[Listener]] = defaultdict(set)
        self._confirmed: dict[str, asyncio.Event] = {}
        self._instance_channel = instance_channel
        self._lock = asyncio.Lock()
        self._lost = False  # the subscriber connection failed; not yet read from again

    async def stop(self) -> None:
        await self._pubsub.aclose()

    async def subscribe(self, channel: str, listener: Listener) -> None:
        async with self._lock:
            first = not self._listeners[channel]
            self._listeners[channel].add(listener)
            if first:
                self._confirmed[channel] = asyncio.Event()
                await self._pubsub.subscribe(channel)
            confirmed = self._confirmed[channel]
        try:
            await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_PATIENCE_SECONDS)
        except TimeoutError:
            # Redis is slow or away: go on; what is missed meanwhile is healed by a resync.
            log.warning("no confirmation of the subscription to %s yet", channel)

    async def unsubscribe(self, channel: str, listener: Listener) -> None:
        async with self._lock:
            listeners = self._listeners.get(channel)
            if not listeners:
                return
            listeners.discard(listener)
            if not listeners:
                del self._listeners[channel]
                del self._confirmed[channel]
                await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Delivery) -> None:
        body = json.dumps(controls.wire(message), separators=(",", ":"))
        await self._redis.publish(channel, body)

    async def run(self) -> None:
        """Read and fan out until cancelled; survive Redis being down at start or later.
        A read that succeeds after a failure means the connection was made anew and every
        channel subscribed again (redis-py does so on connect): messages published in
        between are lost, so every listener is told to read the truth again."""
        while True:
            try:
                if not self._pubsub.subscribed:
                    # Always subscribed to something, so the reader never sees an idle pub/sub.
                    await self._pubsub.subscribe(self._instance_channel)
                item = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                if not self._lost:
                    log.exception("pub/sub read failed; retrying")
                self._lost = True
                await asyncio.sleep(0.5)
                continue
            if self._lost:
                self._lost = False
                self._resync()
            if item is None:
                continue
            channel = item["channel"]
            if item["type"] == "subscribe" and channel in self._confirmed:
                self._confirmed[channel].set()
            if item["type"] != "message":
                continue
            try:
                message = controls.parse(json.loads(item["data"]))
            except ValueError:
                log.exception("unreadable message on %s; dropped", channel)
                continue
            for listener in list(self._listeners.get(channel, ())):
                listener.deliver(message)

    def _resync(self) -> None:
        log.warning("pub/sub is back; listeners resynchronise")
        resync = controls.Resync()
        for listener in {listener for group in self._listeners.values() for listener in group}:
            listener.deliver(resync)
