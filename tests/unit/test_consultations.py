"""The consultation record survives a round trip through a Redis hash unchanged."""

from __future__ import annotations

from server.clock import local_day, now
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import (
    PARTIAL_REQUIRED,
    RETENTION_SECONDS,
    Kind,
    Status,
    consultations,
    consultations_on_day,
    create_consultation,
    get_consultation,
    practitioners_on_day,
    update_consultation,
)
from tests.unit.factories import make_clinic


async def test_create_and_get_roundtrip(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    start = float(int(now()) + 600)
    c = await create_consultation(
        redis,
        clinic.id,
        Kind.SCHEDULED,
        scheduled_start=start,
        duration_minutes=20,
        practitioner_id="u1",
        patient_ref="ref-1",
        patient_name="Åse Ømø",
    )
    assert c.status == Status.BOOKED
    assert await get_consultation(redis, c.id) == c
    assert 0 < await redis.ttl(keys.consultation(c.id)) <= RETENTION_SECONDS


async def test_drop_in_has_no_start(redis: Redis) -> None:
    c = await create_consultation(redis, (await make_clinic(redis)).id, Kind.DROP_IN)
    stored = await get_consultation(redis, c.id)
    assert stored is not None
    assert stored.scheduled_start is None
    assert stored.queue_score == stored.created_at


async def test_update_changes_only_the_named_fields(redis: Redis) -> None:
    c = await create_consultation(redis, (await make_clinic(redis)).id, Kind.DROP_IN)
    updated = await update_consultation(redis, c, status=Status.WAITING, waiting_since=123.5)
    assert (updated.status, updated.waiting_since) == (Status.WAITING, 123.5)
    assert await get_consultation(redis, c.id) == updated


async def test_missing_consultation(redis: Redis) -> None:
    assert await get_consultation(redis, "nope") is None


async def test_day_list_is_ordered_by_start(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    base = float(int(now()))
    later = await create_consultation(redis, clinic.id, Kind.SCHEDULED, scheduled_start=base + 120)
    sooner = await create_consultation(redis, clinic.id, Kind.SCHEDULED, scheduled_start=base + 60)
    days = {later.day, sooner.day}
    listed = [
        c.id for day in sorted(days) for c in await consultations_on_day(redis, clinic.id, day)
    ]
    assert listed == [sooner.id, later.id]
    assert local_day(base + 60) == sooner.day


async def test_a_partial_read_has_the_fields_asked_for_and_leaves_out_the_gone(
    redis: Redis,
) -> None:
    clinic = await make_clinic(redis)
    start = float(int(now()) + 600)
    c = await create_consultation(
        redis, clinic.id, Kind.SCHEDULED, scheduled_start=start, practitioner_id="u1",
        patient_name="Åse", patient_ref="ref-1",
    )  # fmt: skip
    only = (*PARTIAL_REQUIRED, "patient_name", "scheduled_start")
    [read] = await consultations(redis, [c.id, "gone"], only)
    assert (read.id, read.status, read.patient_name, read.scheduled_start) == (
        c.id, Status.BOOKED, "Åse", start,
    )  # fmt: skip
    assert (read.practitioner_id, read.patient_ref) == ("", "")  # not asked for
    assert await consultations_on_day(redis, clinic.id, local_day(start), only) == [read]


async def test_the_hello_finds_the_practitioner_of_each_consultation_of_the_day(
    redis: Redis,
) -> None:
    clinic = await make_clinic(redis)
    start = float(int(now()) + 600)
    mine = await create_consultation(
        redis, clinic.id, Kind.SCHEDULED, scheduled_start=start, practitioner_id="u1"
    )
    theirs = await create_consultation(redis, clinic.id, Kind.SCHEDULED, scheduled_start=start + 1)
    assert await practitioners_on_day(redis, clinic.id, local_day(start)) == [
        (mine.id, "booked", "u1"),
        (theirs.id, "booked", ""),
    ]
