"""The patient's link: the join page, and the join call that seats them in the waiting room.

While the clinic is absent, every link (booked or drop-in) shows the substitute clinic instead
of the join form, with status 200: the link itself is fine and works again when the clinic is
back. The join calls answer 409 `clinic_absent` (or `clinic_closed` outside the drop-in hour).
"""

from __future__ import annotations

from aiohttp import web

from server import safejson
from server.appkeys import REDIS
from server.auth.tokens import looks_like_token
from server.auth.web import client_address, same_origin
from server.clock import iso_utc, now
from server.consultations.linkrules import LinkState, link_window
from server.consultations.links import issue_link, resolve_link
from server.i18n import request_language
from server.jsonerror import json_error
from server.pages.render import error_page, format_time, render
from server.store.clinics import Clinic, get_clinic, resolve_dropin_link
from server.store.connection import Redis
from server.store.consultations import (
    Consultation,
    Kind,
    Status,
    create_consultation,
    update_consultation,
)
from server.store.participants import issue_resume_token, patient_seat
from server.waitingroom.availability import Availability
from server.waitingroom.clinicavailability import absence_stops_queueing, clinic_availability
from server.waitingroom.dropinlimit import Refused, count_join, over_limit
from server.waitingroom.names import NameProblem, clean_display_name

TERMS_VERSION = "2026-11-1"

# The HTTP status a patient link answers with in each state (pages and JSON alike).
LINK_STATUS = {
    LinkState.UNKNOWN: 404,
    LinkState.REVOKED: 410,
    LinkState.EXPIRED: 410,
    LinkState.CANCELLED: 410,
    LinkState.ENDED: 410,
    LinkState.NOT_YET: 403,
}

routes = web.RouteTableDef()


def _closed_page(
    request: web.Request, clinic: Clinic, state: Availability, mode: str
) -> web.Response:
    lang = request_language(request)
    return render(
        request,
        "closed.html",
        clinic=clinic,
        availability=state,
        mode=mode,
        absent_until=format_time(state.absent_until, lang),
        next_open=format_time(state.next_open, lang),
    )


def _absent_error(state: Availability) -> web.Response:
    assert state.substitute is not None and state.absent_until is not None
    sub = state.substitute
    return json_error(
        409,
        "clinic_absent",
        f"the clinic is absent; call {sub.name} on {sub.phone}",
        substitute={"name": sub.name, "phone": sub.phone},
        until=iso_utc(state.absent_until),
    )


@routes.get("/j/{token}")
async def join_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    if not looks_like_token(token):
        return error_page(request, 404, "link_unknown")
    resolved = await resolve_link(request.app[REDIS], token)
    c = resolved.consultation
    if resolved.state is not LinkState.OK or c is None:
        return await _link_error(request, resolved.state, c)
    clinic = await get_clinic(request.app[REDIS], c.clinic_id)
    if clinic is None:
        return error_page(request, 404, "link_unknown")
    mode = "dropin" if c.kind == Kind.DROP_IN else "scheduled"
    state = await clinic_availability(request.app[REDIS], clinic, now())
    if state.absent and c.status != Status.IN_CALL:  # a call already under way is not cut off
        return _closed_page(request, clinic, state, mode)
    return render(
        request,
        "patient.html",
        mode=mode,
        clinic=clinic,
        appointment_time=format_time(c.scheduled_start, request_language(request)),
        join_url=f"/j/{token}/join",
        terms_version=TERMS_VERSION,
    )


async def _link_error(
    request: web.Request, state: LinkState, c: Consultation | None
) -> web.Response:
    """A link that does not work names the clinic to call; one not open yet says when it
    opens, not only the appointment."""
    lang = request_language(request)
    clinic = await get_clinic(request.app[REDIS], c.clinic_id) if c else None
    opens = link_window(c)[0] if c else None
    return error_page(
        request,
        LINK_STATUS[state],
        f"link_{state}",
        clinic=clinic,
        time=format_time(c.scheduled_start if c else None, lang),
        opens=format_time(opens, lang),
    )


