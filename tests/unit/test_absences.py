"""A clinic's absences in a real Redis, and the clinic's availability read through them."""

from __future__ import annotations

import pytest

from server.clock import now
from server.store import keys
from server.store.absences import (
    COURSE,
    HOLIDAY,
    MAX_DAYS,
    AbsenceProblem,
    Substitute,
    add_absence,
    list_absences,
    period_problem,
    remove_absence,
)
from server.store.connection import Redis
from server.waitingroom.clinicavailability import clinic_availability
from tests.unit.factories import make_clinic

NORD = Substitute("Lægerne i Nørregade", "+45 33 12 34 56")
DAY = 86400.0


async def test_add_list_and_remove(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    t = now()
    later = await add_absence(redis, clinic.id, COURSE, t + 5 * DAY, t + 6 * DAY, NORD, at=t)
    sooner = await add_absence(redis, clinic.id, HOLIDAY, t + DAY, t + 3 * DAY, NORD, at=t)
    assert await list_absences(redis, clinic.id) == [sooner, later]  # earliest first
    assert sooner.substitute == NORD
    assert sooner.clinic_id == clinic.id

    assert await remove_absence(redis, clinic.id, sooner.id)
    assert await list_absences(redis, clinic.id) == [later]
    assert not await remove_absence(redis, clinic.id, sooner.id)


async def test_absences_belong_to_their_clinic(redis: Redis) -> None:
    mine, other = await make_clinic(redis), await make_clinic(redis, "Lægehuset Nord")
    t = now()
    absence = await add_absence(redis, mine.id, HOLIDAY, t, t + DAY, NORD, at=t)
    assert await list_absences(redis, other.id) == []
    assert not await remove_absence(redis, other.id, absence.id)
    assert await list_absences(redis, mine.id) == [absence]


async def test_ended_absences_are_dropped_when_the_list_changes(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    t = now()
    old = await add_absence(redis, clinic.id, HOLIDAY, t - 3 * DAY, t - DAY, NORD, at=t - 4 * DAY)
    assert await list_absences(redis, clinic.id) == [old]
    new = await add_absence(redis, clinic.id, COURSE, t + DAY, t + 2 * DAY, NORD, at=t)
    assert await list_absences(redis, clinic.id) == [new]


async def test_stored_as_one_hash_per_clinic(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    t = now()
    absence = await add_absence(redis, clinic.id, HOLIDAY, t, t + DAY, NORD, at=t)
    assert await redis.hkeys(keys.clinic_absences(clinic.id)) == [absence.id]


async def test_refuses_nonsense(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    t = now()
    with pytest.raises(ValueError, match="kind"):
        await add_absence(redis, clinic.id, "strike", t, t + DAY, NORD, at=t)
    with pytest.raises(ValueError, match="end after"):
        await add_absence(redis, clinic.id, HOLIDAY, t, t, NORD, at=t)
    assert await list_absences(redis, clinic.id) == []


async def test_clinic_availability_reads_absences_from_redis(redis: Redis) -> None:
    clinic = await make_clinic(redis)  # no video hours
    t = now()
    assert (await clinic_availability(redis, clinic, t)).reason == "closed"
    absence = await add_absence(redis, clinic.id, HOLIDAY, t - 60, t + DAY, NORD, at=t)
    state = await clinic_availability(redis, clinic, t)
    assert state.reason == "absent"
    assert state.absence == absence
    assert state.substitute == NORD
    assert state.absent_until == absence.end
    assert (await clinic_availability(redis, clinic, absence.end)).reason == "closed"


def test_the_period_rule_shared_by_the_settings_page_and_the_api() -> None:
    t = now()
    assert period_problem(t, t + DAY, at=t) is None
    assert period_problem(t - DAY, t + DAY, at=t) is None  # may have started already
    assert period_problem(t - 2 * DAY, t - DAY, at=t) == "past"
    assert period_problem(t + 2 * DAY, t + DAY, at=t) == "order"
    assert period_problem(t, t + (MAX_DAYS + 1) * DAY, at=t) == "long"
    assert period_problem(None, t + DAY, at=t) is None  # no start: only the end is judged
    assert period_problem(None, t - 1, at=t) == "past"


async def test_the_store_insists_on_the_rules(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    t = now()
    cases = [
        ((HOLIDAY, t, t + 400 * DAY, NORD), "long"),
        ((HOLIDAY, t - 2 * DAY, t - DAY, NORD), "past"),
        ((HOLIDAY, t, t + DAY, Substitute("", NORD.phone)), "substitute"),
        ((HOLIDAY, t, t + DAY, Substitute(NORD.name, "ring")), "substitute"),
    ]
    for (kind, start, end, substitute), code in cases:
        with pytest.raises(AbsenceProblem) as problem:
            await add_absence(redis, clinic.id, kind, start, end, substitute, at=t)
        assert problem.value.code == code
    assert await list_absences(redis, clinic.id) == []
