"""ICE server configuration with time-limited TURN credentials (TURN REST API, coturn
`use-auth-secret`): username is `<expiry unix time>:<user>`, password is
base64(HMAC-SHA1(secret, username)). The TURN server checks both without asking us."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from server.settings import Settings


def turn_credentials(
    secret: str, user: str, ttl_seconds: int, now: float | None = None
) -> tuple[str, str]:
    expiry = int((time.time() if now is None else now) + ttl_seconds)
    username = f"{expiry}:{user}"
    mac = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode()


def ice_servers(settings: Settings, user: str) -> list[dict[str, object]]:
    servers: list[dict[str, object]] = []
    if settings.stun_urls:
        servers.append({"urls": list(settings.stun_urls)})
    if settings.turn_urls and settings.turn_secret:
        username, credential = turn_credentials(
            settings.turn_secret, user, settings.turn_ttl_seconds
        )
        servers.append(
            {"urls": list(settings.turn_urls), "username": username, "credential": credential}
        )
    return servers
