"""The GP's side of the note-taker on the web: the audio tap's offer, and the draft review.

- `POST /console/consultations/{id}/notetaker/tap` {sdp, type: "offer", speakers: {mid:
  speaker}} -> {sdp, type: "answer"}: only the GP holding the call, only once the patient
  has consented.
- `GET /console/consultations/{id}/note`: the draft (AI-generated until approved) as one
  field per section, with the transcript it came from; the first opening starts the
  pilot's "open to approve" clock.
- `POST` the same path with `action=approve` (the edited sections) or `action=discard`.
  An approved note goes to the LPS through the adapter (API, webhook `note.approved`,
  FHIR DocumentReference `final`). Sections left empty are not part of the approved note.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.appkeys import NOTETAKERS, REDIS, SETTINGS
from server.auth.web import require_user
from server.clock import now
from server.i18n import request_language
from server.jsonerror import json_body, json_error
from server.media.echo import MAX_SDP_CHARS, BadOffer
from server.notetaker.live import TapsBusy
from server.notetaker.protocol import EngineUnavailable
from server.pages.forms import read_form
from server.pages.render import error_page, format_time, render
from server.pilots.notecomparison import compare
from server.store import notes, pilotevidence
from server.store import notetaker as store
from server.store.audit import audit
from server.store.consultations import Consultation, Status, get_consultation
from server.store.participants import get_participant
from server.store.users import User, UserRole

Speaker = Annotated[str, Field(pattern=r"^(gp|patient|staff(-[0-9]{1,2})?)$")]
MAX_SECTION = 20_000
Mid = Annotated[str, Field(min_length=1, max_length=16)]

routes = web.RouteTableDef()


class TapOffer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)
    type: Literal["offer"]
    speakers: dict[Mid, Speaker] = Field(min_length=1, max_length=8)


async def _own(request: web.Request) -> tuple[User, Consultation | None]:
    """The logged-in GP, and the consultation in the URL if it is their clinic's."""
    wanted = request.match_info["consultation_id"]
    user = await require_user(request, UserRole.GP, consultation=wanted)
    c = await get_consultation(request.app[REDIS], wanted)
    return user, c if c is not None and c.clinic_id == user.clinic_id else None


@routes.post("/console/consultations/{consultation_id}/notetaker/tap")
async def tap(request: web.Request) -> web.Response:
    user, c = await _own(request)
    redis = request.app[REDIS]
    if c is None:
        return json_error(404, "unknown_consultation", "no such consultation in your clinic")
    gp = await get_participant(redis, c.gp_participant) if c.gp_participant else None
    if c.status != Status.IN_CALL or gp is None or gp.user_id != user.id:
        return json_error(409, "not_your_call", "you are not holding this call")
    state = await store.get_state(redis, c.id)
    if state is None or state.state not in (store.Phase.CONSENTED, store.Phase.LISTENING):
        return json_error(409, "no_consent", "the patient has not consented to the note-taker")
    offer = await json_body(request, TapOffer, "invalid_offer")
    if isinstance(offer, web.Response):
        return offer
    try:
        answer = await request.app[NOTETAKERS].tap(c, offer.sdp, offer.speakers)
    except BadOffer as bad:
        return json_error(400, bad.code, bad.detail)
    except TapsBusy:
        return json_error(503, "notetaker_busy", "this server taps as many calls as it can")
    except EngineUnavailable as exc:
        return json_error(503, "engine_unavailable", str(exc))
    return web.json_response({"sdp": answer, "type": "answer"})


@routes.get("/console/consultations/{consultation_id}/note")
async def note_page(request: web.Request) -> web.Response:
    user, c = await _own(request)
    if c is None:
        return error_page(request, 404, "note_missing")
    redis = request.app[REDIS]
    note = await notes.get_note(redis, c.id)
    if isinstance(note, notes.Note):
        await audit(
            redis, "note.read", f"user:{user.id}",
            consultation_id=c.id, clinic_id=c.clinic_id, channel="console",
        )  # fmt: skip
    if isinstance(note, notes.Note) and note.status == notes.DRAFT:
        await pilotevidence.record_opened(redis, c.id, now())
    return await _page(request, c, note)


async def _page(
    request: web.Request,
    c: Consultation,
    note: notes.Stored | None,
    status: int = 200,
    error: str = "",
) -> web.Response:
    lang = request_language(request)
    if note is None:
        return error_page(request, 404, "note_missing")
    segments = await store.transcript(request.app[REDIS], c.id)
    return render(
        request,
        "note_review.html",
        status=status,
        consultation=c,
        note=note,
        acked=isinstance(note, notes.Acked),
        when=format_time(c.started_at, lang),
        transcript=[
            {
                "speaker": s.speaker,
                "at": f"{int(s.start) // 60:02d}:{int(s.start) % 60:02d}",
                "text": s.text,
            }
            for s in segments
        ],
        done=request.query.get("done", ""),
        error=error,
    )


@routes.post("/console/consultations/{consultation_id}/note")
async def note_post(request: web.Request) -> web.Response:
    user, c = await _own(request)
    if c is None:
        return error_page(request, 404, "note_missing")
    redis = request.app[REDIS]
    form = await read_form(request)
    note = await notes.get_note(redis, c.id)
    if not isinstance(note, notes.Note) or note.status != notes.DRAFT:
        return await _page(request, c, note, status=409)
    here = f"/console/consultations/{c.id}/note"
    if form.get("action") == "discard":
        if await notes.discard(redis, c):
            await pilotevidence.record_discarded(redis, c.id, now())
        raise web.HTTPSeeOther(f"{here}?done=discarded")
    edited = [
        notes.Section(
            s.key, s.title, str(form.get(f"section:{s.key}", s.text))[:MAX_SECTION].strip()
        )
        for s in note.sections
    ]
    kept = [s for s in edited if s.text]
    if not kept:
        return await _page(request, c, note, status=422, error="empty_note")
    try:
        ttl = request.app[SETTINGS].note_retention_seconds
        approved = await notes.approve(redis, c, user.id, sections=kept, ttl_seconds=ttl)
    except notes.NoteError:
        return await _page(request, c, await notes.get_note(redis, c.id), status=409)
    await pilotevidence.record_approved(
        redis, c.id, compare(note.sections, edited, approved.text), now()
    )
    raise web.HTTPSeeOther(f"{here}?done=approved")
