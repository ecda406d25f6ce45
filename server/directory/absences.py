"""Adding and removing a clinic's absences: one way, whichever channel asks.

The clinic's settings page (a GP) and the LPS API (a vendor) both come here, so an absence
is checked, stored, announced on the event stream and audited alike. The rules an absence
must keep are in `server.store.absences`; the handlers only translate HTTP to these calls.
"""

from __future__ import annotations

from server.auth.actor import Actor
from server.store import absences as stored
from server.store.absences import Absence, Substitute
from server.store.audit import audit
from server.store.connection import Redis
from server.store.events import EventType, append_event


async def add_absence(
    redis: Redis, actor: Actor, clinic_id: str,
    kind: str, start: float, end: float, substitute: Substitute, at: float,
) -> Absence:  # fmt: skip
    """Raises `AbsenceProblem`, changing nothing, for an absence that breaks a rule."""
    absence = await stored.add_absence(redis, clinic_id, kind, start, end, substitute, at=at)
    await _record(redis, EventType.ABSENCE_ADDED, actor, clinic_id, absence.id)
    return absence


async def remove_absence(redis: Redis, actor: Actor, clinic_id: str, absence_id: str) -> bool:
    """False, recording nothing, when the clinic has no such absence (or it is gone)."""
    if not await stored.remove_absence(redis, clinic_id, absence_id):
        return False
    await _record(redis, EventType.ABSENCE_REMOVED, actor, clinic_id, absence_id)
    return True


async def _record(
    redis: Redis, action: EventType, actor: Actor, clinic_id: str, absence_id: str
) -> None:
    ids = {"clinic_id": clinic_id, "absence_id": absence_id}
    await append_event(redis, action, **ids, **actor.event_fields())
    await audit(redis, action, actor.name, **ids, channel=actor.channel)
