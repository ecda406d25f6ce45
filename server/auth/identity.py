"""Who is logging in: the seam where an identity provider plugs in.

Today professionals log in with a local user name and password (`authenticate`). Everything
after that only needs a `User`: the session cookie (`server.store.sessions`) and every role
check work on it, whatever proved the identity.

To use an OIDC or SAML provider instead (MitID Erhverv through a broker in production):
- `/login` redirects to the provider instead of showing the form;
- a callback route verifies the provider's answer (an OIDC ID token's signature, issuer,
  audience and nonce; or a signed SAML assertion) with a maintained library;
- it maps the claims to a `User`: the subject to `username` (e.g. `mitid-erhverv:<uuid>`),
  the organisation's CVR or municipality code to `organisation_id`, the name to
  `display_name`; the role comes from the provider's role claim or stays what an
  organisation admin gave the account here;
- it calls `open_session` and sets the cookie exactly as the password login does.
Accounts are then provisioned on first login instead of created with a password.
"""

from __future__ import annotations

import asyncio

from server.auth.passwordcheck import PasswordChecker
from server.auth.passwords import verify_password
from server.store.connection import Redis
from server.store.users import User, find_user

# Checked against when the user name is unknown, so both failures take the same time.
_UNKNOWN_USER_HASH = (
    "scrypt$32768$8$1$rXUnPWWIC7gCvvhVfWYYgA$iUDozvqpZVCTnJN3M9ctFrIN6MmuU22iOJdyD_bfkJP7i6SVbh1"
    "CniOUhDtTHGFQLB0qWAldAOmIQfnBcQgHtw"
)


async def authenticate(
    redis: Redis, username: str, password: str, checker: PasswordChecker | None = None
) -> User | None:
    """The user with this name and password (local accounts), or None. An unknown name is
    checked against a dummy hash of the same cost, so both failures take the same time.
    The check runs off the event loop: in `checker`'s bounded pool (the login page's, which
    raises `passwordcheck.Busy` when too many wait), else in a thread of its own."""
    user = await find_user(redis, username)
    stored = user.password_hash if user else _UNKNOWN_USER_HASH
    if checker is not None:
        matches = await checker.verify(password, stored)
    else:
        matches = await asyncio.to_thread(verify_password, password, stored)
    return user if matches and user else None
