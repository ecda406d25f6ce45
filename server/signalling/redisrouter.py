"""Router over Redis pub/sub: one subscriber connection per instance, fanned out locally.

Redis delivers a channel's messages in publish order, and a socket publishes one message
after the other, so each sender's messages arrive in the order it sent them. A control is
parsed once here, on arrival, and the same object goes to every local listener.
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


class RedisRouter:
    def __init__(self, redis: Redis, instance_channel: str) -> None:
        self._redis = redis
        self._pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self._listeners: dict[str, set[Listener]] = defaultdict(set)
        self._instance_channel = instance_channel
        self._lock = asyncio.Lock()

    async def stop(self) -> None:
        await self._pubsub.aclose()

    async def subscribe(self, channel: str, listener: Listener) -> None:
        async with self._lock:
            first = not self._listeners[channel]
            self._listeners[channel].add(listener)
            if first:
                await self._pubsub.subscribe(channel)

    async def unsubscribe(self, channel: str, listener: Listener) -> None:
        async with self._lock:
            listeners = self._listeners.get(channel)
            if not listeners:
                return
            listeners.discard(listener)
            if not listeners:
                del self._listeners[channel]
                await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Delivery) -> None:
        body = json.dumps(controls.wire(message), separators=(",", ":"))
        await self._redis.publish(channel, body)

    async def run(self) -> None:
        """Read and fan out until cancelled; survive Redis being down at start or later."""
        while True:
            try:
                if not self._pubsub.subscribed:
                    # Always subscribed to something, so the reader never sees an idle pub/sub.
                    await self._pubsub.subscribe(self._instance_channel)
                item = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pub/sub read failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if item is None or item.get("type") != "message":
                continue
            channel = item["channel"]
            try:
                message = controls.parse(json.loads(item["data"]))
            except ValueError:
                log.exception("unreadable message on %s; dropped", channel)
                continue
            for listener in list(self._listeners.get(channel, ())):
                listener.deliver(message)
