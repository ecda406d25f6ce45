"""What routing is: deliver a message to whoever, on any instance, listens on a channel."""

from __future__ import annotations

from typing import Any, Protocol


class Listener(Protocol):
    def deliver(self, message: dict[str, Any]) -> None:
        """Take a message; must not block (queue it)."""


class Router(Protocol):
    async def subscribe(self, channel: str, listener: Listener) -> None: ...

    async def unsubscribe(self, channel: str, listener: Listener) -> None: ...

    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...
