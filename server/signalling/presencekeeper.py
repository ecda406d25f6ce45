"""Presence for everyone connected to this instance, in one batched round every few seconds.

Per-socket heartbeat tasks would cost each waiting patient a task and three Redis round
trips every beat; with thousands waiting that alone fills an instance. One round instead:
- refreshes every local waiting patient's presence in a single pipeline;
- reads each affected clinic's queue once and hands every local patient their true place
  (which also heals any queue delta lost on pub/sub);
- marks the local GPs as online, for the ETA;
- tells the clinics of patients whose presence had lapsed (a long Redis outage, or this
  instance taken for dead) that they are connected again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from server.clock import now
from server.store.connection import Redis
from server.store.instances import forget_before
from server.waitingroom.eta import clinic_pace, gps_seen
from server.waitingroom.queue import heartbeat_many, order_of
from server.waitingroom.room import Room

log = logging.getLogger(__name__)

BEAT_SECONDS = 10
PRESENCE_TTL = 25


class Waiter(Protocol):
    @property
    def participant_id(self) -> str: ...
    @property
    def clinic_id(self) -> str: ...
    @property
    def consultation_id(self) -> str: ...

    def resync(self, position: int, pace: float, moves: int) -> None: ...


class PresenceKeeper:
    def __init__(self, redis: Redis, room: Room, instance_id: str) -> None:
        self._redis = redis
        self._room = room
        self.instance_id = instance_id
        self._waiters: dict[str, Waiter] = {}
        self._gps: dict[str, tuple[str, str]] = {}  # socket id -> (clinic id, user id)

    def add_waiter(self, waiter: Waiter) -> None:
        self._waiters[waiter.participant_id] = waiter

    def discard_waiter(self, waiter: Waiter) -> None:
        if self._waiters.get(waiter.participant_id) is waiter:
            del self._waiters[waiter.participant_id]

    def add_gp(self, socket_id: str, clinic_id: str, user_id: str) -> None:
        self._gps[socket_id] = (clinic_id, user_id)

    def discard_gp(self, socket_id: str) -> None:
        self._gps.pop(socket_id, None)

    async def beat(self) -> None:
        started = now()
        waiters = list(self._waiters.values())
        ids = [w.participant_id for w in waiters]
        lapsed = await heartbeat_many(self._redis, ids, PRESENCE_TTL, self.instance_id)
        # A socket that closed since the last round is no longer this instance's; one still
        # saying hello was beaten for just now, so a round's margin keeps it.
        await forget_before(self._redis, self.instance_id, started - BEAT_SECONDS)
        await gps_seen(self._redis, self._gps.values())
        await self._room.connection_changed(lapsed)
        await self._resync(waiters)

    async def _resync(self, waiters: Iterable[Waiter]) -> None:
        by_clinic: dict[str, list[Waiter]] = defaultdict(list)
        for waiter in waiters:
            by_clinic[waiter.clinic_id].append(waiter)
        for clinic_id, group in by_clinic.items():
            order, moves = await order_of(self._redis, clinic_id)
            places = {consultation_id: index + 1 for index, consultation_id in enumerate(order)}
            pace = await clinic_pace(self._redis, clinic_id)
            for waiter in group:
                if waiter.consultation_id in places:
                    waiter.resync(places[waiter.consultation_id], pace, moves)
            await asyncio.sleep(0)  # one clinic at a time: let admits through in between

    async def run(self) -> None:
        while True:
            await asyncio.sleep(BEAT_SECONDS)
            try:
                await self.beat()
            except Exception:
                log.exception("presence round failed")
