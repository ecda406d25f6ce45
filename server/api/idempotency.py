"""`Idempotency-Key` for creating things through the API.

The first request with a key reserves it (with the body's fingerprint); its successful
answer is stored for 24 hours and replayed, byte for byte, to any repeat with the same key
and body. The same key with another body is 409 `idempotency_key_reused`; a repeat while
the first is still running is 409 `idempotency_in_progress`. A request that fails releases
its key, so the vendor can correct the body and try again with it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from server.api.problems import problem
from server.auth.tokens import token_hash
from server.store import keys
from server.store.connection import Redis

TTL_SECONDS = 24 * 3600
REPLAYED_HEADER = "Idempotent-Replayed"


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class IdempotencyKey:
    def __init__(self, redis: Redis, vendor_id: str, key: str, body_fingerprint: str) -> None:
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise problem(400, "invalid_idempotency_key", "1-255 printable characters")
        self.redis = redis
        self.key = keys.idempotency(vendor_id, token_hash(key))
        self.fingerprint = body_fingerprint

    async def replay_or_reserve(self) -> web.Response | None:
        """The stored answer to replay, or None once this request holds the key."""
        pending = json.dumps({"fingerprint": self.fingerprint, "state": "pending"})
        if await self.redis.set(self.key, pending, nx=True, ex=TTL_SECONDS):
            return None
        raw = await self.redis.get(self.key)
        if raw is None:  # expired just now: take it
            return await self.replay_or_reserve()
        stored = json.loads(raw)
        if stored["fingerprint"] != self.fingerprint:
            raise problem(409, "idempotency_key_reused", "this key was used with another body")
        if stored["state"] == "pending":
            raise problem(
                409, "idempotency_in_progress", "the first request is still running",
                {"Retry-After": "1"},
            )  # fmt: skip
        return web.json_response(
            stored["body"], status=stored["status"], headers={REPLAYED_HEADER: "true"}
        )

    async def remember(self, status: int, body: dict[str, Any]) -> None:
        done = {"fingerprint": self.fingerprint, "state": "done", "status": status, "body": body}
        await self.redis.set(self.key, json.dumps(done), ex=TTL_SECONDS)

    async def release(self) -> None:
        await self.redis.delete(self.key)
