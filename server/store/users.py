"""Professional user accounts (GPs, clinic staff) with local passwords."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from server.auth.passwords import hash_password
from server.auth.tokens import new_id
from server.store import keys
from server.store.connection import Redis


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    role: str  # gp | clinic_staff | admin
    clinic_id: str
    password_hash: str


async def create_user(
    redis: Redis, username: str, password: str, display_name: str, role: str, clinic_id: str
) -> User:
    user = User(new_id(), username, display_name, role, clinic_id, hash_password(password))
    if not await redis.set(keys.username(username), user.id, nx=True):
        raise ValueError(f"username {username} is taken")
    await redis.hset(keys.user(user.id), mapping=asdict(user))
    await redis.sadd(keys.clinic_users(clinic_id), user.id)
    return user


async def get_user(redis: Redis, user_id: str) -> User | None:
    h = await redis.hgetall(keys.user(user_id))
    return User(**h) if h else None


async def find_user(redis: Redis, username: str) -> User | None:
    user_id = await redis.get(keys.username(username))
    return await get_user(redis, user_id) if user_id else None


async def set_password(redis: Redis, user_id: str, password: str) -> None:
    await redis.hset(keys.user(user_id), "password_hash", hash_password(password))


async def clinic_users(redis: Redis, clinic_id: str) -> list[User]:
    """The clinic's professionals, by display name."""
    found = [
        await get_user(redis, uid) for uid in await redis.smembers(keys.clinic_users(clinic_id))
    ]
    return sorted((u for u in found if u is not None), key=lambda u: u.display_name)
