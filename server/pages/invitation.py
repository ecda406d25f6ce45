"""Cross-sector calls on the web: the invited professional's page, and the GP inviting one.

`/i/{token}` is the invitation link. Opened by someone not logged in, it goes through the
login and back; opened by the wrong organisation or person, it says so (403); a withdrawn
invitation or a consultation that is over answers 410, like a patient's link.
"""

from __future__ import annotations

from aiohttp import web

from server import safejson
from server.appkeys import REDIS, SETTINGS
from server.auth.tokens import looks_like_token
from server.auth.web import current_user, require_user
from server.clock import now
from server.consultations.crosssector import InviteError, invitation_path, invite
from server.consultations.invitationrules import InvitationState, invitation_state
from server.i18n import request_language
from server.jsonerror import json_error
from server.localurl import login_url
from server.pages.render import error_page, format_time, render
from server.store.audit import audit
from server.store.clinics import get_clinic
from server.store.consultations import get_consultation
from server.store.invitations import invitation_for_token
from server.store.organisations import get_organisation
from server.store.users import UserRole

STATUS = {
    InvitationState.UNKNOWN: 404,
    InvitationState.REVOKED: 410,
    InvitationState.CANCELLED: 410,
    InvitationState.ENDED: 410,
    InvitationState.EXPIRED: 410,
    InvitationState.NOT_YET: 403,
    InvitationState.WRONG_ORGANISATION: 403,
    InvitationState.WRONG_PERSON: 403,
}

routes = web.RouteTableDef()


@routes.get("/i/{token}")
async def invitation_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    if not looks_like_token(token):
        return error_page(request, 404, "invitation_unknown")
    redis = request.app[REDIS]
    invitation = await invitation_for_token(redis, token)
    c = await get_consultation(redis, invitation.consultation_id) if invitation else None
    user = await current_user(request)
    state = invitation_state(invitation, c, user, now())
    if state is InvitationState.LOGIN:
        raise web.HTTPSeeOther(login_url(invitation_path(token)))
    if state is not InvitationState.OK:
        name = invitation.organisation_name if invitation else ""
        return error_page(request, STATUS[state], f"invitation_{state.value}", organisation=name)
    assert c is not None and user is not None
    clinic = await get_clinic(redis, c.clinic_id)
    await audit(
        redis, "consultation.viewed", f"user:{user.id}",
        consultation_id=c.id, clinic_id=c.clinic_id, channel="invitation",
    )  # fmt: skip
    return render(
        request,
        "professional.html",
        user=user,
        clinic=clinic,
        token=token,
        appointment_time=format_time(c.scheduled_start, request_language(request)),
    )


@routes.post("/console/consultations/{consultation_id}/invitations")
async def invite_post(request: web.Request) -> web.Response:
    """GP: `POST /console/consultations/{id}/invitations` {organisation_id, invitee_user_id?}
    -> 201 {id, url, organisation, invitee}. The link is shown once."""
    wanted = request.match_info["consultation_id"]
    user = await require_user(request, UserRole.GP, consultation=wanted)
    redis = request.app[REDIS]
    c = await get_consultation(redis, wanted)
    if c is None or c.clinic_id != user.clinic_id:
        return json_error(404, "unknown_consultation", "no such consultation in your clinic")
    try:
        body = safejson.loads(await request.read())
    except safejson.BadJSON:
        return json_error(400, "malformed", "send a JSON object")
    if not isinstance(body, dict):
        return json_error(400, "malformed", "send a JSON object")
    org_id = str(body.get("organisation_id") or "")[:64]
    invitee_id = str(body.get("invitee_user_id") or "")[:64]
    organisation = await get_organisation(redis, org_id) if org_id else None
    try:
        invitation, token, invitee = await invite(
            redis, c, organisation, f"user:{user.id}", invitee_id
        )
    except InviteError as exc:
        return json_error(409 if exc.code == "consultation_closed" else 422, exc.code, exc.detail)
    return web.json_response(
        {
            "id": invitation.id,
            "url": request.app[SETTINGS].public_base_url + invitation_path(token),
            "organisation": invitation.organisation_name,
            "invitee": invitee.display_name if invitee else None,
        },
        status=201,
    )
