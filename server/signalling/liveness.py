"""This instance says it is alive every second, and buries the instances that stopped saying
so (server/store/instances.py): their waiting patients are shown "connection lost" within
seconds of a crash, instead of when their presence runs out.

An instance that finds its own key lapsed was taken for dead (or Redis was away): it beats
its patients' presence at once, which tells their clinics they are connected again.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.signalling.presencekeeper import PresenceKeeper
from server.store import instances
from server.store.connection import Redis
from server.waitingroom.room import Room

log = logging.getLogger(__name__)

ALIVE_TTL = 5
ALIVE_BEAT_SECONDS = 1.0
# After an outage, every live instance gets this long to say it is alive before any is
# judged dead: two lifetimes of the key, so one missed beat under load is no death.
BURIAL_HOLD_SECONDS = 2 * ALIVE_TTL


class Liveness:
    def __init__(self, redis: Redis, room: Room, presence: PresenceKeeper) -> None:
        self._redis = redis
        self._room = room
        self._presence = presence
        self.instance_id = presence.instance_id

    async def start(self) -> None:
        """Before serving: a former life under the same id (a restart after a crash) is
        buried first, so its patients' clinics learn they are gone."""
        try:
            await self._bury(self.instance_id, force=True)
            await instances.alive(self._redis, self.instance_id, ALIVE_TTL)
        except (RedisConnectionError, RedisTimeoutError):
            log.warning("liveness: Redis unreachable at start")

    async def beat(self, after_outage: bool = False) -> None:
        if after_outage:
            await instances.hold_burials(self._redis, BURIAL_HOLD_SECONDS)
        if not await instances.alive(self._redis, self.instance_id, ALIVE_TTL):
            log.warning("liveness: this instance's key had lapsed; renewing its presence")
            await self._presence.beat()
        for other in await instances.unanswered(self._redis, self.instance_id):
            await self._bury(other)

    async def _bury(self, instance_id: str, force: bool = False) -> None:
        lost = await instances.bury(self._redis, instance_id, force)
        if lost is None:
            return
        if instance_id != self.instance_id:
            log.warning("instance %s stopped answering: %d patients lost", instance_id, len(lost))
        await self._room.connection_changed(lost)

    async def run(self) -> None:
        unreachable = False
        while True:
            await asyncio.sleep(ALIVE_BEAT_SECONDS)
            try:
                await self.beat(after_outage=unreachable)
                unreachable = False
            except (RedisConnectionError, RedisTimeoutError):
                unreachable = True
            except Exception:
                log.exception("liveness round failed")

    async def stop(self) -> None:
        """A graceful stop: nobody needs to find this instance dead."""
        try:
            await instances.retire(self._redis, self.instance_id)
        except (RedisConnectionError, RedisTimeoutError):
            log.warning("liveness: Redis unreachable at stop")
