"""Random secrets handed to people, and the hashes we store instead of them."""

from __future__ import annotations

import base64
import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits: well above the 128-bit floor for join links
ID_BYTES = 8
WEBHOOK_SECRET_PREFIX = "whsec_"
WEBHOOK_SECRET_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_id() -> str:
    """A short public identifier (not a secret)."""
    return secrets.token_hex(ID_BYTES)


def looks_like_id(value: str) -> bool:
    """What `new_id` makes: checked before an id from a URL becomes part of a key."""
    return len(value) == 2 * ID_BYTES and all(c in "0123456789abcdef" for c in value)


def new_webhook_secret() -> str:
    """A webhook signing secret, Standard Webhooks style: kept as is, since we sign with it."""
    return (
        WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(WEBHOOK_SECRET_BYTES)).decode()
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """Cheap shape check before any lookup, so junk never reaches Redis."""
    return 20 <= len(value) <= 100 and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in value
    )
