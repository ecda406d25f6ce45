from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from integrations.notetaker.http_engine import HttpEngine
from integrations.notetaker.simulator import create_simulator_app
from server.notetaker.protocol import (
    DraftReady,
    EngineFailed,
    EngineUnavailable,
    SessionContext,
    TranscriptFinal,
)

Serve = Callable[..., Awaitable[TestServer]]
CTX = SessionContext("c-1", "da", ("gp", "patient"))
CHUNK = bytes(6400)  # 200 ms


def url(server: TestServer) -> str:
    return str(server.make_url("/v1/stream")).replace("http://", "ws://")


def entries(folder: Path) -> list[Path]:
    return list(folder.iterdir())


async def test_transcripts_and_draft_come_from_the_vendor(aiohttp_server: Serve) -> None:
    server = await aiohttp_server(create_simulator_app("secret"))
    engine = HttpEngine(url=url(server), token="secret")
    await engine.start(CTX)
    await engine.feed("patient", CHUNK, 0.0)
    await engine.feed("gp", CHUNK, 0.2)
    await engine.stop()
    events = [e async for e in engine.events()]
    finals = [e for e in events if isinstance(e, TranscriptFinal)]
    assert [(f.speaker, f.text) for f in finals] == [
        ("patient", "heard 200 ms of patient audio"),
        ("gp", "heard 200 ms of gp audio"),
    ]
    draft = events[-1]
    assert isinstance(draft, DraftReady)
    assert {s.key: s.spans for s in draft.sections}["transcript.patient"] == ("patient-1",)


async def test_a_wrong_token_is_refused(aiohttp_server: Serve) -> None:
    server = await aiohttp_server(create_simulator_app("secret"))
    with pytest.raises(EngineUnavailable):
        await HttpEngine(url=url(server), token="guess").start(CTX)


async def test_a_vendor_dropping_mid_session_fails_the_engine_not_the_call(
    aiohttp_server: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    server = await aiohttp_server(create_simulator_app("secret", drop_after_chunks=2))
    engine = HttpEngine(url=url(server), token="secret")
    await engine.start(CTX)
    for n in range(5):
        await engine.feed("patient", CHUNK, n * 0.2)
    await engine.stop()
    events = [e async for e in engine.events()]
    assert sum(isinstance(e, TranscriptFinal) for e in events) == 2
    assert isinstance(events[-1], EngineFailed)
    assert not any(isinstance(e, DraftReady) for e in events)
    assert entries(tmp_path) == []
