"""A vendor engine simulator speaking `vendor_protocol.md`, for tests and demos.

Its transcripts are deterministic ("heard 200 ms of patient audio") so tests can assert them,
and it can drop the connection after N audio chunks to rehearse a vendor outage.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from integrations.notetaker.drafts import transcript_title
from server.notetaker.protocol import SAMPLE_RATE, SAMPLE_WIDTH


@dataclass(frozen=True)
class SimulatorConfig:
    token: str
    drop_after_chunks: int | None = None


CONFIG = web.AppKey("notetaker_simulator_config", SimulatorConfig)


def create_simulator_app(token: str, drop_after_chunks: int | None = None) -> web.Application:
    app = web.Application()
    app[CONFIG] = SimulatorConfig(token, drop_after_chunks)
    app.router.add_get("/v1/stream", stream)
    return app


async def stream(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    if request.headers.get("Authorization") != f"Bearer {config.token}":
        raise web.HTTPUnauthorized(text="bad or missing bearer token")
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    heard: dict[str, int] = {}
    segments: dict[str, list[str]] = {}
    chunks = 0
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            break
        data = msg.json()
        if data.get("type") == "start":
            for speaker in data.get("speakers", []):
                heard.setdefault(speaker, 0)
                segments.setdefault(speaker, [])
        elif data.get("type") == "audio":
            chunks += 1
            if config.drop_after_chunks is not None and chunks > config.drop_after_chunks:
                if request.transport is not None:
                    request.transport.abort()
                break
            speaker = data["speaker"]
            millis = len(base64.b64decode(data["pcm"])) * 1000 // (SAMPLE_RATE * SAMPLE_WIDTH)
            heard[speaker] = heard.get(speaker, 0) + millis
            ids = segments.setdefault(speaker, [])
            ids.append(f"{speaker}-{len(ids) + 1}")
            await ws.send_json(
                {
                    "type": "transcript.final",
                    "segment_id": ids[-1],
                    "speaker": speaker,
                    "start": data["at"],
                    "end": data["at"] + millis / 1000,
                    "text": f"heard {millis} ms of {speaker} audio",
                    "confidence": 1.0,
                }
            )
        elif data.get("type") == "stop":
            sections = [
                {
                    "key": f"transcript.{speaker}",
                    "title": transcript_title(speaker),
                    "text": f"heard {total} ms of {speaker} audio in total",
                    "spans": segments.get(speaker, []),
                }
                for speaker, total in heard.items()
            ]
            await ws.send_json({"type": "draft.ready", "sections": sections})
            break
        elif data.get("type") == "cancel":
            break
        else:
            await ws.send_json({"type": "error", "code": "bad_message", "message": "unknown type"})
            break
    await ws.close()
    return ws
