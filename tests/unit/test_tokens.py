from __future__ import annotations

import base64
import hashlib

import pytest

from server.auth.tokens import looks_like_id, looks_like_token, new_id, new_token, token_hash


def test_tokens_carry_at_least_128_bits() -> None:
    token = new_token()
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 >= 128


def test_tokens_are_distinct() -> None:
    assert len({new_token() for _ in range(200)}) == 200


def test_tokens_are_url_safe() -> None:
    token = new_token()
    assert all(c.isascii() and (c.isalnum() or c in "-_") for c in token)


def test_hash_is_stable_sha256_hex() -> None:
    assert token_hash("abc") == hashlib.sha256(b"abc").hexdigest()
    assert token_hash("abc") == token_hash("abc")
    assert token_hash("abc") != token_hash("abd")
    assert len(token_hash(new_token())) == 64


def test_ids_are_short_and_distinct() -> None:
    ids = {new_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 16 for i in ids)


@pytest.mark.parametrize("value", ["", "0123456789abcde", "0123456789ABCDEF", "x:sessions" * 2])
def test_only_what_new_id_makes_looks_like_an_id(value: str) -> None:
    assert looks_like_id(new_id())
    assert not looks_like_id(value)


def test_new_tokens_look_like_tokens() -> None:
    assert looks_like_token(new_token())


@pytest.mark.parametrize(
    "value",
    ["", "short", "x" * 19, "x" * 101, "a/b" * 10, "a.b" * 10, "%2e%2e" * 5, "a b" * 10],
)
def test_junk_does_not_look_like_a_token(value: str) -> None:
    assert not looks_like_token(value)


def test_length_limits() -> None:
    assert looks_like_token("x" * 20)
    assert looks_like_token("x" * 100)
