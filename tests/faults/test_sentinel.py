"""A Sentinel failover with patients waiting and money being written: the app follows it by
itself. Real processes: a master, a replica and three Sentinels (redis-server), two app
instances that know only the Sentinels, patients and a GP as WebSocket clients that
reconnect as the pages do, and a writer of honoraria accruals using the app's own client.
The master is killed with SIGKILL: no shutdown, nothing flushed."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from redis.exceptions import RedisError

from server.consultations.links import issue_link
from server.pilots.programmes import Earning, Enrolment
from server.settings import Settings
from server.store.connection import Redis, open_redis
from server.store.consultations import Kind, create_consultation
from server.store.honoraria import accrue, create_programme, read_ledger
from server.store.participants import issue_resume_token, patient_seat
from server.waitingroom.queue import waiting_ids
from tests.support.sentinel import MASTER_NAME, SentinelCluster
from tests.support.sockets import Booked, GpView, PatientSocket, populate
from tests.support.stack import Stack

PATIENTS = 6
AMOUNTS = {"onboarding": 0, "per_consultation": 30_000, "per_questionnaire": 0, "cap": 10**9}
SETTLE_SECONDS = 40  # a sweep hold (grace + presence round) and a sweep, with room to spare


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    stack = Stack(tmp_path, instances=2, redis=SentinelCluster(tmp_path))
    try:
        await asyncio.to_thread(stack.start)  # the cluster first, then the instances
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)


def _health(url: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=3) as response:
            return int(response.status)
    except urllib.error.HTTPError as answer:
        return answer.code
    except OSError:
        return 0


class LedgerWriter:
    """Accrues an honorarium again and again through the Sentinels, as the app does, and
    keeps the id of every entry whose write was acknowledged (returned without error)."""

    def __init__(self, cluster: SentinelCluster, directory: Path) -> None:
        self.settings = Settings(
            redis_sentinels=tuple(cluster.addresses.split(",")),
            redis_master=MASTER_NAME,
            data_dir=directory,
        )
        self.acknowledged: list[str] = []
        self.refused = 0
        self.running = True
        self.started = asyncio.Event()  # a few entries acknowledged before the fault
        self._written = asyncio.Event()

    async def resumed(self, since: int) -> None:
        """Return once more than `since` entries are acknowledged."""
        while len(self.acknowledged) <= since:
            self._written.clear()
            await self._written.wait()

    async def run(self) -> None:
        async with open_redis(self.settings) as redis:
            programme = await create_programme(
                redis, "Pilot", "2025-01-01", "2025-12-31", "pilot_honoraria", AMOUNTS, "t"
            )
            enrolment = Enrolment(programme.id, "gp-1", "2025-01-01", "2025-12-31")
            n = 0
            while self.running:
                n += 1
                earning = Earning(
                    "per_consultation", f"consultation:{n}", "2025-03-01",
                    programme.rules[0], 30_000,
                )  # fmt: skip
                try:
                    entry = await accrue(redis, enrolment, earning, "test", "t")
                except (RedisError, OSError):  # the master is gone, or not yet replaced
                    self.refused += 1
                    await asyncio.sleep(0.2)
                    continue
                assert entry is not None
                self.acknowledged.append(entry.id)
                if len(self.acknowledged) >= 5:
                    self.started.set()
                self._written.set()
                await asyncio.sleep(0.05)


async def _new_patient(redis: Redis, clinic_id: str) -> Booked:
    c = await create_consultation(
        redis, clinic_id, Kind.SCHEDULED, scheduled_start=time.time() + 7200
    )
    link, c = await issue_link(redis, c)
    seat = await patient_seat(redis, c.id, "Ny patient")
    resume = await issue_resume_token(redis, seat, "Ny patient", "test")
    return Booked(c.id, link, resume)


async def test_a_failover_loses_no_place_and_no_acknowledged_money(
    stack: Stack, tmp_path: Path
) -> None:
    cluster = stack.redis
    assert isinstance(cluster, SentinelCluster)
    async with stack.client() as redis:
        clinic = await populate(redis, 1, PATIENTS)
    patients = [PatientSocket(b, stack.urls[i % 2]) for i, b in enumerate(clinic.patients)]
    gp = GpView()
    writer = LedgerWriter(cluster, tmp_path)
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(p.run(session)) for p in patients]
        tasks.append(asyncio.create_task(gp.run(session, stack.urls[0], clinic)))
        await asyncio.wait_for(asyncio.gather(*(p.waiting.wait() for p in patients)), 20)
        everyone = [b.consultation_id for b in clinic.patients]
        for _ in range(100):
            if gp.waiting == set(everyone):
                break
            await asyncio.sleep(0.1)
        assert gp.waiting == set(everyone)
        writing = asyncio.create_task(writer.run())
        await asyncio.wait_for(writer.started.wait(), 20)

        old = await asyncio.to_thread(cluster.kill_master)
        new = await asyncio.to_thread(cluster.wait_failover, old)
        # The instances find the new master by themselves: nobody tells them.
        for _ in range(SETTLE_SECONDS * 2):
            health = [await asyncio.to_thread(_health, url) for url in stack.urls]
            if health == [200, 200]:
                break
            await asyncio.sleep(0.5)
        # The new master has no replica: money is refused, never acknowledged unreplicated.
        alone = len(writer.acknowledged), writer.refused
        await asyncio.sleep(3)
        acknowledged_alone = len(writer.acknowledged) - alone[0]
        refused_alone = writer.refused - alone[1]
        # The dead machine comes back; the Sentinels make it a replica, and money flows again.
        await asyncio.to_thread(cluster.revive, old)
        await asyncio.wait_for(writer.resumed(alone[0]), SETTLE_SECONDS)
        # A new patient joins on the other instance; the GP sees them over pub/sub.
        async with stack.client() as redis:
            newcomer = PatientSocket(await _new_patient(redis, clinic.id), stack.urls[1])
        tasks.append(asyncio.create_task(newcomer.run(session)))
        await asyncio.wait_for(newcomer.waiting.wait(), 20)
        staying = [*everyone, newcomer.booked.consultation_id]
        async with stack.client() as redis:
            for _ in range(SETTLE_SECONDS * 2):
                truth = await waiting_ids(redis, clinic.id)
                screens = [p.position for p in [*patients, newcomer]]
                right = screens == list(range(1, PATIENTS + 2))
                if truth == staying and gp.waiting == set(staying) and right:
                    break
                await asyncio.sleep(0.5)
            writer.running = False
            await writing
            entries, _ = await read_ledger(redis)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    assert new != old
    assert health == [200, 200], "an instance did not follow the failover"
    assert truth == staying, "a waiting patient lost their place (or the newcomer found none)"
    assert screens == list(range(1, PATIENTS + 2)), "a patient's screen shows a wrong place"
    assert gp.waiting == set(staying), "the GP's list is wrong after the failover"
    assert not any(p.removed for p in patients), "a waiting patient was sent away"
    assert writer.refused > 0, "the writer never met the failover"
    assert (acknowledged_alone, refused_alone > 0) == (0, True), (
        "money was acknowledged while no replica could hold it"
    )
    kept = {e.id for e in entries}
    lost = [entry_id for entry_id in writer.acknowledged if entry_id not in kept]
    assert not lost, f"acknowledged ledger entries lost in the failover: {lost}"
