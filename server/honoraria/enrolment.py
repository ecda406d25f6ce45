"""What an admin records about a GP in a programme: the enrolment, and a completed evaluation
questionnaire. Each is saved, audited and announced on the event stream, and accrued at
once from that event, so the admin sees the accrual on the next page; the accrual consumer
meets the same event later and, its earning key being used, writes nothing more.

Enrolling again changes the dates of the enrolment; onboarding still earns only once.
"""

from __future__ import annotations

import time

from server.honoraria.accrual import accrue_event
from server.pilots.ledger import Entry
from server.pilots.programmes import Enrolment, PilotProgramme
from server.store.audit import audit
from server.store.connection import Redis
from server.store.events import EventType, StreamEvent, append_event
from server.store.honoraria import save_enrolment


async def _announce_and_accrue(
    redis: Redis, event_type: EventType, actor: str, **data: str
) -> list[Entry]:
    at_ms = int(time.time() * 1000)
    event_id = await append_event(redis, event_type, **data)
    return await accrue_event(redis, StreamEvent(event_id, event_type, at_ms, data), actor)


async def enrol_gp(
    redis: Redis, programme: PilotProgramme, gp_id: str, starts: str, ends: str, actor: str
) -> list[Entry]:
    """Enrol the GP (dates checked by the caller); returns the onboarding accrual, if any."""
    await save_enrolment(redis, Enrolment(programme.id, gp_id, starts, ends), actor)
    return await _announce_and_accrue(
        redis, EventType.HONORARIUM_ENROLLED, actor, programme_id=programme.id, gp_id=gp_id
    )


async def record_questionnaire(
    redis: Redis, programme: PilotProgramme, gp_id: str, on: str, actor: str
) -> list[Entry]:
    """The GP completed the evaluation questionnaire on `on`; returns what it earned."""
    await audit(
        redis, "honorarium.questionnaire_recorded", actor, programme_id=programme.id,
        gp_id=gp_id, on=on,
    )  # fmt: skip
    return await _announce_and_accrue(
        redis,
        EventType.HONORARIUM_QUESTIONNAIRE_COMPLETED,
        actor,
        programme_id=programme.id,
        gp_id=gp_id,
        on=on,
    )
