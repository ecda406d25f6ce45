"""The retention job deletes what is due, exactly that, and nothing of another clinic.

The clock is moved by handing the job a later time: every rule reads only its `at`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date

import pytest

from server.cli import main
from server.clock import local, local_day, now
from server.retention.cancellation import cancel_clinic
from server.retention.clinics import plan_clinic_deletion
from server.retention.job import bookkeeping_ends, run_once_locked, run_retention
from server.retention.table import (
    AUDIT_SECONDS,
    CANCELLATION_NOTICE_SECONDS,
    DAY,
    INACTIVITY_SECONDS,
    PILOT_EVALUATION_SECONDS,
)
from server.settings import Settings
from server.store import keys
from server.store.absences import HOLIDAY, Substitute, add_absence
from server.store.audit import audit, read_audit
from server.store.clinics import Clinic, issue_dropin_link
from server.store.connection import Redis
from server.store.consultations import Consultation
from server.store.messages import add_clinic_message
from server.store.notes import Section, save_draft
from server.store.pilotevidence import record_offered
from server.store.retention import (
    get_cancellation,
    inactivity_warnings,
    record_access,
    set_pilot_ended,
    take_lock,
)
from server.store.sessions import open_session
from server.store.subscriptions import set_capacities
from server.store.users import create_user
from tests.unit.factories import make_clinic, make_scheduled, waiting_patient, with_link

GP_NAME = "Dr. Birgitte Øster"


@dataclass(frozen=True)
class Held:
    clinic: Clinic
    consultation: Consultation
    gp_id: str


async def clinic_with_everything(redis: Redis, name: str) -> Held:
    """A clinic with a GP logged in, a waiting patient with a link, a message, a note, an
    absence, a drop-in link, subscription capacities and pilot evidence."""
    clinic = await make_clinic(redis, name)
    gp = await create_user(
        redis, f"gp-{clinic.ydernummer}", "pw-long-enough-1", GP_NAME, "gp", clinic.id
    )
    await open_session(redis, gp.id, 3600)
    _, c = await with_link(redis, await make_scheduled(redis, clinic))
    c = (await waiting_patient(redis, c)).consultation
    await add_clinic_message(redis, c.id, "Lægen er lidt forsinket")
    await save_draft(redis, c, [Section("plan", "Plan", "Kontrol om en uge")], engine="demo")
    await add_absence(
        redis,
        clinic.id,
        HOLIDAY,
        now() + DAY,
        now() + 2 * DAY,
        Substitute("Lægerne i Viby", "+45 86 14 00 00"),
        now(),
    )
    await issue_dropin_link(redis, clinic.id)
    await set_capacities(redis, "cli", clinic.id, date(2026, 1, 1), 2)
    await record_offered(redis, c, gp.id, GP_NAME, "demo", "1", now())
    await record_access(redis, clinic.id, now())
    return Held(clinic, c, gp.id)


async def dump(redis: Redis) -> dict[str, object]:
    """Every key and its value, but the audit stream (the job appends to it)."""
    found: dict[str, object] = {}
    async for name in redis.scan_iter("*"):
        kind = await redis.type(name)
        if name == keys.AUDIT:
            continue
        if kind == "string":
            found[name] = await redis.get(name)
        elif kind == "hash":
            found[name] = await redis.hgetall(name)
        elif kind == "set":
            found[name] = await redis.smembers(name)
        elif kind == "zset":
            found[name] = await redis.zrange(name, 0, -1, withscores=True)
        elif kind == "list":
            found[name] = await redis.lrange(name, 0, -1)
        else:
            found[name] = kind
    return found


def mentioning(snapshot: dict[str, object], *ids: str) -> set[str]:
    return {k for k, v in snapshot.items() if any(i in k or i in str(v) for i in ids)}


async def test_a_cancelled_clinic_keeps_everything_during_its_notice_period(redis: Redis) -> None:
    a = await clinic_with_everything(redis, "Lægehuset Aarhus")
    await clinic_with_everything(redis, "Lægerne i Odense")
    today = local_day(now())
    await cancel_clinic(redis, a.clinic.ydernummer, today, "user:admin")
    before = await dump(redis)

    report = await run_retention(redis, now() + CANCELLATION_NOTICE_SECONDS - DAY)

    assert await dump(redis) == before
    assert not report.deleted and not report.clinics_deleted


async def test_after_the_notice_a_cancelled_clinic_is_deleted_and_nothing_else(
    redis: Redis,
) -> None:
    a = await clinic_with_everything(redis, "Lægehuset Aarhus")
    b = await clinic_with_everything(redis, "Lægerne i Odense")
    await cancel_clinic(redis, a.clinic.ydernummer, local_day(now()), "user:admin")
    before = await dump(redis)
    of_a = mentioning(
        before, a.clinic.id, a.consultation.id, a.gp_id, a.consultation.patient_participant
    )

    report = await run_retention(redis, now() + CANCELLATION_NOTICE_SECONDS + 2 * DAY)

    after = await dump(redis)
    # Clinic B and the platform are untouched, key for key and value for value.
    assert {k: v for k, v in after.items() if k not in of_a} == {
        k: v for k, v in before.items() if k not in of_a
    }
    # Of clinic A, only what law or economy requires is left.
    patient = a.consultation.patient_participant
    assert mentioning(after, a.clinic.id, a.consultation.id, a.gp_id, patient) == {
        keys.clinic_capacities(a.clinic.id),
        keys.pilot_notetaker(a.consultation.id),
        keys.pilot_notetaker_offered(),
        keys.CLINIC_CANCELLATIONS,
    }
    assert b.clinic.id in str(after[keys.CLINICS])
    assert GP_NAME not in str(after[keys.pilot_notetaker(a.consultation.id)])
    assert GP_NAME in str(after[keys.pilot_notetaker(b.consultation.id)])
    assert "Jensen" not in str({k: v for k, v in after.items() if a.clinic.id in str(v)})
    kept = await get_cancellation(redis, a.clinic.id)
    assert kept is not None and kept.deleted_at is not None
    assert (kept.name, kept.ydernummer) == ("Lægehuset Aarhus", a.clinic.ydernummer)
    assert report.clinics_deleted == [a.clinic.id]
    assert report.deleted["consultation"] == 1 and report.deleted["user"] == 1
    assert report.deleted["consultation_note"] == 1 and report.deleted["session"] == 1
    # The audit says how many, never what.
    entry = [e for e in await read_audit(redis) if e.action == "clinic.data_deleted"][-1]
    assert entry.data["consultation"] == 1 and "Jensen" not in str(entry.data)


async def test_a_second_run_deletes_nothing_more(redis: Redis) -> None:
    a = await clinic_with_everything(redis, "Lægehuset Aarhus")
    await cancel_clinic(redis, a.clinic.ydernummer, local_day(now()), "user:admin")
    later = now() + CANCELLATION_NOTICE_SECONDS + 2 * DAY
    await run_retention(redis, later)
    before = await dump(redis)
    report = await run_retention(redis, later + DAY)
    assert await dump(redis) == before and not report.clinics_deleted


async def test_a_dry_run_changes_nothing_and_reports_what_a_run_would_delete(redis: Redis) -> None:
    a = await clinic_with_everything(redis, "Lægehuset Aarhus")
    await cancel_clinic(redis, a.clinic.ydernummer, local_day(now()), "user:admin")
    later = now() + CANCELLATION_NOTICE_SECONDS + 2 * DAY
    before = await dump(redis)
    planned = (await plan_clinic_deletion(redis, a.clinic.id)).counts()

    dry = await run_retention(redis, later, dry_run=True)

    assert await dump(redis) == before
    real = await run_retention(redis, later)
    assert dry.deleted == real.deleted == planned


async def test_a_silent_clinic_is_warned_then_deleted_a_year_after_its_last_access(
    redis: Redis,
) -> None:
    silent = await clinic_with_everything(redis, "Lægehuset Aarhus")
    busy = await clinic_with_everything(redis, "Lægerne i Odense")
    start = now()

    await run_retention(redis, start + INACTIVITY_SECONDS - 31 * DAY)
    assert await inactivity_warnings(redis) == {}

    await record_access(redis, busy.clinic.id, start + 300 * DAY)
    warned_at = start + INACTIVITY_SECONDS - 29 * DAY
    report = await run_retention(redis, warned_at)
    assert report.warned == [silent.clinic.id]
    assert await inactivity_warnings(redis) == {silent.clinic.id: warned_at}
    assert any(e.action == "clinic.inactivity_warned" for e in await read_audit(redis))

    report = await run_retention(redis, start + INACTIVITY_SECONDS + DAY)
    assert report.cancelled_inactive == [silent.clinic.id]
    assert report.clinics_deleted == [silent.clinic.id]
    assert not await redis.exists(keys.clinic(silent.clinic.id))
    assert await redis.exists(keys.clinic(busy.clinic.id))
    cancellation = await get_cancellation(redis, silent.clinic.id)
    assert cancellation is not None and cancellation.reason == "inactive"


async def test_access_after_the_warning_keeps_the_clinic(redis: Redis) -> None:
    held = await clinic_with_everything(redis, "Lægehuset Aarhus")
    start = now()
    await run_retention(redis, start + INACTIVITY_SECONDS - 20 * DAY)
    assert held.clinic.id in await inactivity_warnings(redis)

    await record_access(redis, held.clinic.id, start + INACTIVITY_SECONDS - 10 * DAY)
    report = await run_retention(redis, start + INACTIVITY_SECONDS + DAY)

    assert not report.clinics_deleted and await inactivity_warnings(redis) == {}
    assert await redis.exists(keys.clinic(held.clinic.id))


async def test_a_clinic_is_never_deleted_for_silence_without_a_months_warning(
    redis: Redis,
) -> None:
    """The job was down all year: it warns first, whatever the silence."""
    held = await clinic_with_everything(redis, "Lægehuset Aarhus")
    report = await run_retention(redis, now() + 2 * INACTIVITY_SECONDS)
    assert report.warned == [held.clinic.id] and not report.clinics_deleted


async def test_a_clinic_with_no_access_recorded_counts_from_the_first_run(redis: Redis) -> None:
    held = await clinic_with_everything(redis, "Lægehuset Aarhus")
    await redis.hdel(keys.CLINIC_LAST_ACCESS, held.clinic.id)
    first = now() + 400 * DAY
    report = await run_retention(redis, first)
    assert not report.warned
    assert float(await redis.hget(keys.CLINIC_LAST_ACCESS, held.clinic.id) or 0) == first


async def test_pilot_evidence_is_pseudonymised_when_the_pilot_ends_then_deleted(
    redis: Redis,
) -> None:
    held = await clinic_with_everything(redis, "Lægehuset Aarhus")
    ended = date.fromtimestamp(now() + 10 * DAY).isoformat()
    await set_pilot_ended(redis, ended)

    await run_retention(redis, now())
    assert await redis.exists(keys.pilot_notetaker(held.consultation.id))

    report = await run_retention(redis, now() + 12 * DAY)
    assert report.evidence_pseudonymised == 1
    ids = [str(i) for i in await redis.zrange(keys.pilot_notetaker_offered(), 0, -1)]
    assert len(ids) == 1 and ids[0] != held.consultation.id
    row = await redis.hgetall(keys.pilot_notetaker(ids[0]))
    for identifying in (held.consultation.id, held.clinic.id, held.gp_id, GP_NAME):
        assert identifying not in str(row)
    assert row["engine"] == "demo" and row["pseudonymised"] == "1"
    assert (await run_retention(redis, now() + 13 * DAY)).evidence_pseudonymised == 0

    await run_retention(redis, now() + 10 * DAY + PILOT_EVALUATION_SECONDS - 2 * DAY)
    assert await redis.exists(keys.pilot_notetaker(ids[0]))
    report = await run_retention(redis, now() + 12 * DAY + PILOT_EVALUATION_SECONDS)
    assert report.deleted["pilot_notetaker"] == 1
    assert not await redis.exists(keys.pilot_notetaker(ids[0]), keys.pilot_notetaker_offered())


async def test_audit_entries_older_than_five_years_are_trimmed(redis: Redis) -> None:
    await audit(redis, "directory.viewed", "user:gp1", clinic_id="c1")
    await run_retention(redis, now() + AUDIT_SECONDS - DAY)
    assert [e.action for e in await read_audit(redis)] == ["directory.viewed"]
    report = await run_retention(redis, now() + AUDIT_SECONDS + DAY)
    assert report.deleted["AUDIT"] == 1
    assert "directory.viewed" not in [e.action for e in await read_audit(redis)]


async def test_only_one_job_runs_at_a_time(redis: Redis) -> None:
    a = await clinic_with_everything(redis, "Lægehuset Aarhus")
    await cancel_clinic(redis, a.clinic.ydernummer, local_day(now()), "user:admin")
    later = now() + CANCELLATION_NOTICE_SECONDS + 2 * DAY
    assert await take_lock(redis, "instance:other", 600)

    assert await run_once_locked(redis, "instance:me", later) is None
    assert await redis.exists(keys.clinic(a.clinic.id))

    await redis.delete(keys.RETENTION_LOCK)
    report = await run_once_locked(redis, "instance:me", later)
    assert report is not None and report.clinics_deleted == [a.clinic.id]
    assert not await redis.exists(keys.RETENTION_LOCK)


async def test_cancelling_an_unknown_clinic_is_refused(redis: Redis) -> None:
    with pytest.raises(LookupError):
        await cancel_clinic(redis, "999999", "2026-12-01", "cli")


async def cli(settings: Settings, *args: str) -> int:
    return await asyncio.to_thread(main, [*args, "--redis-url", str(settings.redis_url)])


async def test_operators_cancel_and_run_from_the_command_line(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    a = await clinic_with_everything(redis, "Lægehuset Aarhus")
    past = date.fromtimestamp(now() - CANCELLATION_NOTICE_SECONDS - 2 * DAY).isoformat()
    assert await cli(settings, "retention", "cancel-clinic", a.clinic.ydernummer, "--on", past) == 0
    before = await dump(redis)

    assert await cli(settings, "retention", "run", "--dry-run") == 0
    out = capsys.readouterr().out
    assert '"clinics_deleted": 1' in out and '"dry_run": true' in out
    assert "Jensen" not in out and a.clinic.id not in out
    assert await dump(redis) == before

    assert await cli(settings, "retention", "run") == 0
    assert not await redis.exists(keys.clinic(a.clinic.id))


async def test_a_cancellation_can_be_withdrawn_before_the_deletion(
    redis: Redis, settings: Settings
) -> None:
    a = await clinic_with_everything(redis, "Lægehuset Aarhus")
    assert await cli(settings, "retention", "cancel-clinic", a.clinic.ydernummer) == 0
    assert await cli(settings, "retention", "withdraw", a.clinic.ydernummer) == 0
    report = await run_retention(redis, now() + CANCELLATION_NOTICE_SECONDS + 2 * DAY)
    assert not report.clinics_deleted and await redis.exists(keys.clinic(a.clinic.id))


async def test_a_deleted_clinics_bookkeeping_goes_five_years_after_the_year_of_deletion(
    redis: Redis,
) -> None:
    a = await clinic_with_everything(redis, "Lægehuset Aarhus")
    b = await clinic_with_everything(redis, "Lægerne i Odense")
    await cancel_clinic(redis, a.clinic.ydernummer, local_day(now()), "user:admin")
    deleted_at = now() + CANCELLATION_NOTICE_SECONDS + 2 * DAY
    await run_retention(redis, deleted_at)
    ends = bookkeeping_ends(deleted_at)
    assert local_day(ends).endswith("-01-01")
    assert int(local_day(ends)[:4]) == int(local_day(deleted_at)[:4]) + 6

    await record_access(redis, b.clinic.id, ends - 2 * DAY)  # B stays in use
    await run_retention(redis, ends - DAY)
    assert await redis.exists(keys.clinic_capacities(a.clinic.id))
    assert await get_cancellation(redis, a.clinic.id) is not None

    report = await run_retention(redis, ends + 1)
    assert report.deleted["clinic_capacities"] == 1
    assert not await redis.exists(keys.clinic_capacities(a.clinic.id))
    assert await get_cancellation(redis, a.clinic.id) is None
    assert await redis.exists(keys.clinic_capacities(b.clinic.id))


async def test_the_notice_ends_at_midnight_in_copenhagen_across_a_clock_change(
    redis: Redis,
) -> None:
    clinic = await make_clinic(redis)
    c = await cancel_clinic(redis, clinic.ydernummer, "2026-10-10", "cli")  # CEST -> CET
    assert local(c.delete_after).isoformat() == "2026-11-09T00:00:00+01:00"


async def test_the_job_logs_counts_never_contents(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    a = await clinic_with_everything(redis, "Lægehuset Aarhus")
    await cancel_clinic(redis, a.clinic.ydernummer, local_day(now()), "user:admin")
    with caplog.at_level(logging.INFO, logger="server.retention.job"):
        await run_retention(redis, now() + CANCELLATION_NOTICE_SECONDS + 2 * DAY)
    logged = caplog.text
    assert "'consultation': 1" in logged and "'clinics_deleted': 1" in logged
    for content in ("Jensen", "Lægehuset", GP_NAME, "Kontrol om en uge", a.clinic.id):
        assert content not in logged
