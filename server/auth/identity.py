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

from server.auth.passwordcheck import PasswordChecker
from server.store.connection import Redis
from server.store.users import User, find_user

# Checked against when the user name is unknown, so both failures take the same time.
_UNKNOWN_USER_HASH = (
    "scrypt$32768$8$1$rXUnPWWIC7gCvvhVfWYYgA$iUDozvqpZVCTnJN3M9ctFrIN6MmuU22iOJdyD_bfkJP7i6SVbh1"
    "CniOUhDtTHGFQLB0qWAldAOmIQfnBcQgHtw"
)


async def authenticate(
    redis: Redis, checker: PasswordChecker, username: str, password: str
) -> User | None:
    """The user with this name and password (local accounts), or None. An unknown name is
    checked against a dummy hash of the same cost, so both failures take the same time.
    Raises `passwordcheck.Busy` when too many checks are already waiting."""
    user = await find_user(redis, username)
    stored = user.password_hash if user else _UNKNOWN_USER_HASH
    return user if await checker.verify(password, stored) and user else None
