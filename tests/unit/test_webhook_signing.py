"""Standard Webhooks signatures: sign, verify, and the ways a forgery or replay fails."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from server.auth.tokens import new_webhook_secret
from server.webhooks.signing import InvalidSignature, sign, signature, verify

NOW = 1_780_000_000
BODY = b'{"id":"1780000000000-0","type":"patient.waiting"}'


def test_a_signed_body_verifies() -> None:
    secret = new_webhook_secret()
    headers = sign(secret, "1780000000000-0", NOW, BODY)
    assert headers["webhook-id"] == "1780000000000-0"
    assert headers["webhook-timestamp"] == str(NOW)
    verify(secret, headers, BODY, now=NOW)


def test_the_signature_is_the_standard_webhooks_hmac() -> None:
    """Computed by hand, as a receiver in any language would."""
    key = b"0123456789abcdef0123456789abcdef"
    secret = "whsec_" + base64.b64encode(key).decode()
    digest = hmac.new(key, b"msg_1.1780000000." + BODY, hashlib.sha256).digest()
    assert signature(secret, "msg_1", NOW, BODY) == "v1," + base64.b64encode(digest).decode()


def test_during_a_rotation_both_secrets_sign_and_no_other() -> None:
    new, old, stranger = new_webhook_secret(), new_webhook_secret(), new_webhook_secret()
    headers = sign(new, "id-1", NOW, BODY, old)
    assert headers["webhook-signature"].split() == [
        signature(new, "id-1", NOW, BODY),
        signature(old, "id-1", NOW, BODY),
    ]
    verify(new, headers, BODY, now=NOW)
    verify(old, headers, BODY, now=NOW)
    with pytest.raises(InvalidSignature):
        verify(stranger, headers, BODY, now=NOW)


def test_the_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = new_webhook_secret(), new_webhook_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_a_wrong_secret_fails() -> None:
    headers = sign(new_webhook_secret(), "id-1", NOW, BODY)
    with pytest.raises(InvalidSignature, match="no webhook-signature matches"):
        verify(new_webhook_secret(), headers, BODY, now=NOW)


def test_a_changed_body_or_id_fails() -> None:
    secret = new_webhook_secret()
    headers = sign(secret, "id-1", NOW, BODY)
    with pytest.raises(InvalidSignature):
        verify(secret, headers, BODY.replace(b"waiting", b"left"), now=NOW)
    with pytest.raises(InvalidSignature):
        verify(secret, {**headers, "webhook-id": "id-2"}, BODY, now=NOW)


def test_a_replayed_old_timestamp_fails_even_with_a_good_signature() -> None:
    secret = new_webhook_secret()
    headers = sign(secret, "id-1", NOW - 301, BODY)
    with pytest.raises(InvalidSignature, match="too far from now"):
        verify(secret, headers, BODY, now=NOW)
    verify(secret, sign(secret, "id-1", NOW - 299, BODY), BODY, now=NOW)


def test_a_timestamp_from_the_future_fails() -> None:
    secret = new_webhook_secret()
    with pytest.raises(InvalidSignature, match="too far from now"):
        verify(secret, sign(secret, "id-1", NOW + 301, BODY), BODY, now=NOW)


def test_a_timestamp_moved_to_now_breaks_the_signature() -> None:
    """A replayer cannot refresh an old delivery: the timestamp is signed."""
    secret = new_webhook_secret()
    old = sign(secret, "id-1", NOW - 3600, BODY)
    with pytest.raises(InvalidSignature, match="no webhook-signature matches"):
        verify(secret, {**old, "webhook-timestamp": str(NOW)}, BODY, now=NOW)


def test_any_one_of_several_signatures_may_match() -> None:
    """During a secret rotation a sender may sign with both secrets."""
    old, new = new_webhook_secret(), new_webhook_secret()
    headers = sign(new, "id-1", NOW, BODY)
    both = f"{signature(old, 'id-1', NOW, BODY)} {headers['webhook-signature']}"
    verify(new, {**headers, "webhook-signature": both}, BODY, now=NOW)


def test_header_names_are_case_insensitive() -> None:
    secret = new_webhook_secret()
    headers = {name.title(): value for name, value in sign(secret, "id-1", NOW, BODY).items()}
    verify(secret, headers, BODY, now=NOW)


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-id": ""},
        {"webhook-timestamp": ""},
        {"webhook-signature": ""},
        {"webhook-timestamp": "17e8"},
        {"webhook-timestamp": "１７８０"},
        {"webhook-signature": "v1,ünïcode"},
    ],
)
def test_missing_or_malformed_headers_fail(change: dict[str, str]) -> None:
    secret = new_webhook_secret()
    headers = {**sign(secret, "id-1", NOW, BODY), **change}
    with pytest.raises(InvalidSignature):
        verify(secret, headers, BODY, now=NOW)


@pytest.mark.parametrize("secret", ["abc", "whsec_not base64!"])
def test_a_malformed_secret_is_a_value_error(secret: str) -> None:
    with pytest.raises(ValueError, match="whsec_"):
        sign(secret, "id-1", NOW, BODY)
