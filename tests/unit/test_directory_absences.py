"""Adding and removing an absence records it once, the same way for a GP and a vendor: the
event names who did it, the audit entry names the actor and the channel."""

from __future__ import annotations

import pytest

from server.auth.actor import Actor
from server.clock import now
from server.directory.absences import add_absence, remove_absence
from server.store.absences import HOLIDAY, AbsenceProblem, Substitute, list_absences
from server.store.audit import read_audit
from server.store.connection import Redis
from server.store.events import read_events
from tests.unit.factories import make_clinic

NORD = Substitute("Lægerne i Nørregade", "+45 33 12 34 56")
DAY = 86400.0
GP = Actor("user", "u1", "web")
VENDOR = Actor("vendor", "v1", "api")


@pytest.mark.parametrize(
    ("actor", "who"), [(GP, {"by": "u1"}), (VENDOR, {"vendor": "v1"})], ids=["gp", "vendor"]
)
async def test_add_and_remove_are_stored_announced_and_audited(
    redis: Redis, actor: Actor, who: dict[str, str]
) -> None:
    clinic = await make_clinic(redis)
    t = now()
    absence = await add_absence(redis, actor, clinic.id, HOLIDAY, t, t + DAY, NORD, at=t)
    assert await list_absences(redis, clinic.id) == [absence]
    assert await remove_absence(redis, actor, clinic.id, absence.id)
    assert await list_absences(redis, clinic.id) == []

    ids = {"clinic_id": clinic.id, "absence_id": absence.id}
    events = [(kind, data) for _, kind, data in await read_events(redis)]
    assert events == [("absence.added", ids | who), ("absence.removed", ids | who)]
    audited = [(e.action, e.actor, e.data) for e in await read_audit(redis)]
    assert audited == [
        ("absence.added", actor.name, ids | {"channel": actor.channel}),
        ("absence.removed", actor.name, ids | {"channel": actor.channel}),
    ]


async def test_a_refused_or_missing_absence_records_nothing(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    t = now()
    with pytest.raises(AbsenceProblem):
        await add_absence(redis, GP, clinic.id, HOLIDAY, t - 2 * DAY, t - DAY, NORD, at=t)
    assert not await remove_absence(redis, GP, clinic.id, "no-such-absence")
    assert await read_events(redis) == []
    assert await read_audit(redis) == []


def test_actors_are_named_as_the_audit_stream_names_them() -> None:
    assert (GP.name, VENDOR.name) == ("user:u1", "vendor:v1")
