"""Organisations and their accounts: who may be created, with generated passwords, audited.

The admin's and the organisation admin's pages, the command line and the demo all come
here, so the rules live once. A password is generated here and handed back once to be
shown; only its scrypt hash is kept. Every change is written to the audit stream with its
actor (`user:<id>` or `cli`). A refused change raises `Refused` with a message key per
form field, and changes nothing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from server.auth.tokens import token_hash
from server.signalling.authority import end_user_sessions
from server.store.audit import audit
from server.store.connection import Redis
from server.store.organisations import (
    MUNICIPALITY_CODE,
    Organisation,
    create_organisation,
    delete_organisation,
    issue_organisation_key,
    key_id,
    organisation_by_code,
    revoke_organisation_key,
)
from server.store.users import (
    ORGANISATION_ROLES,
    User,
    UsernameTaken,
    UserRole,
    create_user,
    delete_user,
    find_user,
    set_password,
)

CLI = "cli"
PASSWORD_BYTES = 15  # 20 characters, 120 bits
MAX_ORGANISATION_NAME = 200
MAX_TEXT = 100
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
USERNAME_TAKEN = "accounts.error.username_taken"
CODE_TAKEN = "accounts.error.municipality_code_taken"

Errors = dict[str, str]  # form field -> message key


class Refused(Exception):
    def __init__(self, errors: Errors, status: int) -> None:
        super().__init__(", ".join(f"{field}: {key}" for field, key in errors.items()))
        self.errors = errors
        self.status = status


@dataclass(frozen=True)
class NewAccount:
    user: User
    password: str  # shown once, never stored


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def user_actor(user: User) -> str:
    return f"user:{user.id}"


def normal_username(text: str) -> str:
    return text.strip().lower()


def _text_ok(text: str, most: int, required: bool = True) -> bool:
    return (bool(text) or not required) and len(text) <= most and text.isprintable()


def _refuse(errors: Errors, status: int) -> None:
    if errors:
        raise Refused(errors, status)


def _check_person(username: str, display_name: str, title: str = "") -> Errors:
    errors: Errors = {}
    if not USERNAME.match(username):
        errors["username"] = "accounts.error.username"
    if not _text_ok(display_name, MAX_TEXT):
        errors["display_name"] = "accounts.error.display_name"
    if not _text_ok(title, MAX_TEXT, required=False):
        errors["title"] = "accounts.error.title"
    return errors


def _check_organisation(name: str, municipality_code: str) -> Errors:
    errors: Errors = {}
    if not _text_ok(name, MAX_ORGANISATION_NAME):
        errors["name"] = "accounts.error.organisation_name"
    if not MUNICIPALITY_CODE.match(municipality_code):
        errors["municipality_code"] = "accounts.error.municipality_code"
    return errors


async def _username_free(redis: Redis, username: str) -> Errors:
    if await find_user(redis, username) is not None:
        return {"username": USERNAME_TAKEN}
    return {}


async def _code_free(redis: Redis, municipality_code: str) -> Errors:
    if await organisation_by_code(redis, municipality_code) is not None:
        return {"municipality_code": CODE_TAKEN}
    return {}


async def _create_account(
    redis: Redis, actor: str, username: str, display_name: str, role: str, **where: str
) -> NewAccount:
    """Create a checked account; a name taken meanwhile (a race) is refused like any other."""
    password = new_password()
    try:
        user = await create_user(redis, username, password, display_name, role, **where)
    except UsernameTaken:
        raise Refused({"username": USERNAME_TAKEN}, 409) from None
    await audit(
        redis, "account.created", actor,
        user_id=user.id, role=role, organisation_id=user.organisation_id,
    )  # fmt: skip
    return NewAccount(user, password)


async def add_organisation(
    redis: Redis, actor: str, name: str, municipality_code: str
) -> Organisation:
    name, municipality_code = name.strip(), municipality_code.strip()
    _refuse(_check_organisation(name, municipality_code), 400)
    _refuse(await _code_free(redis, municipality_code), 409)
    try:
        org = await create_organisation(redis, name, municipality_code)
    except ValueError:
        raise Refused({"municipality_code": CODE_TAKEN}, 409) from None
    await audit(
        redis, "organisation.created", actor,
        organisation_id=org.id, municipality_code=org.municipality_code,
    )  # fmt: skip
    return org


async def create_organisation_with_admin(
    redis: Redis,
    actor: str,
    name: str,
    municipality_code: str,
    username: str,
    display_name: str,
) -> tuple[Organisation, NewAccount]:
    """An organisation exists only with its first admin: every field is checked before
    anything is made, and the organisation is undone if its admin cannot be made after all."""
    name, municipality_code = name.strip(), municipality_code.strip()
    username, display_name = normal_username(username), display_name.strip()
    errors = _check_organisation(name, municipality_code) | _check_person(username, display_name)
    _refuse(errors, 400)
    taken = await _code_free(redis, municipality_code) | await _username_free(redis, username)
    _refuse(taken, 409)
    org = await add_organisation(redis, actor, name, municipality_code)
    try:
        account = await _create_account(
            redis, actor, username, display_name, UserRole.ORG_ADMIN, organisation_id=org.id
        )
    except Refused:
        await delete_organisation(redis, org)
        await audit(redis, "organisation.removed", actor, organisation_id=org.id)
        raise
    return org, account


async def create_staff(
    redis: Redis,
    actor: str,
    organisation_id: str,
    username: str,
    display_name: str,
    title: str,
    role: str,
) -> NewAccount:
    username, display_name, title = normal_username(username), display_name.strip(), title.strip()
    errors = _check_person(username, display_name, title)
    if role not in ORGANISATION_ROLES:
        errors["role"] = "accounts.error.role"
    _refuse(errors, 400)
    _refuse(await _username_free(redis, username), 409)
    return await _create_account(
        redis, actor, username, display_name, role, organisation_id=organisation_id, title=title
    )


async def ensure_account(
    redis: Redis,
    actor: str,
    username: str,
    display_name: str,
    role: str,
    organisation_id: str = "",
    title: str = "",
) -> NewAccount:
    """Create the account, or give the existing one (same role and organisation) a new
    password: for bootstrapping the first admin and for the demo, safe to repeat."""
    username, display_name, title = normal_username(username), display_name.strip(), title.strip()
    _refuse(_check_person(username, display_name, title), 400)
    user = await find_user(redis, username)
    if user is None:
        where = {"organisation_id": organisation_id, "title": title} if organisation_id else {}
        return await _create_account(redis, actor, username, display_name, role, **where)
    if (user.role, user.organisation_id) != (role, organisation_id):
        raise Refused({"username": USERNAME_TAKEN}, 409)
    return NewAccount(user, await reset_password(redis, actor, user))


async def reset_password(redis: Redis, actor: str, user: User) -> str:
    """A new password, shown once; the old one and every open session stop working."""
    password = new_password()
    await set_password(redis, user.id, password)
    await end_user_sessions(redis, user.id)
    await audit(redis, "account.password_reset", actor, user_id=user.id)
    return password


async def remove_account(redis: Redis, actor: str, user: User) -> None:
    """The person can no longer log in, and sessions already open stop working at once.
    The user id stays in the audit stream."""
    await delete_user(redis, user)
    await end_user_sessions(redis, user.id)
    await audit(
        redis, "account.removed", actor,
        user_id=user.id, role=user.role, organisation_id=user.organisation_id,
    )  # fmt: skip


async def issue_key(redis: Redis, actor: str, organisation_id: str, label: str) -> str:
    label = label.strip()
    _refuse({} if _text_ok(label, MAX_TEXT) else {"label": "accounts.error.label"}, 400)
    key = await issue_organisation_key(redis, organisation_id, label)
    await audit(
        redis, "organisation.key_issued", actor,
        organisation_id=organisation_id, key_id=key_id(token_hash(key)),
    )  # fmt: skip
    return key


async def revoke_key(redis: Redis, actor: str, organisation_id: str, wanted: str) -> bool:
    """Revoke one of the organisation's own keys; False (and no change) for any other id."""
    if not await revoke_organisation_key(redis, organisation_id, wanted):
        return False
    await audit(
        redis, "organisation.key_revoked", actor, organisation_id=organisation_id, key_id=wanted
    )
    return True
