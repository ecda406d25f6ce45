"""Vendors' webhook registrations: one URL and one signing secret per vendor.

Unlike API keys, the secret is kept as is: the platform signs every delivery with it.
Registering again (a new URL or the same) issues a new secret, which is how it is rotated.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from yarl import URL

from server.auth.tokens import new_webhook_secret
from server.store import decoded, keys
from server.store.connection import Redis

MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def webhook_url_problem(url: str) -> str | None:
    """Why this URL cannot receive webhooks, or None. HTTPS only, except to this machine
    (a local LPS simulator), so signed events never cross a network in clear text; and no
    private or link-local address, so a key cannot aim our requests inside our network."""
    if len(url) > MAX_URL_LENGTH:
        return f"at most {MAX_URL_LENGTH} characters"
    if not url.isprintable() or any(ch.isspace() for ch in url):
        return "a URL without spaces or control characters"
    try:
        parsed = URL(url)
    except ValueError:
        return "not a URL"
    if not parsed.absolute or not parsed.host or parsed.scheme not in ("https", "http"):
        return "an absolute https:// URL"
    if parsed.user is not None or parsed.password is not None:
        return "a URL without a user name or password"
    address = _address(parsed.host)
    loopback = parsed.host == "localhost" or (address is not None and address.is_loopback)
    if parsed.scheme == "http" and not loopback:
        return "https:// (plain http:// only to localhost)"
    if address is not None and not (loopback or address.is_global):
        return "a public address (not a private, link-local or reserved one)"
    return None


async def register_webhook(redis: Redis, vendor_id: str, url: str) -> Webhook:
    """Set the vendor's URL and a fresh secret. The URL must pass `webhook_url_problem`."""
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
