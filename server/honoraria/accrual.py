"""Accruals from the event stream: each qualifying event earns once in every programme whose
rules pay for it and whose enrolment covers its day.

The events that earn:
- `note.approved`: a qualifying consultation when the approved note is the AI note-taker's
  draft (`Note.ai_generated`), earned by the GP who approved it, on the Copenhagen day of
  the event, in every programme that GP is enrolled in. If the LPS has filed the note
  already (only its acknowledgement is left), the pilot's evidence says the same thing: a
  draft was made and approved, not discarded, by its GP;
- `honorarium.enrolled` (an admin enrolled a GP): the onboarding amount;
- `honorarium.questionnaire_completed` (an admin recorded it, with the day): the
  questionnaire amount.

Every instance reads `av:events` in the consumer group `honoraria` (see
`server.store.groupconsumer`). The group starts at the stream's beginning, so events from
before it existed still accrue for GPs enrolled by then. A batch is handled, then
acknowledged; one read but never acknowledged (an instance died) is claimed by another after
`CLAIM_IDLE` seconds. Handling an event twice, or events out of order, changes nothing: an
earning key earns at most once (`server.store.honoraria`).
"""

from __future__ import annotations

from redis.asyncio.client import Pipeline

from server.clock import local_day
from server.pilots.ledger import Entry
from server.pilots.programmes import (
    CONSULTATION,
    ONBOARDING,
    QUESTIONNAIRE,
    Enrolment,
    PilotProgramme,
    earning,
    earning_key,
    onboarding_day,
)
from server.store import decoded, keys
from server.store.connection import Redis
from server.store.events import EventType, StreamEvent
from server.store.groupconsumer import GroupConsumer
from server.store.honoraria import accrue, get_enrolment, get_programme, gp_enrolments
from server.store.notes import APPROVED, Acked, Note, get_note

GROUP = "honoraria"
CLAIM_IDLE = 30.0
SYSTEM = "system:honoraria"

Target = tuple[PilotProgramme, Enrolment]


async def reviewing_gp(redis: Redis, consultation_id: str) -> str | None:
    """The GP who reviewed and approved the AI note-taker's draft; None if nobody did."""
    note = await get_note(redis, consultation_id)
    if isinstance(note, Note):
        ok = note.status == APPROVED and note.ai_generated and note.approved_by
        return note.approved_by if ok else None
    if isinstance(note, Acked):
        gp_id, draft_at, approved_at, discarded_at = await redis.hmget(
            keys.pilot_notetaker(consultation_id), "gp_id", "draft_at", "approved_at",
            "discarded_at",
        )  # fmt: skip
        if gp_id and draft_at and approved_at and not discarded_at:
            return decoded.text(gp_id)
    return None


async def _enrolled(redis: Redis, data: dict[str, object]) -> list[Target]:
    programme = await get_programme(redis, str(data.get("programme_id", "")))
    if programme is None:
        return []
    enrolment = await get_enrolment(redis, programme.id, str(data.get("gp_id", "")))
    return [(programme, enrolment)] if enrolment else []


async def accrue_event(redis: Redis, event: StreamEvent, actor: str = SYSTEM) -> list[Entry]:
    """The accruals `event` earns (none for events that earn nothing, or earned already)."""
    day = local_day(event.at_ms / 1000)
    if event.type == EventType.NOTE_APPROVED:
        consultation_id = str(event.data.get("consultation_id", ""))
        gp_id = await reviewing_gp(redis, consultation_id)
        targets = await gp_enrolments(redis, gp_id) if gp_id else []
        kind, key = CONSULTATION, earning_key(CONSULTATION, consultation_id)
    elif event.type == EventType.HONORARIUM_ENROLLED:
        targets = await _enrolled(redis, event.data)
        kind, key = ONBOARDING, earning_key(ONBOARDING)
        day = onboarding_day(*targets[0]) if targets else day
    elif event.type == EventType.HONORARIUM_QUESTIONNAIRE_COMPLETED:
        targets = await _enrolled(redis, event.data)
        day = str(event.data.get("on", ""))
        kind, key = QUESTIONNAIRE, earning_key(QUESTIONNAIRE, day)
    else:
        return []
    written = []
    for programme, enrolment in targets:
        earned = earning(programme, enrolment, kind, key, day)
        if earned is not None and (
            entry := await accrue(redis, enrolment, earned, event.id, actor)
        ):
            written.append(entry)
    return written


def accrual_consumer(redis: Redis, consumer: str) -> GroupConsumer:
    async def accrue_events(events: list[StreamEvent], _ack: Pipeline) -> None:
        for event in events:
            await accrue_event(redis, event)

    return GroupConsumer(redis, GROUP, consumer, accrue_events, start="0", claim_idle=CLAIM_IDLE)
