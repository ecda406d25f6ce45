"""The Redis router against a real Redis: fan-out, and what a listener hears when the
instance's pub/sub connection is lost and comes back."""

from __future__ import annotations

import asyncio

from server.signalling import controls
from server.signalling.controls import Delivery
from server.signalling.redisrouter import RedisRouter
from server.store.connection import Redis


class Heard:
    def __init__(self) -> None:
        self.messages: list[Delivery] = []
        self.arrived = asyncio.Event()

    def deliver(self, message: Delivery) -> None:
        self.messages.append(message)
        self.arrived.set()

    async def next(self) -> Delivery:
        await asyncio.wait_for(self.arrived.wait(), 10)
        self.arrived.clear()
        return self.messages[-1]


async def test_a_lost_pubsub_connection_tells_every_listener_once_to_resync(redis: Redis) -> None:
    router = RedisRouter(redis, "av:ch:instance:router-test")
    task = asyncio.create_task(router.run())
    try:
        gp, patient = Heard(), Heard()
        await router.subscribe("av:ch:clinic:a", gp)
        await router.subscribe("av:ch:clinic:b", gp)  # one listener on two channels
        await router.subscribe("av:ch:clinic:a", patient)
        await router.publish("av:ch:clinic:a", {"type": "ping"})
        assert await gp.next() == {"type": "ping"}
        assert await patient.next() == {"type": "ping"}

        killed = await redis.client_kill_filter(_type="pubsub")
        assert killed >= 1
        assert isinstance(await gp.next(), controls.Resync)
        assert isinstance(await patient.next(), controls.Resync)
        await router.publish("av:ch:clinic:b", {"type": "after"})  # subscribed again
        assert await gp.next() == {"type": "after"}
        assert sum(isinstance(m, controls.Resync) for m in gp.messages) == 1
    finally:
        task.cancel()
        await router.stop()


async def test_an_encoded_frame_arrives_as_the_same_text_beside_dicts_and_controls(
    redis: Redis,
) -> None:
    router = RedisRouter(redis, "av:ch:instance:router-test")
    task = asyncio.create_task(router.run())
    try:
        patient = Heard()
        await router.subscribe("av:ch:participant:p", patient)
        assert list(router.local_listeners("av:ch:participant:p")) == [patient]
        assert list(router.local_listeners("av:ch:participant:nobody")) == []
        text = '{"v":1,"type":"signal","from":"gp","candidate":{"candidate":"=x"}}'
        await router.publish("av:ch:participant:p", controls.Frame(text))
        assert await patient.next() == controls.Frame(text)
        await router.publish("av:ch:participant:p", {"type": "ping"})
        assert await patient.next() == {"type": "ping"}
        await router.publish("av:ch:participant:p", controls.Held())
        assert isinstance(await patient.next(), controls.Held)
    finally:
        task.cancel()
        await router.stop()
