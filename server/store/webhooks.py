"""Vendors' webhook registrations: one URL and one signing secret per vendor.

Unlike API keys, the secret is kept as is: the platform signs every delivery with it.
Registering again (a new URL or the same) issues a new secret, which is how it is rotated;
for `ROTATION_OVERLAP` after that the previous secret signs too (Standard Webhooks allows
several signatures), so a receiver can switch to the new secret without failing a delivery.
An endpoint that answers 410 Gone is disabled until it is registered again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from server.auth.tokens import new_webhook_secret
from server.store import decoded, keys
from server.store.connection import Redis

ROTATION_OVERLAP = 24 * 3600.0  # seconds the previous secret still signs after a rotation


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str
    previous_secret: str = ""
    previous_until: float = 0.0  # unix seconds
    disabled_at: float = 0.0  # unix seconds; 0 while the endpoint receives
    disabled_reason: str = ""

    def still_signing(self, now: float) -> list[str]:
        """The rotated-out secret while its overlap lasts, which signs beside `secret`."""
        overlapping = self.previous_secret and now < self.previous_until
        return [self.previous_secret] if overlapping else []

    @property
    def disabled(self) -> bool:
        return self.disabled_at > 0


async def register_webhook(redis: Redis, vendor_id: str, url: str) -> Webhook:
    """Set the vendor's URL and a fresh secret, and enable it; the secret it replaces keeps
    signing for `ROTATION_OVERLAP`. The URL must pass
    `server.webhooks.destination.webhook_url_problem`."""
    now = time.time()
    old = await get_webhook(redis, vendor_id)
    webhook = Webhook(url, new_webhook_secret())
    if old is not None:
        webhook = replace(
            webhook, previous_secret=old.secret, previous_until=now + ROTATION_OVERLAP
        )
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hdel(keys.webhook(vendor_id), "disabled_at", "disabled_reason")
        pipe.hset(
            keys.webhook(vendor_id),
            mapping={
                "url": url,
                "secret": webhook.secret,
                "previous_secret": webhook.previous_secret,
                "previous_until": repr(webhook.previous_until),
                "updated_at": str(int(now)),
            },
        )
        pipe.sadd(keys.WEBHOOK_VENDORS, vendor_id)
        await pipe.execute()
    return webhook


async def get_webhook(redis: Redis, vendor_id: str) -> Webhook | None:
    h = decoded.fields(await redis.hgetall(keys.webhook(vendor_id)))
    if not h:
        return None
    return Webhook(
        h["url"],
        h["secret"],
        h.get("previous_secret", ""),
        float(h.get("previous_until") or 0),
        float(h.get("disabled_at") or 0),
        h.get("disabled_reason", ""),
    )


async def disable_webhook(redis: Redis, vendor_id: str, reason: str, at: float) -> None:
    """Stop delivering to the vendor (its endpoint said 410 Gone) until it registers again.
    Deliveries already pending wait in the outbox; events from now on are only polled."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(
            keys.webhook(vendor_id), mapping={"disabled_at": repr(at), "disabled_reason": reason}
        )
        pipe.srem(keys.WEBHOOK_VENDORS, vendor_id)
        await pipe.execute()


async def webhook_vendor_ids(redis: Redis) -> set[str]:
    """The vendors whose webhook receives (registered, and not disabled)."""
    return set(decoded.members(await redis.smembers(keys.WEBHOOK_VENDORS)))
