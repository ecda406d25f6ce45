"""The single-consumer event stream every engine hands out from `events()`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from server.notetaker.protocol import EngineEvent


class EventQueue:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[EngineEvent | None] = asyncio.Queue()
        self.closed = False

    def put(self, event: EngineEvent) -> None:
        if not self.closed:
            self._queue.put_nowait(event)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[EngineEvent]:
        while (event := await self._queue.get()) is not None:
            yield event
