"""Telling people about a clinic's queue as it changes.

Each change is announced once, as a small delta:
- professionals of the clinic get the changed entry (or its removal) and the day-list row;
- waiting patients get only the queue key that joined or left, on the clinic's queue
  channel; each instance's place board (server/signalling/placeboard.py) hears it once and
  each patient's place works out from that key alone whether it moved
  (server/signalling/place.py), so the queue is never resent to everyone.
A GP's console gets the whole picture once, when it connects, in a few round trips.
"""

from __future__ import annotations

from typing import Literal

from server.clock import local_day, now
from server.consultations import lobby
from server.signalling.consolemessages import (
    ClinicState,
    DayEntry,
    DayEntryChanged,
    LobbyEntry,
    LobbyEntryChanged,
    LobbyEntryRemoved,
    QueueEntry,
    QueueEntryChanged,
    QueueEntryRemoved,
    SentMessage,
)
from server.signalling.controls import QueueMoved
from server.signalling.messages import dump
from server.signalling.router import Router
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import (
    PARTIAL_REQUIRED,
    Consultation,
    Kind,
    Status,
    consultations,
    consultations_on_day,
    get_consultation,
)
from server.store.messages import parse_clinic_message
from server.store.participants import Participant, get_participant
from server.waitingroom.eta import clinic_pace
from server.waitingroom.queue import waiting_ids


async def queue_entry(redis: Redis, c: Consultation) -> QueueEntry:
    return (await queue_entries(redis, [c]))[0]


async def queue_entries(redis: Redis, waiting: list[Consultation]) -> list[QueueEntry]:
    """The cards of these consultations, their presence and last message read in one round
    trip: a console's snapshot of a long queue must not cost a round trip per patient."""
    async with redis.pipeline(transaction=False) as pipe:
        for c in waiting:
            pipe.exists(keys.presence(c.patient_participant))
            pipe.lindex(keys.consultation_messages(c.id), -1)
        replies = await pipe.execute()
    return [
        QueueEntry(
            consultation_id=c.id,
            patient_name=c.patient_name,
            kind=c.kind,
            scheduled_start=c.scheduled_start,
            waiting_since=c.waiting_since,
            connected=bool(c.patient_participant and present),
            practitioner_id=c.practitioner_id,
            precall_verdict=c.precall_verdict,
            last_message=SentMessage(text=note.text, at=note.at) if note else None,
        )
        for c, present, note in zip(
            waiting, replies[::2], map(parse_clinic_message, replies[1::2]), strict=True
        )
    ]


def on_todays_list(c: Consultation) -> bool:
    """A drop-in visit that left unseen is gone (booked again, but nobody booked it): it
    has no place on today's list. The console applies the same rule to the deltas."""
    return not (c.kind == Kind.DROP_IN and c.status == Status.BOOKED)


def day_entry(c: Consultation) -> DayEntry:
    return DayEntry(
        consultation_id=c.id,
        patient_name=c.patient_name,
        kind=c.kind,
        scheduled_start=c.scheduled_start,
        status=c.status,
        billing_code=c.billing_code,
    )


def lobby_entry(p: Participant, c: Consultation, since: float) -> LobbyEntry:
    return LobbyEntry(
        participant_id=p.id,
        consultation_id=c.id,
        display_name=p.display_name,
        title=p.title,
        organisation=p.organisation_name,
        since=since,
        patient_name=c.patient_name,
        scheduled_start=c.scheduled_start,
    )


async def lobby_entries(redis: Redis, clinic_id: str) -> list[LobbyEntry]:
    entries = []
    for participant_id, since in await lobby.waiting(redis, clinic_id):
        p = await get_participant(redis, participant_id)
        c = await get_consultation(redis, p.consultation_id) if p else None
        if p is not None and c is not None:
            entries.append(lobby_entry(p, c, since))
    return entries


# What the console's cards and day rows show of a consultation (queue_entries, day_entry).
SHOWN = (
    *PARTIAL_REQUIRED,
    "patient_name", "scheduled_start", "waiting_since", "patient_participant",
    "practitioner_id", "precall_verdict", "billing_code",
)  # fmt: skip


async def clinic_state(redis: Redis, clinic_id: str) -> ClinicState:
    """The whole picture, for a GP's console when it connects: O(n) once, in a few round
    trips whatever the clinic's size."""
    order = await waiting_ids(redis, clinic_id)
    today = await consultations_on_day(redis, clinic_id, local_day(now()), SHOWN)
    # Most of the queue is on today's list, read already; the rest (booked for another
    # day) is read on its own.
    known = {c.id: c for c in today if c.status == Status.WAITING}
    missing = [i for i in order if i not in known]
    others = {c.id: c for c in await consultations(redis, missing, SHOWN)}
    waiting = [c for i in order if (c := known.get(i) or others.get(i)) is not None]
    return ClinicState(
        waiting=await queue_entries(redis, waiting),
        lobby=await lobby_entries(redis, clinic_id),
        today=[day_entry(c) for c in today if on_todays_list(c)],
        server_time=now(),
    )


async def lobby_joined(router: Router, p: Participant, c: Consultation, since: float) -> None:
    entry = LobbyEntryChanged(entry=lobby_entry(p, c, since))
    await router.publish(keys.clinic_channel(c.clinic_id), dump(entry))


async def lobby_left(router: Router, clinic_id: str, participant_id: str, reason: str) -> None:
    removed = LobbyEntryRemoved(participant_id=participant_id, reason=reason)
    await router.publish(keys.clinic_channel(clinic_id), dump(removed))


async def joined(
    redis: Redis, router: Router, fresh: Consultation, score: float, count: int
) -> None:
    """A consultation joined the queue as its `count`th move; `fresh` is its state after."""
    await _queue_moved(redis, router, fresh, "join", score, count)
    await entry(redis, router, fresh)


async def left(
    redis: Redis, router: Router, fresh: Consultation, score: float, count: int, reason: str
) -> None:
    """A consultation left the queue as its `count`th move; `fresh` is its state after."""
    await _queue_moved(redis, router, fresh, "leave", score, count)
    channel = keys.clinic_channel(fresh.clinic_id)
    await router.publish(channel, dump(QueueEntryRemoved(consultation_id=fresh.id, reason=reason)))
    await router.publish(channel, dump(DayEntryChanged(entry=day_entry(fresh))))


async def changed(redis: Redis, router: Router, c: Consultation) -> None:
    """The entry's details changed (connected, assigned GP, line test) or its status did."""
    fresh = await get_consultation(redis, c.id)
    if fresh is not None:
        await entry(redis, router, fresh)


async def entry(redis: Redis, router: Router, fresh: Consultation) -> None:
    """Show a consultation's current state: its queue card (if waiting) and its day row."""
    channel = keys.clinic_channel(fresh.clinic_id)
    if fresh.status == Status.WAITING:
        await router.publish(
            channel, dump(QueueEntryChanged(entry=await queue_entry(redis, fresh)))
        )
    await router.publish(channel, dump(DayEntryChanged(entry=day_entry(fresh))))


async def _queue_moved(
    redis: Redis,
    router: Router,
    c: Consultation,
    op: Literal["join", "leave"],
    score: float,
    count: int,
) -> None:
    pace = await clinic_pace(redis, c.clinic_id)
    moved = QueueMoved(op=op, score=score, id=c.id, pace=pace, count=count)
    await router.publish(keys.queue_channel(c.clinic_id), moved)
