"""Signing webhooks the Standard Webhooks way (https://www.standardwebhooks.com/).

    webhook-id:        the delivery's id, the same on every retry (receivers de-duplicate on it)
    webhook-timestamp: unix seconds of this attempt
    webhook-signature: v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>

The secret is `whsec_<base64 key>` (`server.auth.tokens.new_webhook_secret`); the HMAC key is
the decoded part. A signature header may carry several space-separated signatures (e.g. while
a secret is rotated); one match is enough.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from server.auth.tokens import WEBHOOK_SECRET_PREFIX

TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    """The webhook is not from whoever holds the secret, or was replayed."""


def _key(secret: str) -> bytes:
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {WEBHOOK_SECRET_PREFIX!r}")
    try:
        return base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from None


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes, *also: str) -> dict[str, str]:
    """The three headers of one delivery attempt; each secret in `also` (a rotated-out one
    still in its overlap) adds its signature, space-separated, after the current one's."""
    signatures = [signature(s, msg_id, timestamp, body) for s in (secret, *also)]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> None:
    """Raise `InvalidSignature` unless `body` was signed with `secret` within `tolerance`
    seconds of `now` (either side: an old timestamp is a replay, a future one a forgery).
    `headers` is looked up lower-case, as aiohttp's and most frameworks' header maps allow."""
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    given = lowered.get("webhook-signature", "")
    if not (msg_id and stamp and given):
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    if not (stamp.isascii() and stamp.isdigit()):
        raise InvalidSignature("webhook-timestamp is not unix seconds")
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature("webhook-timestamp is too far from now (a replay?)")
    expected = signature(secret, msg_id, timestamp, body).encode()
    if not any(hmac.compare_digest(expected, c.encode()) for c in given.split()):
        raise InvalidSignature("no webhook-signature matches this secret")
