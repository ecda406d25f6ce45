"""The LPS collects a consultation's note and says when it has filed it.

    GET  /api/v1/consultations/{id}/note      the draft or the approved note
    POST /api/v1/consultations/{id}/note/ack  filed: the platform deletes its copy (204)

Decisions where the issue is silent:
- Only an approved note can be acknowledged: acking a draft is 409 `note_not_approved`
  (the LPS may show a draft, but must not file it as the record).
- Acknowledging again is 204 too (the LPS may retry); the note is gone, so reading it is
  410 `note_deleted`. A consultation without a note is 404 `no_note`.
- Each read is audited (`note.read`, actor `vendor:<id>`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from server.api.problems import problem
from server.api.spec import ApiRoutes
from server.api.tenancy import vendor_consultation
from server.appkeys import REDIS
from server.clock import iso_local
from server.responses import NO_STORE
from server.store.audit import audit
from server.store.notes import Acked, Note, NoteError, delete_note, get_note
from server.store.notetaker import ConsentRecord, consent_log

routes = ApiRoutes(tag="notes")

NOTE_PATH = "/api/v1/consultations/{consultation_id}/note"
_STATUS = {"no_note": 404, "note_not_approved": 409}


class SectionOut(BaseModel):
    key: str
    title: str
    text: str


class ConsentOut(BaseModel):
    """One answer to the note-taker's consent question: the proof the LPS files with the
    note (never who by name: the role and how)."""

    answer: Literal["given", "declined", "withdrawn"]
    role: str
    at: datetime
    text_version: str
    language: str
    how: str


class NoteOut(BaseModel):
    consultation_id: str
    status: Literal["draft", "approved"]
    text: str
    sections: list[SectionOut]
    ai_generated: bool
    engine: str
    created_at: datetime
    approved_at: datetime | None
    approved_by: str | None  # the approving GP's user id
    consent: list[ConsentOut] = []  # the note-taker consent it was made under, oldest first


def note_json(note: Note, consent: Sequence[ConsentRecord] = ()) -> dict[str, object]:
    body = {
        "consultation_id": note.consultation_id,
        "status": note.status,
        "text": note.text,
        "sections": [{"key": s.key, "title": s.title, "text": s.text} for s in note.sections],
        "ai_generated": note.ai_generated,
        "engine": note.engine,
        "created_at": iso_local(note.created_at),
        "approved_at": iso_local(note.approved_at) if note.approved_at is not None else None,
        "approved_by": note.approved_by or None,
        "consent": [
            {
                "answer": r.answer,
                "role": r.role,
                "at": iso_local(r.at),
                "text_version": r.text_version,
                "language": r.language,
                "how": r.how,
            }
            for r in consent
        ],
    }
    return NoteOut.model_validate(body).model_dump(mode="json")


def gone(acked: Acked) -> web.HTTPException:
    return problem(
        410, "note_deleted", f"the LPS filed this note at {iso_local(acked.acked_at)}; deleted"
    )


@routes.get(
    NOTE_PATH,
    summary="The consultation's note: the AI draft or the GP's approved note",
    responses={200: NoteOut},
    errors=(404, 410),
)
async def read_note(request: web.Request) -> web.Response:
    vendor, c, _ = await vendor_consultation(request, request.match_info["consultation_id"])
    redis = request.app[REDIS]
    note = await get_note(redis, c.id)
    if isinstance(note, Acked):
        raise gone(note)
    if note is None:
        raise problem(404, "no_note", "this consultation has no note")
    await audit(
        redis, "note.read", f"vendor:{vendor.id}",
        consultation_id=c.id, clinic_id=c.clinic_id, channel="api",
    )  # fmt: skip
    consent = await consent_log(redis, c.id)
    return web.json_response(note_json(note, consent), headers=NO_STORE)


@routes.post(
    NOTE_PATH + "/ack",
    summary="The LPS has filed the approved note; the platform deletes its copy",
    responses={204: None},
    errors=(404, 409),
)
async def ack_note(request: web.Request) -> web.Response:
    _, c, _ = await vendor_consultation(request, request.match_info["consultation_id"])
    try:
        await delete_note(request.app[REDIS], c)
    except NoteError as exc:
        raise problem(_STATUS.get(exc.code, 409), exc.code, exc.detail) from None
    return web.Response(status=204)
