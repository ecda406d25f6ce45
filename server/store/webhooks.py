"""Vendors' webhook registrations: one URL and one signing secret per vendor.

Unlike API keys, the secret is kept as is: the platform signs every delivery with it.
Registering again (a new URL or the same) issues a new secret, which is how it is rotated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from server.auth.tokens import new_webhook_secret
from server.store import decoded, keys
from server.store.connection import Redis


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str


async def register_webhook(redis: Redis, vendor_id: str, url: str) -> Webhook:
    """Set the vendor's URL and a fresh secret. The URL must pass
    `server.webhooks.destination.webhook_url_problem`."""
    webhook = Webhook(url, new_webhook_secret())
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(
            keys.webhook(vendor_id),
            mapping={"url": url, "secret": webhook.secret, "updated_at": str(int(time.time()))},
        )
        pipe.sadd(keys.WEBHOOK_VENDORS, vendor_id)
        await pipe.execute()
    return webhook


async def get_webhook(redis: Redis, vendor_id: str) -> Webhook | None:
    h = decoded.fields(await redis.hgetall(keys.webhook(vendor_id)))
    return Webhook(h["url"], h["secret"]) if h else None


async def webhook_vendor_ids(redis: Redis) -> set[str]:
    return set(decoded.members(await redis.smembers(keys.WEBHOOK_VENDORS)))
