"""Professional user accounts with local passwords.

Roles:
- `gp`: a clinic's doctor (`clinic_id` set);
- `admin`: runs the platform; creates organisations and their first admins;
- `org_admin`: an organisation's administrator (`organisation_id` set); creates its staff;
- `staff`: an organisation's staff member, e.g. a home-care nurse (`organisation_id` set),
  with a job `title` shown to the GP in a call.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from enum import StrEnum

from server.auth.passwords import hash_password
from server.auth.tokens import new_id
from server.store import decoded, keys
from server.store.connection import Redis


class UserRole(StrEnum):
    GP = "gp"
    ADMIN = "admin"
    ORG_ADMIN = "org_admin"
    STAFF = "staff"


ORGANISATION_ROLES = (UserRole.ORG_ADMIN, UserRole.STAFF)


class UsernameTaken(ValueError):
    pass


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    role: UserRole
    clinic_id: str
    password_hash: str
    organisation_id: str = ""
    title: str = ""  # job title of organisation staff, e.g. "Hjemmesygeplejerske"


async def create_user(
    redis: Redis,
    username: str,
    password: str,
    display_name: str,
    role: str,
    clinic_id: str = "",
    organisation_id: str = "",
    title: str = "",
) -> User:
    if role not in UserRole.__members__.values():
        raise ValueError(f"unknown role {role!r}")
    role = UserRole(role)
    if (role in ORGANISATION_ROLES) != bool(organisation_id):
        raise ValueError("organisation staff, and only they, belong to an organisation")
    # scrypt costs a tenth of a second of CPU: hashed in a thread, off the event loop.
    hashed = await asyncio.to_thread(hash_password, password)
    user = User(
        new_id(), username, display_name, role, clinic_id, hashed, organisation_id, title,
    )  # fmt: skip
    if not await redis.set(keys.username(username), user.id, nx=True):
        raise UsernameTaken(f"username {username} is taken")
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(keys.user(user.id), mapping=decoded.writable(asdict(user)))
        if clinic_id:
            pipe.sadd(keys.clinic_users(clinic_id), user.id)
        if organisation_id:
            pipe.sadd(keys.organisation_users(organisation_id), user.id)
        await pipe.execute()
    return user


async def get_user(redis: Redis, user_id: str) -> User | None:
    h = decoded.fields(await redis.hgetall(keys.user(user_id)))
    if not h:
        return None
    return User(**{**h, "role": UserRole(h["role"])})  # type: ignore[arg-type]  # hash fields by name


async def find_user(redis: Redis, username: str) -> User | None:
    user_id = decoded.text(await redis.get(keys.username(username)))
    return await get_user(redis, user_id) if user_id else None


async def set_password(redis: Redis, user_id: str, password: str) -> None:
    hashed = await asyncio.to_thread(hash_password, password)
    await redis.hset(keys.user(user_id), "password_hash", hashed)


async def delete_user(redis: Redis, user: User) -> None:
    """The account is gone: its name no longer logs in and its sessions find no one. Its id
    may still appear in the audit stream and in past consultations."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.user(user.id))
        pipe.delete(keys.username(user.username))
        if user.clinic_id:
            pipe.srem(keys.clinic_users(user.clinic_id), user.id)
        if user.organisation_id:
            pipe.srem(keys.organisation_users(user.organisation_id), user.id)
        await pipe.execute()


async def _users(redis: Redis, set_key: str) -> list[User]:
    found = [await get_user(redis, uid) for uid in decoded.members(await redis.smembers(set_key))]
    return sorted((u for u in found if u is not None), key=lambda u: u.display_name)


async def clinic_users(redis: Redis, clinic_id: str) -> list[User]:
    """The clinic's professionals, by display name."""
    return await _users(redis, keys.clinic_users(clinic_id))


async def organisation_users(redis: Redis, organisation_id: str) -> list[User]:
    """The organisation's admins and staff, by display name."""
    return await _users(redis, keys.organisation_users(organisation_id))
