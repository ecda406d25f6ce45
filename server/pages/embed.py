"""The GP's console inside an LPS's window.

`GET /embed/{token}` spends an embed token (`server.store.embeds`): it logs the GP in with a
session bound to the vendor and sends the frame on to that consultation's console view.
Every page of such a session may be framed by the vendor's registered origins and no
others (`Content-Security-Policy: frame-ancestors`); a spent, expired or unknown token
answers a 410 page, framed for the vendor it was issued to when that is known.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from yarl import URL

from server.appkeys import REDIS
from server.auth.tokens import looks_like_token
from server.auth.web import set_embed_cookie, web_session
from server.clock import now
from server.i18n import LANGUAGES
from server.pages.render import error_page
from server.responses import no_store
from server.security import csp
from server.store.audit import audit
from server.store.consultations import get_consultation
from server.store.embeds import embed_binding, issuer, open_embed_session, take_embed
from server.store.retention import record_access
from server.store.users import UserRole, get_user
from server.store.vendors import Vendor, get_vendor, origin_problem

routes = web.RouteTableDef()


@dataclass(frozen=True)
class Embedding:
    """The request's session was opened by a vendor's embed token."""

    consultation_id: str
    origins: tuple[str, ...]  # the vendor's registered origins: who may frame, and hear


def framing_origins(vendor: Vendor | None) -> tuple[str, ...]:
    return tuple(o for o in vendor.origins if origin_problem(o) is None) if vendor else ()


def framed_for(response: web.StreamResponse, origins: tuple[str, ...]) -> None:
    response.headers["Content-Security-Policy"] = csp(origins)
    no_store(response)


async def embedding(request: web.Request) -> Embedding | None:
    session = await web_session(request)
    if session is None or session.scope is None:
        return None
    redis = request.app[REDIS]
    binding = await embed_binding(redis, session.token)
    if binding is None:
        return None
    origins = framing_origins(await get_vendor(redis, binding.vendor_id))
    return Embedding(session.scope, origins)


@routes.get("/embed/{token}")
async def embed_page(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    redis = request.app[REDIS]
    grant = await take_embed(redis, token, now()) if looks_like_token(token) else None
    vendor = await get_vendor(redis, grant.vendor_id) if grant else None
    user = await get_user(redis, grant.user_id) if grant else None
    c = await get_consultation(redis, grant.consultation_id) if grant else None
    if (
        grant is None
        or vendor is None
        or user is None
        or c is None
        or user.role != UserRole.GP
        or user.clinic_id != c.clinic_id
        or c.clinic_id not in vendor.clinic_ids
    ):
        return await _gone(request, token)
    session = await open_embed_session(redis, grant)
    await record_access(redis, c.clinic_id, now())
    await audit(
        redis, "embed.opened", f"user:{user.id}",
        vendor_id=vendor.id, consultation_id=c.id, clinic_id=c.clinic_id,
    )  # fmt: skip
    query = {"consultation": c.id, "embed": "1"}
    if request.query.get("lang") in LANGUAGES:
        query["lang"] = request.query["lang"]
    response = web.Response(status=303, headers={"Location": str(URL("/console") % query)})
    set_embed_cookie(request, response, session)
    framed_for(response, framing_origins(vendor))
    return response


async def _gone(request: web.Request, token: str) -> web.Response:
    """Shown in the vendor's frame when we know whose token it was."""
    redis = request.app[REDIS]
    vendor_id = await issuer(redis, token) if looks_like_token(token) else None
    vendor = await get_vendor(redis, vendor_id) if vendor_id else None
    response = error_page(request, 410, "embed_gone")
    framed_for(response, framing_origins(vendor))
    return response
