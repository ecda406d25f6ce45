"""Router over Redis pub/sub: one subscriber connection per instance, fanned out locally.

Redis delivers a channel's messages in publish order, and a socket publishes one message
after the other, so each sender's messages arrive in the order it sent them. A control is
parsed once here, on arrival, and the same object goes to every local listener.

A browser message already encoded (`Frame`, a relayed signal) travels as its text behind
`FRAME_MARK`, which no JSON text starts with: the receiving instance hands the same text to
the socket without parsing it.

`subscribe` returns once Redis has confirmed the subscription: a listener that reads a
snapshot after subscribing (a GP's list, a patient's place) then misses no later change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import Final

import orjson

from server import safejson
from server.signalling import controls
from server.signalling.controls import Delivery
from server.signalling.router import Listener
from server.store.coalescer import Coalescer
from server.store.connection import Redis

log = logging.getLogger(__name__)

SUBSCRIBE_PATIENCE_SECONDS = 5.0
FAN_OUT_CHUNK = 50  # listeners handed a message before other work gets a turn
FRAME_MARK: Final = "="


class RedisRouter:
    def __init__(
        self, redis: Redis, instance_channel: str, coalescer: Coalescer | None = None
    ) -> None:
        self._redis = redis
        # Publishes go out with the other commands of the same turn of the loop.
        self._coalescer = coalescer or Coalescer(redis)
        self._pubsub = redis.pubsub()  # with its confirmations, which `run` reads
        # A tuple per channel, not a set: most channels have one listener (a waiting patient's
        # own), and a 1-tuple is a quarter of an empty set's size.
        self._listeners: dict[str, tuple[Listener, ...]] = {}
        self._confirmed: dict[str, asyncio.Event] = {}
        # Once a channel's subscription is confirmed its own event (900 bytes, one per waiting
        # patient's channel) gives way to this one, set for good.
        self._done = asyncio.Event()
        self._done.set()
        self._instance_channel = instance_channel
        self._lock = asyncio.Lock()
        self._lost = False  # the subscriber connection failed; not yet read from again

    async def stop(self) -> None:
        await self._pubsub.aclose()

    async def subscribe(self, channel: str, listener: Listener) -> None:
        async with self._lock:
            listeners = self._listeners.get(channel, ())
            if listener not in listeners:
                self._listeners[channel] = (*listeners, listener)
            if not listeners:
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
            before = self._listeners.get(channel, ())
            listeners = tuple(one for one in before if one is not listener)
            if listeners:
                self._listeners[channel] = listeners
            elif channel in self._listeners:
                del self._listeners[channel]
                del self._confirmed[channel]
                await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Delivery) -> None:
        if isinstance(message, controls.Frame):
            body = FRAME_MARK + message.text
        else:
            body = safejson.dumps(controls.wire(message))
        (reply,) = await self._coalescer.execute([("PUBLISH", channel, body)])
        if isinstance(reply, Exception):
            raise reply

    def local_listeners(self, channel: str) -> Collection[Listener]:
        return self._listeners.get(channel, ())

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
                self._confirmed[channel] = self._done
            if item["type"] != "message":
                continue
            data: str = item["data"]
            try:
                if data.startswith(FRAME_MARK):
                    message: Delivery = controls.Frame(data[len(FRAME_MARK) :])
                else:
                    message = controls.parse(orjson.loads(data))  # our own instances' text
            except ValueError:
                log.exception("unreadable message on %s; dropped", channel)
                continue
            await self._fan_out(self._listeners.get(channel, ()), message)

    @staticmethod
    async def _fan_out(listeners: tuple[Listener, ...], message: Delivery) -> None:
        """Hand the message to each listener, letting other work run between chunks: a
        clinic's queue move reaches every patient waiting there, and the one patient
        being admitted must not wait behind all of their place updates. Messages stay in
        order, since the next is not read before this one is handed out."""
        for start in range(0, len(listeners), FAN_OUT_CHUNK):
            if start:
                await asyncio.sleep(0)
            for listener in listeners[start : start + FAN_OUT_CHUNK]:
                listener.deliver(message)

    def _resync(self) -> None:
        log.warning("pub/sub is back; listeners resynchronise")
        resync = controls.Resync()
        for listener in {listener for group in self._listeners.values() for listener in group}:
            listener.deliver(resync)
