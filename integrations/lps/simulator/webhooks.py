"""The simulator's webhook endpoint: verify the Standard Webhooks signature, keep each event
once (delivery is at least once; the webhook-id is the same on every retry), and file the
note when the GP has approved it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from typing import Any

from aiohttp import ClientError, web

from integrations.lps.simulator.api import ApiError
from integrations.lps.simulator.appkeys import API, BACKGROUND, RECORD
from integrations.lps.simulator.filing import NotApproved, file_note
from integrations.lps.simulator.record import ReceivedEvent
from server.store.events import EventType
from server.webhooks.signing import InvalidSignature, verify

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024


async def receive(request: web.Request) -> web.Response:
    record = request.app[RECORD]
    if record.webhook_secret is None:
        return web.Response(status=503, text="no webhook secret yet")
    body = await request.content.read(MAX_BODY + 1)
    try:
        verify(record.webhook_secret, request.headers, body, time.time())
        payload = json.loads(body)
        event = ReceivedEvent(
            request.headers["webhook-id"], payload["type"], payload["timestamp"], payload["data"]
        )
    except (InvalidSignature, ValueError, KeyError, TypeError) as error:
        record.rejected_webhooks += 1
        log.warning("webhook refused: %s", error)
        return web.Response(status=401 if isinstance(error, InvalidSignature) else 400)
    if record.first_delivery(event.id):
        record.events.appendleft(event)
        if event.type == EventType.NOTE_APPROVED and event.data.get("consultation_id"):
            _in_background(request.app, _file(request.app, str(event.data["consultation_id"])))
    return web.Response(status=204)


async def _file(app: web.Application, consultation_id: str) -> None:
    try:
        await file_note(app[API], app[RECORD], consultation_id)
    except (ApiError, NotApproved, ClientError) as error:
        log.warning("could not file the note of %s: %s", consultation_id, error)


def _in_background(app: web.Application, work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(work)
    app[BACKGROUND].add(task)
    task.add_done_callback(app[BACKGROUND].discard)
