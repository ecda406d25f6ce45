"""A consultation's note: the note-taker's draft, the GP's approved version, and what is
left once the LPS has filed it. The note-taker's transcript goes with the draft: deleted
when the LPS acknowledges the note or the GP discards the draft.

The platform hands notes to the LPS rather than keeping them: a note expires after its
retention period (7 days unless told otherwise), and is deleted as soon as the LPS
acknowledges it. What remains then is `Acked`, the time of the acknowledgement, so a late
read answers "deleted" rather than "never existed".

Lifecycle: draft -> approved -> acked (deleted); a draft may also be discarded. An approved
note is never overwritten by a draft, and only an approved note can be acknowledged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TypeVar

from redis.exceptions import WatchError

from server.clock import now
from server.store import decoded, keys
from server.store.connection import Redis
from server.store.consultations import Consultation
from server.store.events import EventType, append_event

DRAFT = "draft"
APPROVED = "approved"

RETENTION_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Section:
    key: str  # e.g. reason, history, findings, assessment, plan
    title: str
    text: str
    spans: tuple[str, ...] = ()  # the transcript segments an AI draft's section is based on


@dataclass(frozen=True)
class Note:
    consultation_id: str
    status: str  # draft | approved
    text: str
    sections: tuple[Section, ...]
    ai_generated: bool
    engine: str  # the note-taker engine that drafted it; "" when the GP wrote it
    created_at: float
    approved_at: float | None = None
    approved_by: str = ""  # the approving GP's user id


@dataclass(frozen=True)
class Acked:
    """A note the LPS has filed: its content is gone, only the time of the ack remains."""

    consultation_id: str
    acked_at: float


Stored = Note | Acked
T = TypeVar("T", bound=Stored | None)


class NoteError(Exception):
    """A change the note's state does not allow; `code` is stable (API problem codes)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def sections_text(sections: Sequence[Section]) -> str:
    """The plain-text note made of its sections, as the LPS files it."""
    return "\n\n".join(f"{s.title}\n{s.text}" if s.title else s.text for s in sections)


async def get_note(redis: Redis, consultation_id: str) -> Stored | None:
    return _load(decoded.text(await redis.get(keys.consultation_note(consultation_id))))


async def save_draft(
    redis: Redis,
    c: Consultation,
    sections: Sequence[Section],
    *,
    engine: str,
    text: str | None = None,
    ai_generated: bool = True,
    ttl_seconds: int = RETENTION_SECONDS,
) -> Note:
    """Store (or replace) the draft; refused once the GP has approved the note."""

    def draft(current: Stored | None) -> Note:
        if isinstance(current, Note) and current.status == APPROVED:
            raise NoteError("note_approved", "the note is approved already")
        return Note(
            c.id, DRAFT, sections_text(sections) if text is None else text, tuple(sections),
            ai_generated, engine, now(),
        )  # fmt: skip

    note = await _change(redis, c.id, draft, ttl_seconds)
    await append_event(
        redis, EventType.NOTE_DRAFT_READY, consultation_id=c.id, clinic_id=c.clinic_id
    )
    return note


async def approve(
    redis: Redis,
    c: Consultation,
    by: str,
    *,
    text: str | None = None,
    sections: Sequence[Section] | None = None,
    ttl_seconds: int = RETENTION_SECONDS,
) -> Note:
    """Approve the note as the GP `by` edited it: new `sections` (the text follows them
    unless given), or a new free `text` alone (the draft's sections no longer describe it),
    or neither (as drafted). With no draft, the GP's own text becomes the approved note."""

    def approved(current: Stored | None) -> Note:
        if isinstance(current, Acked):
            raise NoteError("note_deleted", "the LPS has filed this note already")
        base = current or Note(c.id, APPROVED, "", (), False, "", now())
        if sections is not None:
            new_sections = tuple(sections)
            new_text = sections_text(new_sections) if text is None else text
        elif text is not None:
            new_sections, new_text = (), text
        else:
            new_sections, new_text = base.sections, base.text
        if not new_text.strip():
            raise NoteError("empty_note", "an approved note needs some text")
        return replace(
            base,
            status=APPROVED,
            text=new_text,
            sections=new_sections,
            approved_at=now(),
            approved_by=by,
        )

    note = await _change(redis, c.id, approved, ttl_seconds)
    await append_event(redis, EventType.NOTE_APPROVED, consultation_id=c.id, clinic_id=c.clinic_id)
    return note


