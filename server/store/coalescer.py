"""Redis commands asked for in the same turn of the event loop, sent as one pipeline.

A relayed signal needs one short round trip to Redis (server/signalling/relay.py). Each
round trip costs a write and a read on the socket, which cost more than the commands
themselves (issue 19's profile: the socket write alone was a fifth of the relay's CPU).
Signals from many sockets arrive together under load, so their look-ups are gathered
until the loop has run what is ready, and go out together: one write, one read, for all
of them. A lone message waits no longer than one turn of the loop.

Each caller gets its own replies, in order; a failure of the pipeline (no connection in
the pool, Redis away) fails every caller in it with that error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from server.store.connection import Redis

Command = tuple[str | int | float, ...]


class Coalescer:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._pending: list[tuple[Sequence[Command], asyncio.Future[list[Any]]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        """The replies to `commands`, sent with whatever else is asked for in this turn.
        A reply may be an exception (a command Redis refused)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        self._pending.append((commands, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[Sequence[Command], asyncio.Future[list[Any]]]]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for commands, _ in batch:
                    for command in commands:
                        pipe.execute_command(*command)
                replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except asyncio.CancelledError:  # the app stops: nobody waits for ever
            for _, future in batch:
                future.cancel()
            raise
        at = 0
        for commands, future in batch:
            if not future.done():  # its caller may have been cancelled meanwhile
                future.set_result(replies[at : at + len(commands)])
            at += len(commands)
