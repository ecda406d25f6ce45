"""A vendor's engine reached over WebSocket + JSON; the protocol is in `vendor_protocol.md`.

This is how a Danish-capable service plugs in. A vendor that drops mid-session yields one
`EngineFailed` event and the engine goes quiet: the consultation itself must carry on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from typing import Any, ClassVar

import aiohttp

from integrations.notetaker.eventqueue import EventQueue
from server import safejson
from server.notetaker.protocol import (
    DraftReady,
    DraftSection,
    EngineFailed,
    EngineInfo,
    EngineUnavailable,
    SessionContext,
    TranscriptFinal,
    TranscriptPartial,
)

PROTOCOL_VERSION = 1


class HttpEngine:
    info: ClassVar[EngineInfo] = EngineInfo(
        name="http",
        version=str(PROTOCOL_VERSION),
        languages=(),
        clinical_use=True,
        label="Vendor service; language and clinical approval depend on the vendor",
    )

    @classmethod
    def unavailable_reason(cls, **options: Any) -> str | None:
        if not options.get("url") or not options.get("token"):
            return "needs the vendor's WebSocket url and a bearer token"
        return None

    def __init__(self, *, url: str, token: str, draft_timeout: float = 120.0) -> None:
        self._url = url
        self._token = token
        self._draft_timeout = draft_timeout
        self._events = EventQueue()
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, ctx: SessionContext) -> None:
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(
                self._url, headers={"Authorization": f"Bearer {self._token}"}, heartbeat=20
            )
        except aiohttp.ClientError as exc:
            await self._session.close()
            raise EngineUnavailable(f"vendor refused the session: {exc}") from exc
        await self._ws.send_json(
            {
                "v": PROTOCOL_VERSION,
                "type": "start",
                "consultation_id": ctx.consultation_id,
                "language": ctx.language,
                "speakers": list(ctx.speakers),
            }
        )
        self._reader = asyncio.create_task(self._read(self._ws))

    async def feed(self, speaker: str, pcm: bytes, at: float) -> None:
        if self._ws is None or self._events.closed:
            return
        message = {
            "v": PROTOCOL_VERSION,
            "type": "audio",
            "speaker": speaker,
            "at": at,
            "pcm": base64.b64encode(pcm).decode("ascii"),
        }
        try:
            await self._ws.send_json(message)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            await self._fail(f"vendor connection lost while sending audio: {exc!r}")

    async def stop(self) -> None:
        if self._ws is None or self._events.closed:
            await self._close()
            return
        try:
            await self._ws.send_json({"v": PROTOCOL_VERSION, "type": "stop"})
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            await self._fail(f"vendor connection lost at stop: {exc!r}")
            return
        if self._reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._reader), self._draft_timeout)
            except TimeoutError:
                await self._fail("vendor sent no draft in time")
        await self._close()

    async def cancel(self) -> None:
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(aiohttp.ClientError, ConnectionError, RuntimeError):
                await self._ws.send_json({"v": PROTOCOL_VERSION, "type": "cancel"})
        self._events.close()
        await self._close()

    def events(self) -> EventQueue:
        return self._events

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            try:
                done = self._dispatch(safejson.loads(msg.data))
            except (ValueError, KeyError, TypeError) as exc:
                self._events.put(EngineFailed(f"vendor sent a malformed message: {exc!r}"))
                done = True
            if done:
                self._events.close()
                return
        self._events.put(EngineFailed("vendor closed the connection mid-session"))
        self._events.close()

    def _dispatch(self, data: dict[str, Any]) -> bool:
        """Publish one vendor message; True when the session is over."""
        kind = data["type"]
        if kind == "transcript.partial":
            self._events.put(
                TranscriptPartial(
                    data["speaker"], data["start"], data["end"], data["text"], data["confidence"]
                )
            )
        elif kind == "transcript.final":
            self._events.put(
                TranscriptFinal(
                    data["segment_id"],
                    data["speaker"],
                    data["start"],
                    data["end"],
                    data["text"],
                    data["confidence"],
                )
            )
        elif kind == "draft.ready":
            sections = tuple(
                DraftSection(s["key"], s["title"], s["text"], tuple(s["spans"]))
                for s in data["sections"]
            )
            self._events.put(DraftReady(sections))
            return True
        elif kind == "error":
            self._events.put(EngineFailed(f"vendor error {data['code']}: {data['message']}"))
            return True
        return False

    async def _fail(self, reason: str) -> None:
        self._events.put(EngineFailed(reason))
        self._events.close()
        await self._close()

    async def _close(self) -> None:
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
