"""Bad input from outside answers 4xx, logs no traceback and stores nothing.

Deeply nested JSON on every JSON endpoint and on the WebSocket, and JSON strings UTF-8
cannot encode; invalid UTF-8 in urlencoded forms.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiohttp import web

from integrations.notetaker.http_engine import HttpEngine
from server.auth.tokens import new_token
from server.notetaker.protocol import EngineFailed, SessionContext
from server.store.connection import Redis
from tests.integration.helpers import (
    Client,
    book,
    browser,
    gp_hello,
    login,
    receive_error,
    send,
)
from tests.integration.test_api_consultations import booking, lps
from tests.security.logcheck import assert_no_traceback

DEEP = 50_000
DEEP_ARRAY = "[" * DEEP + "]" * DEEP
FRAME_DEEP = 30_000  # a frame may hold 64 KiB
DEEP_FRAME = "[" * FRAME_DEEP + "]" * FRAME_DEEP
DEEP_OBJECT = '{"":' * DEEP + "1" + "}" * DEEP  # within the 256 KiB body limit


@pytest.fixture(autouse=True)
def _logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


async def _json_error(response: Any) -> dict[str, Any]:
    assert 400 <= response.status < 500, (response.status, await response.text())
    assert response.content_type in ("application/json", "application/problem+json")
    body: dict[str, Any] = await response.json()
    assert body["code"] == "malformed", body
    return body


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT])
async def test_deep_json_on_the_patient_joins(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    b = await book(redis)
    headers = {"Content-Type": "application/json"}
    for path in (f"/j/{b.link}/join", f"/j/{new_token()}/join", f"/d/{new_token()}/join"):
        await _json_error(await client.post(path, data=body, headers=headers))
    assert_no_traceback(caplog)


async def test_deep_json_on_the_api(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    v = await lps(redis)
    headers = {**v.auth, "Content-Type": "application/json"}
    made = await client.post("/api/v1/consultations", json=booking(v), headers=v.auth)
    assert made.status == 201
    cid = (await made.json())["id"]
    for body in (DEEP_ARRAY, DEEP_OBJECT):
        await _json_error(await client.post("/api/v1/consultations", data=body, headers=headers))
        await _json_error(
            await client.patch(f"/api/v1/consultations/{cid}", data=body, headers=headers)
        )
    assert_no_traceback(caplog)


async def test_deep_json_on_the_consoles_invitation(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    b = await book(redis)
    async with browser(client) as session:
        await login(session, b.gp.username)
        response = await session.post(
            f"/console/consultations/{b.consultation.id}/invitations",
            data=DEEP_ARRAY,
            headers={"Content-Type": "application/json"},
        )
        await _json_error(response)
    assert_no_traceback(caplog)


async def test_deep_json_on_the_websocket_leaves_it_working(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    b = await book(redis)
    async with browser(client) as session:
        await login(session, b.gp.username)
        async with session.ws_connect("/ws") as ws:
            await ws.send_str(DEEP_FRAME)
            await receive_error(ws, "malformed")
            await ws.send_str('{"v": 1, "type": "hello", "ref": ' + DEEP_FRAME + "}")
            await receive_error(ws, "malformed")
            await gp_hello(ws)  # the socket still works
            await send(ws, "chat", text="x" * 10, consultation_id=[[[[[]]]]])
            await receive_error(ws, "invalid_message")
    assert_no_traceback(caplog)


async def test_deep_json_on_every_other_json_endpoint(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """The endpoints that read their body straight into a model: 4xx, never a 5xx."""
    v = await lps(redis)
    made = await client.post("/api/v1/consultations", json=booking(v), headers=v.auth)
    body = await made.json()
    cid, link = body["id"], body["patient_url"].rsplit("/j/", 1)[1]
    headers = {**v.auth, "Content-Type": "application/json"}
    api = [
        ("POST", f"/api/v1/clinics/{v.clinic.ydernummer}/absences"),
        ("POST", f"/api/v1/consultations/{cid}/embed-session"),
        ("POST", f"/api/v1/consultations/{cid}/participants"),
        ("PUT", "/api/v1/webhook"),
    ]
    pages = [("POST", f"/j/{link}/precall"), ("POST", f"/j/{link}/echo")]
    for method, path in [*api, *pages]:
        for deep in (DEEP_ARRAY, DEEP_OBJECT):
            response = await client.request(method, path, data=deep, headers=headers)
            assert 400 <= response.status < 500, (path, response.status, await response.text())
    assert_no_traceback(caplog)


async def test_just_deep_enough_json_still_parses(client: Client, redis: Redis) -> None:
    """The limit is far above any real message: a body nested 20 deep is read (and refused
    for its fields, not its shape)."""
    b = await book(redis)
    nested = "[" * 20 + "]" * 20
    response = await client.post(
        f"/j/{b.link}/join", data=nested, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["code"] == "malformed"  # not an object
    response = await client.post(
        f"/j/{b.link}/join", json={"name": "Karen", "accepted_terms": "x", "extra": nested}
    )
    assert (await response.json())["code"] == "terms_not_accepted"


async def test_a_lone_surrogate_is_refused_before_it_reaches_redis(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """`"\\ud800"` is valid JSON syntax for a string no UTF-8 writer can encode."""
    b = await book(redis)
    v = await lps(redis)
    body = '{"name": "Karen \\ud800", "accepted_terms": "x"}'
    headers = {"Content-Type": "application/json"}
    await _json_error(await client.post(f"/j/{b.link}/join", data=body, headers=headers))
    api = booking(v)
    api["patient"]["display_name"] = "@@"
    text = json.dumps(api).replace('"@@"', '"Karen \\udfff"')
    response = await client.post("/api/v1/consultations", data=text, headers={**v.auth, **headers})
    await _json_error(response)
    assert_no_traceback(caplog)


# ---- invalid UTF-8 in forms ----------------------------------------------------------------

BAD_FORM = b"username=k\xff\xferen&password=x&kind=holiday&start=\xc3&end=\xc3&action=approve"
FORM_TYPES = (
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=no-such-charset",
)


async def _bad_form(response: Any) -> None:
    assert response.status == 400, (response.status, await response.text())
    assert (await response.json(content_type=None))["code"] == "malformed"


@pytest.mark.parametrize("content_type", FORM_TYPES)
async def test_invalid_utf8_in_forms(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture, content_type: str
) -> None:
    b = await book(redis)
    headers = {"Content-Type": content_type}
    await _bad_form(await client.post("/login", data=BAD_FORM, headers=headers))
    async with browser(client) as session:
        await login(session, b.gp.username)
        for path in (
            "/clinic/absences",
            "/clinic/settings",
            f"/console/consultations/{b.consultation.id}/note",
        ):
            await _bad_form(await session.post(path, data=BAD_FORM, headers=headers))
    assert await redis.keys("av:clinic:*:absences") == []
    assert_no_traceback(caplog)


async def test_a_note_taker_vendor_sending_deep_json_fails_the_engine_not_the_reader(
    aiohttp_server: Any,
) -> None:
    """The `http` note-taker engine reads JSON from a vendor's socket: outside input too."""

    async def hostile(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()  # start
        await ws.send_str(DEEP_FRAME)
        await ws.receive()  # stop
        return ws

    app = web.Application()
    app.router.add_get("/v1/stream", hostile)
    server = await aiohttp_server(app)
    engine = HttpEngine(url=str(server.make_url("/v1/stream")).replace("http", "ws"), token="t")
    await engine.start(SessionContext("c-1", "da", ("gp", "patient")))
    await engine.stop()
    events = [e async for e in engine.events()]
    assert isinstance(events[-1], EngineFailed), events
