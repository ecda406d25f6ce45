"""The retention job: applies the rules of `server.retention.table` that no TTL enforces.

- a cancelled clinic's data goes when its notice period has passed;
- a clinic silent for 12 months is warned a month before, then handled as cancelled;
- the note-taker pilot's evidence is pseudonymised when the pilot ends, and deleted after
  its evaluation period;
- audit entries older than five years are trimmed, and a deleted clinic's bookkeeping
  five years after the year it was deleted in.

`run_retention` takes the time as an argument, so tests move the clock by passing a later
one. It logs and audits counts only, never contents. A dry run changes nothing and reports
what a real run would do.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from server.clock import COPENHAGEN, local_day
from server.retention.clinics import carry_out, plan_clinic_deletion
from server.retention.table import (
    AUDIT_SECONDS,
    BOOKKEEPING_YEARS,
    INACTIVITY_SECONDS,
    INACTIVITY_WARNING_SECONDS,
    PILOT_EVALUATION_SECONDS,
)
from server.store import decoded, keys
from server.store.audit import audit
from server.store.connection import Redis
from server.store.retention import (
    Cancellation,
    cancellations,
    get_cancellation,
    inactivity_warnings,
    last_access,
    pilot_ended,
    release_lock,
    save_cancellation,
    start_counting,
    take_lock,
    warn_inactive,
)

log = logging.getLogger(__name__)

LOCK_SECONDS = 600
RETENTION_INTERVAL_SECONDS = 3600
ACTOR = "retention"


@dataclass
class Report:
    """What a run did (or, dry, would do): counts by key family, and the clinics it touched."""

    deleted: Counter[str] = field(default_factory=Counter)
    warned: list[str] = field(default_factory=list)  # clinic ids newly warned
    cancelled_inactive: list[str] = field(default_factory=list)
    clinics_deleted: list[str] = field(default_factory=list)
    evidence_pseudonymised: int = 0

    def summary(self) -> dict[str, object]:
        return {
            "deleted": dict(sorted(self.deleted.items())),
            "clinics_warned": len(self.warned),
            "clinics_cancelled_inactive": len(self.cancelled_inactive),
            "clinics_deleted": len(self.clinics_deleted),
            "evidence_pseudonymised": self.evidence_pseudonymised,
        }


def day_start(day: str) -> float:
    """Midnight in Copenhagen starting the ISO day."""
    return datetime.combine(date.fromisoformat(day), time(), COPENHAGEN).timestamp()


async def run_retention(redis: Redis, at: float, *, dry_run: bool = False) -> Report:
    report = Report()
    await _inactivity(redis, at, dry_run, report)
    await _cancelled_clinics(redis, at, dry_run, report)
    await _bookkeeping(redis, at, dry_run, report)
    await _pilot_evidence(redis, at, dry_run, report)
    await _audit(redis, at, dry_run, report)
    if not dry_run and (report.deleted or report.warned or report.evidence_pseudonymised):
        await audit(redis, "retention.ran", ACTOR, **report.summary())
    log.info("retention%s: %s", " (dry run)" if dry_run else "", report.summary())
    return report


async def _inactivity(redis: Redis, at: float, dry_run: bool, report: Report) -> None:
    clinic_ids = sorted(decoded.members(await redis.smembers(keys.CLINICS)))
    seen = await last_access(redis)
    warned = await inactivity_warnings(redis)
    for clinic_id in clinic_ids:
        if await get_cancellation(redis, clinic_id) is not None:
            continue
        if clinic_id not in seen:
            if not dry_run:
                await start_counting(redis, clinic_id, at)
            continue
        silent = at - seen[clinic_id]
        warned_at = warned.get(clinic_id)
        if (
            silent >= INACTIVITY_SECONDS
            and warned_at is not None
            and at - warned_at >= INACTIVITY_WARNING_SECONDS
        ):
            report.cancelled_inactive.append(clinic_id)
            if not dry_run:
                await save_cancellation(
                    redis,
                    Cancellation(clinic_id, local_day(at), at, "inactive", at, ACTOR),
                )
                await audit(
                    redis, "clinic.cancelled", ACTOR, clinic_id=clinic_id, reason="inactive"
                )
        elif silent >= INACTIVITY_SECONDS - INACTIVITY_WARNING_SECONDS and warned_at is None:
            report.warned.append(clinic_id)
            if not dry_run and await warn_inactive(redis, clinic_id, at):
                await audit(redis, "clinic.inactivity_warned", ACTOR, clinic_id=clinic_id)


def pilot_deletion_day(ended: str) -> str:
    """The Copenhagen day the pilot's evidence goes: its evaluation period after the end."""
    return (date.fromisoformat(ended) + timedelta(seconds=PILOT_EVALUATION_SECONDS)).isoformat()


def bookkeeping_ends(deleted_at: float) -> float:
    """1 January, Copenhagen, of the sixth year after the year of the deletion."""
    return day_start(f"{int(local_day(deleted_at)[:4]) + BOOKKEEPING_YEARS + 1}-01-01")


