"""The patient's line test over plain HTTP: the echo offer/answer, and the verdict.

Both endpoints work only while the patient's link does (the same window as the page, so
the test can be run any time from 24 hours before the appointment), and only from our own
origin. The verdict is computed here, not trusted from the browser; the figures it is
computed from are the browser's own measurements, which a patient could only fake against
themselves.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.appkeys import ECHO_PEERS, REDIS, ROOM, SETTINGS
from server.auth.tokens import looks_like_token
from server.auth.turn import ice_servers
from server.auth.web import same_origin
from server.clock import now
from server.consultations.linkrules import LinkState
from server.consultations.links import resolve_link
from server.jsonerror import json_body, json_error
from server.media.echo import MAX_SDP_CHARS, BadOffer, EchoBusy
from server.media.verdict import judge_line
from server.pages.patient import LINK_STATUS
from server.responses import no_store
from server.store.consultations import Consultation, update_consultation
from server.store.events import EventType, append_event

routes = web.RouteTableDef()


class EchoOffer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)
    type: Literal["offer"]


class LineFigures(BaseModel):
    """What the browser measured over the echo; a figure it could not measure is null."""

    model_config = ConfigDict(extra="forbid", strict=True)

    connected: bool
    camera_ok: bool
    mic_ok: bool
    rtt_ms: float | None = Field(default=None, ge=0, le=600_000)
    loss_pct: float | None = Field(default=None, ge=0, le=100)
    bitrate_kbps: float | None = Field(default=None, ge=0, le=10_000_000)


async def _consultation(request: web.Request) -> Consultation | web.Response:
    """The consultation behind a working link from our own origin, or the error to answer."""
    if not same_origin(request):
        return json_error(403, "bad_origin", "cross-site request refused")
    token = request.match_info["token"]
    resolved = await resolve_link(request.app[REDIS], token) if looks_like_token(token) else None
    if resolved is None or resolved.state is not LinkState.OK or resolved.consultation is None:
        state = resolved.state if resolved else LinkState.UNKNOWN
        return json_error(LINK_STATUS[state], f"link_{state}", "this link does not work")
    return resolved.consultation


@routes.post("/j/{token}/ice-servers")
async def line_test_ice_servers(request: web.Request) -> web.Response:
    """The STUN and TURN servers, with fresh TURN credentials, that the call itself will
    use: a line test without them fails behind a UDP-blocked firewall where the call works
    through TURN. A POST, so no cache keeps the credentials and a foreign page gets none."""
    c = await _consultation(request)
    if isinstance(c, web.Response):
        return c
    servers = ice_servers(request.app[SETTINGS], c.patient_participant or c.id)
    return no_store(web.json_response({"ice_servers": servers}))


@routes.post("/j/{token}/echo")
async def echo(request: web.Request) -> web.Response:
    """Answer the browser's complete offer with an echo peer's complete answer."""
    c = await _consultation(request)
    if isinstance(c, web.Response):
        return c
    offer = await json_body(request, EchoOffer, "invalid_offer")
    if isinstance(offer, web.Response):
        return offer
    try:
        answer = await request.app[ECHO_PEERS].answer(offer.sdp)
    except BadOffer as bad:
        return json_error(400, bad.code, bad.detail)
    except EchoBusy as busy:
        response = json_error(
            503, "echo_busy", "every line test slot is taken", retry_after=busy.retry_after
        )
        response.headers["Retry-After"] = str(busy.retry_after)
        return response
    return web.json_response({"sdp": answer, "type": "answer"})


@routes.post("/j/{token}/precall")
async def precall(request: web.Request) -> web.Response:
    """Judge the measured figures and keep the verdict on the consultation for the GP."""
    c = await _consultation(request)
    if isinstance(c, web.Response):
        return c
    figures = await json_body(request, LineFigures, "invalid_figures")
    if isinstance(figures, web.Response):
        return figures
    judged = judge_line(**figures.model_dump())
    redis = request.app[REDIS]
    await update_consultation(redis, c, precall_verdict=judged.verdict, precall_at=now())
    await append_event(
        redis,
        EventType.PRECALL_TESTED,
        consultation_id=c.id,
        clinic_id=c.clinic_id,
        verdict=judged.verdict,
    )
    await request.app[ROOM].details_changed(c)  # the GP's card shows the verdict
    return web.json_response({"verdict": judged.verdict, "advice": list(judged.advice)})