async def discard(redis: Redis, c: Consultation) -> bool:
    """Throw the draft away. False if there was none; an approved note stays."""

    def discarded(current: Stored | None) -> None:
        if not (isinstance(current, Note) and current.status == DRAFT):
            raise NoteError("no_draft", "there is no draft to discard")

    try:
        await _change(redis, c.id, discarded)
    except NoteError:
        return False
    await redis.delete(keys.consultation_transcript(c.id))  # nothing left to base a note on
    await append_event(redis, EventType.NOTE_DISCARDED, consultation_id=c.id, clinic_id=c.clinic_id)
    return True


async def purge_draft(redis: Redis, consultation_id: str) -> None:
    """Consent was withdrawn: the draft and the transcript go, silently (no event names
    what was captured). An approved note is the GP's own and stays."""

    def purged(current: Stored | None) -> Stored | None:
        return None if isinstance(current, Note) and current.status == DRAFT else current

    await _change(redis, consultation_id, purged)
    await redis.delete(keys.consultation_transcript(consultation_id))


async def delete_note(
    redis: Redis, c: Consultation, *, ttl_seconds: int = RETENTION_SECONDS
) -> Acked:
    """The LPS has filed the approved note: delete it, keeping only when that happened.
    Acknowledging again is harmless and answers the first acknowledgement."""
    first = True

    def acked(current: Stored | None) -> Acked:
        nonlocal first
        if isinstance(current, Acked):
            first = False
            return current
        if current is None:
            raise NoteError("no_note", "this consultation has no note")
        if current.status != APPROVED:
            raise NoteError("note_not_approved", "the GP has not approved the note yet")
        return Acked(c.id, now())

    result = await _change(redis, c.id, acked, ttl_seconds)
    await redis.delete(keys.consultation_transcript(c.id))
    if first:
        await append_event(redis, EventType.NOTE_ACKED, consultation_id=c.id, clinic_id=c.clinic_id)
    return result


async def _change(
    redis: Redis,
    consultation_id: str,
    change: Callable[[Stored | None], T],
    ttl_seconds: int = RETENTION_SECONDS,
) -> T:
    """Apply `change` to the stored note atomically (optimistic: retried if another
    instance changed it meanwhile). A new record starts its retention, an edit keeps the
    time left, and `None` deletes."""
    key = keys.consultation_note(consultation_id)
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                current = _load(decoded.text(await pipe.get(key)))
                new = change(current)
                pipe.multi()
                if new is None:
                    pipe.delete(key)
                elif new is current:
                    pass
                elif isinstance(current, Note) and isinstance(new, Note):
                    pipe.set(key, _dump(new), keepttl=True)
                else:
                    pipe.set(key, _dump(new), ex=ttl_seconds)
                    # The consent proof lives at least as long as the note it covers.
                    pipe.expire(keys.consultation_consent(consultation_id), ttl_seconds, gt=True)
                await pipe.execute()
                return new
            except WatchError:
                continue


def _dump(record: Stored) -> str:
    return json.dumps(asdict(record))


def _load(raw: str | None) -> Stored | None:
    if raw is None:
        return None
    data = json.loads(raw)
    if "acked_at" in data:
        return Acked(**data)
    data["sections"] = tuple(
        Section(**{**s, "spans": tuple(s.get("spans", ()))}) for s in data["sections"]
    )
    return Note(**data)