async def _bookkeeping(redis: Redis, at: float, dry_run: bool, report: Report) -> None:
    """What bookkeeping kept of a deleted clinic goes when the law no longer asks for it."""
    for c in await cancellations(redis):
        if c.deleted_at is None or at < bookkeeping_ends(c.deleted_at):
            continue
        names = [keys.clinic_capacities(c.clinic_id), keys.clinic_lps_vendor(c.clinic_id)]
        for family, there in zip(
            ("clinic_capacities", "clinic_lps_vendor"),
            await _count_existing(redis, names),
            strict=True,
        ):
            report.deleted[family] += there
        report.deleted["CLINIC_CANCELLATIONS"] += 1
        if not dry_run:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.delete(*names)
                pipe.hdel(keys.CLINIC_CANCELLATIONS, c.clinic_id)
                await pipe.execute()


async def _cancelled_clinics(redis: Redis, at: float, dry_run: bool, report: Report) -> None:
    due = [c for c in await cancellations(redis) if c.deleted_at is None and c.delete_after <= at]
    if dry_run:
        # The inactive clinics this run would cancel are due at once too.
        due += [
            Cancellation(cid, local_day(at), at, "inactive", at, ACTOR)
            for cid in report.cancelled_inactive
        ]
    for cancellation in due:
        clinic = decoded.fields(await redis.hgetall(keys.clinic(cancellation.clinic_id)))
        plan = await plan_clinic_deletion(redis, cancellation.clinic_id)
        counts = plan.counts()
        report.deleted.update(counts)
        report.clinics_deleted.append(cancellation.clinic_id)
        if dry_run:
            continue
        await carry_out(redis, cancellation.clinic_id, plan)
        await save_cancellation(
            redis,
            replace(
                cancellation,
                deleted_at=at,
                name=clinic.get("name", cancellation.name),
                ydernummer=clinic.get("ydernummer", cancellation.ydernummer),
            ),
        )
        await audit(redis, "clinic.data_deleted", ACTOR, clinic_id=cancellation.clinic_id, **counts)


def _pseudonym(salt: bytes, value: str) -> str:
    return "p-" + hmac.new(salt, value.encode(), hashlib.sha256).hexdigest()[:16] if value else ""


async def _pilot_evidence(redis: Redis, at: float, dry_run: bool, report: Report) -> None:
    ended = await pilot_ended(redis)
    if ended is None or at < day_start(ended):
        return
    rows = decoded.scored(
        await redis.zrange(keys.pilot_notetaker_offered(), 0, -1, withscores=True)
    )
    held = [decoded.text(k) async for k in redis.scan_iter(match=keys.gp_consultations_held("*"))]
    if at >= day_start(pilot_deletion_day(ended)):
        names = [keys.pilot_notetaker(cid) for cid, _ in rows]
        report.deleted["pilot_notetaker"] += sum(await _count_existing(redis, names))
        report.deleted["pilot_notetaker_offered"] += int(bool(rows))
        report.deleted["gp_consultations_held"] += len(held)
        if not dry_run:
            await redis.delete(keys.pilot_notetaker_offered(), *names, *held)
        return
    # A salt that is never stored: the pseudonyms link rows to each other, not to anyone.
    salt = secrets.token_bytes(32)
    for consultation_id, score in rows:
        key = keys.pilot_notetaker(consultation_id)
        row = decoded.fields(await redis.hgetall(key))
        if not row or row.get("pseudonymised") == "1":
            continue
        report.evidence_pseudonymised += 1
        if dry_run:
            continue
        alias = _pseudonym(salt, consultation_id)
        changed = {
            **{k: v for k, v in row.items() if k != "gp_name"},
            "consultation_id": alias,
            "clinic_id": _pseudonym(salt, row.get("clinic_id", "")),
            "gp_id": _pseudonym(salt, row.get("gp_id", "")),
            "pseudonymised": "1",
        }
        async with redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(keys.pilot_notetaker(alias), mapping=decoded.writable(changed))
            pipe.zrem(keys.pilot_notetaker_offered(), consultation_id)
            pipe.zadd(keys.pilot_notetaker_offered(), {alias: score})
            await pipe.execute()
    # The denominators follow the GPs' pseudonyms, so the evaluation can still divide.
    prefix, suffix = keys.gp_consultations_held("*").split("*")
    for key in held:
        gp_id = key.removeprefix(prefix).removesuffix(suffix)
        if gp_id.startswith("p-") or dry_run:
            continue
        await redis.rename(key, keys.gp_consultations_held(_pseudonym(salt, gp_id)))


async def _count_existing(redis: Redis, names: list[str]) -> list[int]:
    if not names:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.exists(name)
        return [int(n) for n in await pipe.execute()]


async def _audit(redis: Redis, at: float, dry_run: bool, report: Report) -> None:
    cutoff_ms = int((at - AUDIT_SECONDS) * 1000)
    if cutoff_ms <= 0:
        return
    oldest_kept = f"{cutoff_ms}-0"
    if dry_run:
        old = decoded.entries(await redis.xrange(keys.AUDIT, "-", f"({oldest_kept}"))
        report.deleted["AUDIT"] += len(old)
        return
    trimmed = int(await redis.xtrim(keys.AUDIT, minid=oldest_kept))
    if trimmed:
        report.deleted["AUDIT"] += trimmed


async def run_once_locked(
    redis: Redis, holder: str, at: float, *, dry_run: bool = False
) -> Report | None:
    """The run, if no other instance (or operator) holds the lock; None if one does."""
    if not await take_lock(redis, holder, LOCK_SECONDS):
        return None
    try:
        return await run_retention(redis, at, dry_run=dry_run)
    finally:
        await release_lock(redis, holder)
