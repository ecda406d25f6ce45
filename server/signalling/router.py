"""What routing is: deliver a message to whoever, on any instance, listens on a channel."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from server.signalling.controls import Delivery


class Listener(Protocol):
    def deliver(self, message: Delivery) -> None:
        """Take a control or a browser message; must not block (queue it)."""


class Router(Protocol):
    async def subscribe(self, channel: str, listener: Listener) -> None: ...

    async def unsubscribe(self, channel: str, listener: Listener) -> None: ...

    async def publish(self, channel: str, message: Delivery) -> None: ...

    def local_listeners(self, channel: str) -> Collection[Listener]:
        """Who listens on the channel on this instance: a relay between two sockets held
        here needs no trip through Redis (server/signalling/relay.py)."""
        ...
