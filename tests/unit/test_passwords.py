"""scrypt hashing. Each hash costs ~0.1 s, so these tests hash as little as they can."""

from __future__ import annotations

import pytest

from server.auth.passwords import hash_password, verify_password

PASSWORD = "kaffe og rugbrød 42"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(PASSWORD)


def test_roundtrip(stored: str) -> None:
    assert verify_password(PASSWORD, stored)


def test_wrong_password(stored: str) -> None:
    assert not verify_password(PASSWORD + "x", stored)
    assert not verify_password("", stored)


def test_format_is_self_describing_and_salted(stored: str) -> None:
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**15), "8", "1")
    assert PASSWORD not in stored
    assert len(salt) >= 20 and len(digest) >= 40


def test_same_password_gets_a_different_salt(stored: str) -> None:
    assert hash_password(PASSWORD) != stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "garbage",
        "bcrypt$16384$8$1$AAAA$AAAA",
        "scrypt$x$8$1$AAAA$AAAA",
        "scrypt$16384$8$1$AAAA",
        "scrypt$3$8$1$AAAA$AAAA",  # n not a power of two
        "scrypt$16384$8$1$!!!$AAAA",
        "scrypt$16384$8$1$AAAA$",
        "scrypt$99999999999999999999999$8$1$AAAA$AAAA",
    ],
)
def test_malformed_stored_string_does_not_verify(bad: str) -> None:
    assert verify_password(PASSWORD, bad) is False


def test_tampered_digest_does_not_verify(stored: str) -> None:
    head, digest = stored.rsplit("$", 1)
    flipped = ("B" if digest[0] == "A" else "A") + digest[1:]
    assert not verify_password(PASSWORD, f"{head}${flipped}")
