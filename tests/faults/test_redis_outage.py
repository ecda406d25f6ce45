"""Redis down longer than anyone's presence lasts, with patients waiting on two instances:
an outage is not absence. Real processes: two app instances, one redis-server stopped and
started again on its port (its append-only file keeps the data), patients and a GP as
WebSocket clients that reconnect as the pages do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from server.store.consultations import Status, get_consultation
from server.store.events import read_events
from server.waitingroom.queue import waiting_ids
from tests.support.sockets import GpView, PatientSocket, populate
from tests.support.stack import Stack

OUTAGE_SECONDS = 30  # longer than a presence key lives (25 s): every one of them expires
SETTLE_SECONDS = 45  # a sweep hold (grace + presence round) and a sweep, with room to spare


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    stack = Stack(tmp_path, instances=2)
    await asyncio.to_thread(stack.start)
    yield stack
    await asyncio.to_thread(stack.stop)


async def test_a_long_redis_outage_loses_no_place_and_heals_the_gp_list(stack: Stack) -> None:
    async with stack.client() as redis:
        clinic = await populate(redis, 1, 5)
    live = [PatientSocket(b, stack.urls[i % 2]) for i, b in enumerate(clinic.patients[:4])]
    leaver = PatientSocket(clinic.patients[4], stack.urls[1])
    gp = GpView()
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(p.run(session)) for p in [*live, leaver]]
        tasks.append(asyncio.create_task(gp.run(session, stack.urls[0], clinic)))
        await asyncio.wait_for(asyncio.gather(*(p.waiting.wait() for p in live)), 20)
        await asyncio.wait_for(leaver.waiting.wait(), 20)
        everyone = {b.consultation_id for b in clinic.patients}
        for _ in range(100):
            if gp.waiting == everyone:
                break
            await asyncio.sleep(0.1)
        assert gp.waiting == everyone

        stack.redis.stop()
        await leaver.close()  # a patient who really leaves while nobody can record it
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(stack.redis.start)

        staying = [p.booked.consultation_id for p in live]
        gone = leaver.booked.consultation_id
        async with stack.client() as redis:
            for _ in range(SETTLE_SECONDS * 2):
                truth = await waiting_ids(redis, clinic.id)
                if truth == staying and gp.waiting == set(staying):
                    break
                await asyncio.sleep(0.5)
            places = [p.position for p in live]
            left = [e[2] for e in await read_events(redis) if e[1] == "patient.left"]
            statuses = [await get_consultation(redis, cid) for cid in staying]
        for task in tasks:
            task.cancel()

    assert truth == staying, "a live patient lost their place (or the leaver stayed)"
    assert all(c is not None and c.status == Status.WAITING for c in statuses)
    assert [e["consultation_id"] for e in left] == [gone]
    assert [e["reason"] for e in left] == ["vanished"]
    assert places == [1, 2, 3, 4], "a patient's screen shows a wrong place"
    assert gp.waiting == set(staying), "the GP's list did not heal"
    assert gp.snapshots >= 2, "the GP's console was not given its clinic anew after pub/sub"
