"""Money and consent writes are acknowledged only once a replica holds them: against a real
master with a real replica, and a real Redis with none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from server.notetaker.consent import CURRENT
from server.notetaker.control import answer
from server.pilots.programmes import Earning, Enrolment
from server.settings import Settings
from server.signalling.redisrouter import RedisRouter
from server.store import notetaker
from server.store.connection import Redis, open_redis
from server.store.consultations import get_consultation
from server.store.durability import NotReplicated, confirm_replicated
from server.store.honoraria import accrue, create_programme, read_ledger
from server.store.notetaker import ConsentRecord, add_consent, consent_log
from server.store.participants import get_participant, patient_seat
from tests.support.redisserver import RedisServer
from tests.support.sentinel import SentinelCluster
from tests.unit.factories import make_clinic, make_scheduled

AMOUNTS = {"onboarding": 0, "per_consultation": 30_000, "per_questionnaire": 0, "cap": 10**9}


@pytest.fixture
def replicated(tmp_path: Path) -> AsyncIterator[SentinelCluster]:
    """A master and its replica (no Sentinels: nothing here fails over)."""
    pair = SentinelCluster(tmp_path, sentinels=0)
    pair.start()
    yield pair
    pair.stop()


def _settings(url: str, tmp_path: Path, replicas: int) -> Settings:
    return Settings(
        redis_url=url, data_dir=tmp_path, durable_replicas=replicas, durable_timeout_ms=300
    )


def _consent() -> ConsentRecord:
    return ConsentRecord("given", "p-1", "patient", 1.0, "v1", "da", "patient screen")


async def _earn(redis: Redis, n: int) -> Earning | None:
    programme = await create_programme(
        redis, "Pilot", "2025-01-01", "2025-12-31", "pilot_honoraria", AMOUNTS, "user:admin"
    )
    enrolment = Enrolment(programme.id, "gp-1", "2025-01-01", "2025-12-31")
    rules = programme.rules[0]
    earning = Earning("per_consultation", f"consultation:{n}", "2025-03-01", rules, 30_000)
    entry = await accrue(redis, enrolment, earning, "test", "user:admin")
    return earning if entry is not None else None


async def test_a_write_the_replica_holds_is_acknowledged(
    replicated: SentinelCluster, tmp_path: Path
) -> None:
    master, replica = replicated.ports
    url = f"redis://127.0.0.1:{master}/0"
    async with open_redis(_settings(url, tmp_path, 1)) as redis:
        assert await _earn(redis, 1) is not None
        record = _consent()
        await add_consent(redis, "c-1", record)
    copy = aioredis.from_url(f"redis://127.0.0.1:{replica}/0", decode_responses=True)
    try:
        entries, _ = await read_ledger(copy)  # the replica, read right after the acknowledgement
        assert [e.amount_ore for e in entries] == [30_000]
        assert await consent_log(copy, "c-1") == [record]
    finally:
        await copy.aclose()


async def test_without_a_replica_a_money_write_is_not_acknowledged(
    redis_server: RedisServer, redis: aioredis.Redis, tmp_path: Path
) -> None:
    async with open_redis(_settings(redis_server.url, tmp_path, 1)) as client:
        with pytest.raises(NotReplicated):
            await _earn(client, 1)
        with pytest.raises(NotReplicated):
            await add_consent(client, "c-1", _consent())
        # The caller was told "not confirmed"; the master has the entry all the same.
        entries, _ = await read_ledger(client)
        assert len(entries) == 1


async def test_an_unconfirmed_consent_does_not_count_and_may_be_given_again(
    redis_server: RedisServer, redis: aioredis.Redis, tmp_path: Path
) -> None:
    c = await make_scheduled(redis, await make_clinic(redis))
    patient = await get_participant(redis, await patient_seat(redis, c.id, "Patient"))
    c = await get_consultation(redis, c.id)
    assert patient is not None and c is not None
    await notetaker.set_state(redis, c.id, notetaker.Phase.OFFERED)
    settings = _settings(redis_server.url, tmp_path, 1)
    async with open_redis(settings) as client:
        with pytest.raises(NotReplicated):
            await answer(
                client, RedisRouter(client, "x"), settings, c, patient, True, CURRENT.version, "da"
            )
    state = await notetaker.get_state(redis, c.id)
    assert state is not None and state.state == notetaker.Phase.OFFERED


async def test_with_no_replica_asked_for_nothing_waits(
    redis_server: RedisServer, redis: aioredis.Redis, tmp_path: Path
) -> None:
    async with open_redis(_settings(redis_server.url, tmp_path, 0)) as client:
        await confirm_replicated(client)
        assert await _earn(client, 1) is not None


def test_sentinels_mean_one_replica_by_default() -> None:
    assert Settings(redis_sentinels=("127.0.0.1:26379",)).replicas_to_wait == 1
    assert Settings(redis_url="redis://r:6379/0").replicas_to_wait == 0
    assert Settings(redis_url="redis://r:6379/0", durable_replicas=2).replicas_to_wait == 2
