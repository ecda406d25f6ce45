"""LPS vendors invite a municipality's professional into a consultation.

    POST /api/v1/consultations/{id}/participants
         {"organisation": "101", "invitee": "username"?}   (municipality code; a named person)
    -> 201 {"id", "consultation_id", "organisation": {"code", "name"}, "invitee", "url",
            "status"}

The URL is shown once (stored hashed); the LPS sends it to the invited organisation, whose
staff member logs in to use it. A vendor reaches only consultations in clinics it serves.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.api.problems import problem
from server.api.spec import ApiRoutes
from server.api.tenancy import vendor_consultation
from server.api.validation import valid_body
from server.appkeys import REDIS, SETTINGS
from server.consultations.crosssector import InviteError, invitation_path, invite
from server.store.organisations import organisation_by_code
from server.store.users import find_user


class ParticipantBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organisation: Annotated[str, Field(pattern=r"^[0-9]{3}$")]  # the municipality code
    invitee: Annotated[str, Field(min_length=1, max_length=100)] | None = None  # a user name


class OrganisationRef(BaseModel):
    code: str
    name: str


class ParticipantOut(BaseModel):
    id: str
    consultation_id: str
    organisation: OrganisationRef
    invitee: str | None
    url: str  # shown once
    status: str


routes = ApiRoutes(tag="consultations")


@routes.post(
    "/api/v1/consultations/{consultation_id}/participants",
    summary="Invite a municipality's professional (a cross-sector call)",
    body=ParticipantBody,
    responses={201: ParticipantOut},
    errors=(404, 409, 422),
)
async def add_participant(request: web.Request) -> web.Response:
    vendor, c, _ = await vendor_consultation(request, request.match_info["consultation_id"])
    redis = request.app[REDIS]
    body = await valid_body(request, ParticipantBody)
    organisation = await organisation_by_code(redis, body.organisation)
    invitee = await find_user(redis, body.invitee) if body.invitee else None
    if body.invitee and invitee is None:
        raise problem(422, "unknown_invitee", "that person is not on the organisation's staff")
    try:
        invitation, token, _ = await invite(
            redis, c, organisation, f"vendor:{vendor.id}", invitee.id if invitee else ""
        )
    except InviteError as exc:
        status = 409 if exc.code == "consultation_closed" else 422
        raise problem(status, exc.code, exc.detail) from None
    return web.json_response(
        {
            "id": invitation.id,
            "consultation_id": c.id,
            "organisation": {"code": body.organisation, "name": invitation.organisation_name},
            "invitee": body.invitee,
            "url": request.app[SETTINGS].public_base_url + invitation_path(token),
            "status": invitation.status,
        },
        status=201,
    )
