"""Call attempts for the success rate: one hash per admit, its browsers' reports, an index.

Kept `RETENTION_SECONDS` (14 weeks, so 13 whole ISO weeks back are always complete), then
expired by Redis; the index drops older ids whenever an attempt starts. What is stored is
ids, times, enums and numbers: the `call.report` model admits nothing else.
"""

from __future__ import annotations

import json
from typing import Any

from server.auth.tokens import new_id
from server.callquality.success import Attempt, Side
from server.store import decoded, keys
from server.store.connection import Redis

RETENTION_SECONDS = 14 * 7 * 24 * 3600
# The first value of a consultation field that is kept blank ('') until then; never makes
# a consultation that is not there.
_SET_IF_BLANK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and v ~= '' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""
REPORT_FIELDS = (
    "phase", "failure", "local_candidate", "remote_candidate", "transport", "ice_restarts",
    "rtt_ms", "loss_per_mille", "inbound_kbps", "outbound_kbps",
)  # fmt: skip


async def start_attempt(redis: Redis, consultation_id: str, clinic_id: str, at: float) -> str:
    """A new attempt for this consultation; its browsers' reports go to it from now on."""
    attempt_id = new_id()
    key = keys.call_attempt(attempt_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(
            key,
            mapping={"consultation_id": consultation_id, "clinic_id": clinic_id, "started_at": at},
        )
        pipe.expire(key, RETENTION_SECONDS)
        pipe.set(keys.consultation_attempt(consultation_id), attempt_id, ex=RETENTION_SECONDS)
        pipe.zadd(keys.CALL_ATTEMPTS, {attempt_id: at})
        pipe.zremrangebyscore(keys.CALL_ATTEMPTS, "-inf", at - RETENTION_SECONDS)
        await pipe.execute()
    return attempt_id


async def current_attempt(redis: Redis, consultation_id: str) -> str | None:
    return decoded.text(await redis.get(keys.consultation_attempt(consultation_id)))


async def record_report(
    redis: Redis, consultation_id: str, side: str, report: dict[str, Any], at: float
) -> str | None:
    """Keep `side`'s latest report on the consultation's current attempt; the first report
    of media and the first failure are kept as they came. None if there is no attempt."""
    attempt_id = await current_attempt(redis, consultation_id)
    if attempt_id is None:
        return None
    key = keys.call_attempt(attempt_id)
    latest = {name: report.get(name) for name in REPORT_FIELDS}
    consultation = keys.consultation(consultation_id)
    trouble = report.get("failure") or ("ice_restart" if report.get("ice_restarts") else None)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, side, json.dumps(latest))
        if report.get("media"):
            pipe.hsetnx(key, f"{side}_media_at", at)
            pipe.eval(_SET_IF_BLANK, 1, consultation, "media_at", at)  # billing evidence
        if report.get("failure"):
            pipe.hsetnx(key, f"{side}_failure", str(report["failure"]))
        if trouble:
            pipe.eval(_SET_IF_BLANK, 1, consultation, "video_trouble", str(trouble))
        await pipe.execute()
    return attempt_id


async def finish_attempt(redis: Redis, consultation_id: str, at: float) -> None:
    """The GP ended or held the call: the attempt's end is the first such moment."""
    attempt_id = await current_attempt(redis, consultation_id)
    if attempt_id is not None:
        await redis.hsetnx(keys.call_attempt(attempt_id), "ended_at", at)


def _side(fields: dict[str, str], name: str) -> Side | None:
    if name not in fields and f"{name}_media_at" not in fields:
        return None
    latest = json.loads(fields.get(name, "{}"))
    media_at = fields.get(f"{name}_media_at")
    return Side(
        media_at=float(media_at) if media_at else None,
        failure=fields.get(f"{name}_failure"),
        local_candidate=latest.get("local_candidate"),
        remote_candidate=latest.get("remote_candidate"),
        transport=latest.get("transport"),
        ice_restarts=int(latest.get("ice_restarts") or 0),
        rtt_ms=latest.get("rtt_ms"),
        loss_per_mille=latest.get("loss_per_mille"),
        inbound_kbps=latest.get("inbound_kbps"),
        outbound_kbps=latest.get("outbound_kbps"),
    )


def _attempt(attempt_id: str, fields: dict[str, str]) -> Attempt | None:
    if "started_at" not in fields:
        return None  # expired between the index and the read
    ended_at = fields.get("ended_at")
    return Attempt(
        id=attempt_id,
        consultation_id=fields["consultation_id"],
        clinic_id=fields["clinic_id"],
        started_at=float(fields["started_at"]),
        ended_at=float(ended_at) if ended_at else None,
        gp=_side(fields, "gp"),
        patient=_side(fields, "patient"),
    )


async def get_attempt(redis: Redis, attempt_id: str) -> Attempt | None:
    return _attempt(attempt_id, decoded.fields(await redis.hgetall(keys.call_attempt(attempt_id))))


async def attempts_between(redis: Redis, since: float, until: float) -> list[Attempt]:
    """The attempts admitted in [since, until), oldest first."""
    ids = decoded.strings(await redis.zrangebyscore(keys.CALL_ATTEMPTS, since, f"({until}"))
    async with redis.pipeline(transaction=False) as pipe:
        for attempt_id in ids:
            pipe.hgetall(keys.call_attempt(attempt_id))
        rows = await pipe.execute()
    found = (_attempt(i, decoded.fields(row)) for i, row in zip(ids, rows, strict=True))
    return [a for a in found if a is not None]
