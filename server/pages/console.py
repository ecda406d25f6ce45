"""Logging in and out (every role), and the GP's console page."""

from __future__ import annotations

import math

from aiohttp import web

from server.appkeys import PASSWORDS, REDIS, SETTINGS
from server.auth import loginattempts
from server.auth.identity import authenticate
from server.auth.passwordcheck import Busy
from server.auth.web import (
    EMBED_COOKIE,
    SESSION_COOKIE,
    client_address,
    require_user,
    same_origin,
    set_session_cookie,
)
from server.clock import now
from server.i18n import request_language
from server.localurl import local_target
from server.notetaker.control import offered_engine
from server.pages.embed import embedding, framed_for
from server.pages.forms import read_form
from server.pages.home import HOME
from server.pages.render import format_time, render
from server.signalling.authority import end_session
from server.store import notes
from server.store.audit import audit
from server.store.clinics import get_clinic
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation
from server.store.organisations import list_organisations
from server.store.retention import record_access
from server.store.sessions import open_session
from server.store.users import User, UserRole, clinic_users, organisation_users
from server.waitingroom.clinicavailability import clinic_availability

# A login refused because too many password checks are queued: try again this soon.
BUSY_RETRY_SECONDS = 5

routes = web.RouteTableDef()


def _safe_next(value: str | None) -> str:
    """Only local paths, so the login form cannot be used to redirect elsewhere."""
    return local_target(value) or ""


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    return render(
        request, "login.html", error=None, username="", next=_safe_next(request.query.get("next"))
    )


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    """Throttled per address and per name (`loginattempts`); the password is checked off
    the event loop (`passwordcheck`), and a full queue answers 503 at once."""
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-site login refused")
    form = await read_form(request)
    username = str(form.get("username", ""))[:100]
    password = str(form.get("password", ""))[:1000]
    wanted = _safe_next(str(form.get("next", "")))
    redis = request.app[REDIS]
    attempt = loginattempts.Attempt(username, client_address(request))

    def refused(status: int, error: str, seconds: int = 0) -> web.Response:
        response = render(
            request, "login.html", status=status, error=error, seconds=seconds,
            username=username, next=wanted,
        )  # fmt: skip
        if seconds:
            response.headers["Retry-After"] = str(seconds)
        return response

    if (wait := await loginattempts.wait_seconds(redis, attempt, now())) > 0:
        return refused(429, "login.wait", math.ceil(wait))
    try:
        user = await authenticate(redis, username, password, request.app[PASSWORDS])
    except Busy:
        return refused(503, "login.busy", BUSY_RETRY_SECONDS)
    if user is None:
        await loginattempts.record_failure(redis, attempt, now())
        return refused(401, "login.failed")
    await loginattempts.record_success(redis, attempt)
    token = await open_session(redis, user.id, request.app[SETTINGS].session_ttl_seconds)
    if user.clinic_id:
        await record_access(redis, user.clinic_id, now())
    response = web.HTTPSeeOther(wanted or HOME[user.role])
    set_session_cookie(request, response, token)
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-site logout refused")
    for cookie in (SESSION_COOKIE, EMBED_COOKIE):  # an LPS on this same site shares them
        if token := request.cookies.get(cookie):
            await end_session(request.app[REDIS], token)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


@routes.get("/console")
async def console_page(request: web.Request) -> web.Response:
    """`?consultation=<id>` focuses the page on one consultation. An embed session (the view
    an LPS frames, `server.pages.embed`) gets only that view of its own consultation: no
    navigation, and events for the host window; `&embed=1` in its address says so."""
    user = await require_user(request, UserRole.GP, consultation=request.query.get("consultation"))
    redis = request.app[REDIS]
    clinic = await get_clinic(redis, user.clinic_id)
    assert clinic is not None
    # An embed session only ever gets the embedded view (require_user checked its focus).
    host = await embedding(request)
    focus = await _focus(request, user, host.consultation_id if host else None)
    if focus:
        await audit(
            redis, "consultation.viewed", f"user:{user.id}",
            consultation_id=focus, clinic_id=clinic.id, channel="embed" if host else "console",
        )  # fmt: skip
    colleagues = [
        {"id": u.id, "display_name": u.display_name}
        for u in await clinic_users(redis, user.clinic_id)
        if u.role == UserRole.GP
    ]
    engine = await offered_engine(redis, request.app[SETTINGS], user)
    notetaker = (
        {"clinical_use": engine.clinical_use, "languages": list(engine.languages)}
        if engine
        else None
    )
    data = {
        "me": user.id,
        "notetaker": notetaker,
        "colleagues": colleagues,
        "wait_alert_minutes": clinic.wait_alert_minutes,
        "organisations": await _invitable(redis),
        "focus": focus,
        "embed": {"consultation_id": focus, "origins": list(host.origins)} if host else None,
    }
    availability = await clinic_availability(redis, clinic, now())
    absent = None
    if availability.absent and availability.substitute is not None:
        absent = {
            "until": format_time(availability.absent_until, request_language(request)),
            "substitute": availability.substitute,
        }
    response = render(
        request, "console.html", user=user, clinic=clinic, console_data=data,
        focus=focus, embedded=host is not None, notetaker=notetaker, absent=absent,
        outcome=await _outcome(redis, focus),
    )  # fmt: skip
    if host:
        framed_for(response, host.origins)
    return response


async def _outcome(redis: Redis, consultation_id: str | None) -> dict[str, object] | None:
    """For a page about one consultation that is over: how it ended and its note, so the
    view an LPS embeds shows the outcome rather than "not arrived yet"."""
    c = await get_consultation(redis, consultation_id) if consultation_id else None
    if c is None or c.status not in (Status.ENDED, Status.CANCELLED):
        return None
    note = await notes.get_note(redis, c.id)
    if isinstance(note, notes.Note):
        shown = {"status": note.status, "text": note.text}
    else:
        shown = {"status": "filed" if isinstance(note, notes.Acked) else "none", "text": ""}
    return {"status": c.status, "billing_code": c.billing_code, "note": shown}


async def _focus(request: web.Request, user: User, default: str | None) -> str | None:
    """The consultation the page is about, if any: one of the GP's own clinic, else 404."""
    wanted = request.query.get("consultation") or default
    if wanted is None:
        return None
    c = await get_consultation(request.app[REDIS], wanted) if len(wanted) <= 64 else None
    if c is None or c.clinic_id != user.clinic_id:
        raise web.HTTPNotFound()
    return c.id


async def _invitable(redis: Redis) -> list[dict[str, object]]:
    """Organisations a GP can invite from, each with its staff (names and job titles)."""
    return [
        {
            "id": org.id,
            "name": org.name,
            "staff": [
                {"id": u.id, "display_name": u.display_name, "title": u.title}
                for u in await organisation_users(redis, org.id)
                if u.role == UserRole.STAFF
            ],
        }
        for org in await list_organisations(redis)
    ]
