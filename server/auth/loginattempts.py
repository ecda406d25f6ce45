"""Login throttling: growing delays per client address and per user name, never a lock.

A hard lock after N failures let any stranger lock a GP out by typing wrong passwords for
the GP's name. Instead every failed login makes the next attempt wait a little longer:

- per client address group (`server.auth.clientaddress`), whatever names it tries: the
  first `ADDRESS_FREE` failures are free, then each failure doubles the wait, from one
  second up to `MAX_DELAY_SECONDS`. One address cannot guess fast at one name, nor spray
  many names;
- per user name (any case), counted by the number of *different* address groups that failed
  on it, so a guesser spread over many addresses is slowed as well: more than
  `NAME_FREE_ADDRESSES` of them, and the name's next attempt waits, doubling likewise. One
  stranger on one address never raises this, so the real user on another address still
  gets in; and an address the name logged in from before (`KNOWN_ADDRESS_DAYS`) is not
  held back by the name's delay at all.

An attempt made while a wait runs is refused without checking the password, and does not
count. Records lapse `WINDOW_SECONDS` after the last failure. A successful login forgets
the name's failures (not the address's: an attacker with an account of their own must not
be able to wipe their address's count by logging in).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.auth.tokens import token_hash
from server.store import decoded, keys
from server.store.connection import Redis

ADDRESS_FREE = 5
NAME_FREE_ADDRESSES = 3
BASE_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 5 * 60
WINDOW_SECONDS = 15 * 60
KNOWN_ADDRESS_DAYS = 30


def backoff(excess: int) -> float:
    """The wait after `excess` failures beyond the free ones: 1, 2, 4 … s, capped."""
    if excess <= 0:
        return 0.0
    return min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** min(excess - 1, 30))


@dataclass(frozen=True)
class Attempt:
    """Who tries: the name as typed and the client's address group."""

    name: str
    address: str

    @property
    def _name(self) -> str:
        return self.name.lower()

    @property
    def _address(self) -> str:
        # Stored hashed: an address is personal data, and only equality matters here.
        return token_hash(self.address)


async def wait_seconds(redis: Redis, attempt: Attempt, at: float) -> float:
    """How long this address must wait before trying this name again (0: try now)."""
    name, address = attempt._name, attempt._address
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hmget(keys.login_address(address), "failures", "last")
        pipe.get(keys.login_name_last(name))
        pipe.scard(keys.login_name_addresses(name))
        pipe.sismember(keys.login_known_addresses(name), address)
        (failures, address_last), name_last, spread, known = await pipe.execute()
    waits = [0.0]
    if address_last is not None:
        waits.append(float(address_last) + backoff(int(failures) - ADDRESS_FREE) - at)
    if name_last is not None and not known:
        name_wait = backoff(int(spread) - NAME_FREE_ADDRESSES)
        waits.append(float(decoded.text(name_last)) + name_wait - at)
    return max(waits)


async def record_failure(redis: Redis, attempt: Attempt, at: float) -> None:
    name, address = attempt._name, attempt._address
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hincrby(keys.login_address(address), "failures", 1)
        pipe.hset(keys.login_address(address), "last", repr(at))
        pipe.expire(keys.login_address(address), WINDOW_SECONDS)
        pipe.set(keys.login_name_last(name), repr(at), ex=WINDOW_SECONDS)
        pipe.sadd(keys.login_name_addresses(name), address)
        pipe.expire(keys.login_name_addresses(name), WINDOW_SECONDS)
        await pipe.execute()


async def record_success(redis: Redis, attempt: Attempt) -> None:
    name, address = attempt._name, attempt._address
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.login_name_last(name), keys.login_name_addresses(name))
        pipe.sadd(keys.login_known_addresses(name), address)
        pipe.expire(keys.login_known_addresses(name), KNOWN_ADDRESS_DAYS * 86400)
        await pipe.execute()
