"""Call attempts in Redis: one per admit, each side's latest report, kept 14 weeks."""

from __future__ import annotations

from server.store import keys
from server.store.callattempts import (
    RETENTION_SECONDS,
    attempts_between,
    finish_attempt,
    get_attempt,
    record_report,
    start_attempt,
)
from server.store.connection import Redis

T0 = 1_796_000_000.0


async def test_reports_land_on_the_latest_attempt_first_media_and_failure_kept(
    redis: Redis,
) -> None:
    first = await start_attempt(redis, "k1", "c1", T0)
    second = await start_attempt(redis, "k1", "c1", T0 + 100)  # re-admitted after a hold
    await record_report(redis, "k1", "gp", {"media": False, "failure": "ice_failed"}, T0 + 101)
    await record_report(
        redis, "k1", "gp", {"media": True, "local_candidate": "relay", "transport": "tcp",
                            "ice_restarts": 1}, T0 + 102,
    )  # fmt: skip
    await record_report(redis, "k1", "gp", {"media": True, "rtt_ms": 35}, T0 + 160)
    a = await get_attempt(redis, second)
    assert a is not None and a.gp is not None and a.patient is None
    assert a.gp.media_at == T0 + 102  # the first media, not the latest report's time
    assert a.gp.failure == "ice_failed"
    assert (a.gp.rtt_ms, a.gp.local_candidate) == (35, None)  # the latest report wins
    untouched = await get_attempt(redis, first)
    assert untouched is not None and untouched.gp is None


async def test_the_first_end_is_kept(redis: Redis) -> None:
    attempt_id = await start_attempt(redis, "k1", "c1", T0)
    await finish_attempt(redis, "k1", T0 + 5)
    await finish_attempt(redis, "k1", T0 + 50)
    a = await get_attempt(redis, attempt_id)
    assert a is not None and a.ended_at == T0 + 5


async def test_no_attempt_no_record(redis: Redis) -> None:
    assert await record_report(redis, "never", "gp", {"media": True}, T0) is None
    await finish_attempt(redis, "never", T0)
    assert await redis.keys("av:call_attempt:*") == []


async def test_attempts_expire_after_fourteen_weeks_and_leave_the_index(redis: Redis) -> None:
    old = await start_attempt(redis, "k1", "c1", T0 - RETENTION_SECONDS - 1)
    ttl = await redis.ttl(keys.call_attempt(old))
    assert 13 * 7 * 86400 < ttl <= RETENTION_SECONDS
    new = await start_attempt(redis, "k2", "c2", T0)
    assert await redis.zrange(keys.CALL_ATTEMPTS, 0, -1) == [new]
    found = await attempts_between(redis, T0 - 1, T0 + 1)
    assert [(a.id, a.clinic_id, a.started_at) for a in found] == [(new, "c2", T0)]
    assert await attempts_between(redis, T0 + 1, T0 + 2) == []