async def _join_form(request: web.Request) -> str | web.Response:
    """Validate a join request body (the typed name, the current terms accepted); returns
    the cleaned name."""
    if not same_origin(request):
        return json_error(403, "bad_origin", "cross-site request refused")
    try:
        body = safejson.loads(await request.read())
    except safejson.BadJSON as error:
        return json_error(400, "malformed", f"the body must be JSON: {error}")
    if not isinstance(body, dict):
        return json_error(400, "malformed", "the body must be a JSON object")
    try:
        name = clean_display_name(body.get("name"))
    except NameProblem as problem:
        return json_error(400, problem.code, "the name cannot be used")
    if body.get("accepted_terms") != TERMS_VERSION:
        return json_error(
            400, "terms_not_accepted", "accept the current terms", terms_version=TERMS_VERSION
        )
    return name


async def _seat_patient(request: web.Request, c: Consultation, name: str) -> str:
    """Give the consultation's patient seat to this browser and return its resume token."""
    redis = request.app[REDIS]
    participant_id = await patient_seat(redis, c.id, name)
    await update_consultation(redis, c, patient_name=name)
    return await issue_resume_token(redis, participant_id, name, TERMS_VERSION)


@routes.post("/j/{token}/join")
async def join(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    name = await _join_form(request)
    if isinstance(name, web.Response):
        return name
    resolved = await resolve_link(request.app[REDIS], token) if looks_like_token(token) else None
    if resolved is None or resolved.state is not LinkState.OK or resolved.consultation is None:
        state = resolved.state if resolved else LinkState.UNKNOWN
        return json_error(LINK_STATUS[state], f"link_{state}", "this link does not work")
    c = resolved.consultation
    clinic = await get_clinic(request.app[REDIS], c.clinic_id)
    if clinic is None:
        return json_error(404, "link_unknown", "this link does not work")
    absence = await absence_stops_queueing(request.app[REDIS], clinic, c)
    if absence is not None:
        return _absent_error(absence)
    resume = await _seat_patient(request, c, name)
    return web.json_response({"resume": resume, "terms_version": TERMS_VERSION})


async def _dropin_clinic(redis: Redis, token: str) -> Clinic | None:
    clinic_id = await resolve_dropin_link(redis, token) if looks_like_token(token) else None
    return await get_clinic(redis, clinic_id) if clinic_id else None


def _limited_page(request: web.Request, clinic: Clinic, refused: Refused) -> web.Response:
    """For a visitor over a drop-in limit (`dropinlimit`): when to try, or whom to call."""
    minutes = max(1, -(-refused.retry_after // 60))
    response = error_page(
        request,
        429,
        "dropin_limited",
        clinic=clinic,
        clinic_name=clinic.name,
        phone=clinic.phone,
        minutes=minutes,
    )
    response.headers["Retry-After"] = str(refused.retry_after)
    return response


@routes.get("/d/{token}")
async def dropin_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    redis = request.app[REDIS]
    clinic = await _dropin_clinic(redis, token)
    if clinic is None:
        return error_page(request, 404, "link_unknown")
    state = await clinic_availability(redis, clinic, now())
    if not state.open:
        return _closed_page(request, clinic, state, "dropin")
    if refused := await over_limit(redis, client_address(request), clinic.id, now()):
        return _limited_page(request, clinic, refused)
    return render(
        request,
        "patient.html",
        mode="dropin",
        clinic=clinic,
        appointment_time="",
        join_url=f"/d/{token}/join",
        terms_version=TERMS_VERSION,
    )


@routes.post("/d/{token}/join")
async def dropin_join(request: web.Request) -> web.Response:
    """A drop-in visitor gets a consultation of their own, with its own link to resume by."""
    name = await _join_form(request)
    if isinstance(name, web.Response):
        return name
    redis = request.app[REDIS]
    clinic = await _dropin_clinic(redis, request.match_info["token"])
    if clinic is None:
        return json_error(404, "link_unknown", "this link does not work")
    state = await clinic_availability(redis, clinic, now())
    if state.absent:
        return _absent_error(state)
    if not state.open:
        return json_error(409, "clinic_closed", "the open video hour is closed", phone=clinic.phone)
    if refused := await count_join(redis, client_address(request), clinic.id, now()):
        response = json_error(
            429, "dropin_limited", "too many drop-in visitors; try again later", phone=clinic.phone
        )
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    c = await create_consultation(redis, clinic.id, Kind.DROP_IN, patient_name=name)
    link, c = await issue_link(redis, c)
    resume = await _seat_patient(request, c, name)
    return web.json_response(
        {"resume": resume, "link": f"/j/{link}", "terms_version": TERMS_VERSION}
    )
