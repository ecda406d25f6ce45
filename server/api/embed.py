"""Embedding the GP's console view in the LPS's own window.

    POST /api/v1/consultations/{id}/embed-session  {"practitioner": "<GP user name>"}
      -> 201 {"url": ".../embed/<token>", "expires_at": "..."}

The URL works once, within 60 s, and logs that GP in to that consultation's console view,
which only the vendor's registered origins may frame (`server.pages.embed`).

Decisions where the issue is silent:
- The practitioner may be any GP of the consultation's clinic (a colleague covering), not
  only the one it was booked for; anyone else is 422 `unknown_practitioner`.
- A cancelled consultation cannot be opened (409 `consultation_cancelled`); an ended one
  can, for its billing code and, later, its note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from server.api.problems import invalid_body, problem
from server.api.spec import ApiRoutes
from server.api.tenancy import vendor_consultation
from server.appkeys import REDIS, SETTINGS
from server.clock import iso_local, now
from server.responses import NO_STORE
from server.store.audit import audit
from server.store.consultations import Status
from server.store.embeds import issue_embed
from server.store.users import UserRole, find_user

routes = ApiRoutes(tag="embedding")


class EmbedSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    practitioner: Annotated[str, Field(min_length=1, max_length=100)]  # the GP's user name


class EmbedSessionOut(BaseModel):
    url: str = Field(description="open once, within 60 s, in the LPS's iframe")
    expires_at: datetime


@routes.post(
    "/api/v1/consultations/{consultation_id}/embed-session",
    summary="A single-use URL (valid 60 s) that opens the GP's view of the consultation",
    body=EmbedSessionIn,
    responses={201: EmbedSessionOut},
    errors=(400, 404, 409, 422),
)
async def create_embed_session(request: web.Request) -> web.Response:
    vendor, c, _ = await vendor_consultation(request, request.match_info["consultation_id"])
    try:
        body = EmbedSessionIn.model_validate_json(await request.read() or b"null")
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            raise problem(400, "malformed", "the body must be JSON") from None
        raise invalid_body(error) from None
    redis = request.app[REDIS]
    gp = await find_user(redis, body.practitioner)
    if gp is None or gp.role != UserRole.GP or gp.clinic_id != c.clinic_id:
        raise problem(422, "unknown_practitioner", "no GP with this user name in the clinic")
    if c.status == Status.CANCELLED:
        raise problem(409, "consultation_cancelled", "the consultation is cancelled")
    token, grant = await issue_embed(redis, vendor.id, c.id, gp.id, now())
    await audit(
        redis, "embed.issued", f"vendor:{vendor.id}",
        consultation_id=c.id, clinic_id=c.clinic_id, user_id=gp.id,
    )  # fmt: skip
    base = request.app[SETTINGS].public_base_url
    return web.json_response(
        {"url": f"{base}/embed/{token}", "expires_at": iso_local(grant.expires_at)},
        status=201,
        headers=NO_STORE,
    )
