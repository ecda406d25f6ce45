"""LPS vendors and their API keys. A key is shown once and stored only as a hash.

Which vendor serves a clinic is one dated record, `keys.clinic_lps_vendor`: the PLSP
invoices read its history, and API tenancy reads the value in force today (Copenhagen).
`Vendor.clinic_ids` is computed from it, so a vendor switch moves the invoices and the
API access together, on the same day.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from yarl import URL

from server.auth.tokens import new_id, new_token, token_hash
from server.clock import local, now
from server.pilots.invoices import in_force
from server.store import decoded, keys
from server.store.connection import Redis

API_KEY_PREFIX = "avk_"
_ORIGIN_CHARS = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")


@dataclass(frozen=True)
class Vendor:
    id: str
    name: str
    clinic_ids: tuple[str, ...]
    origins: tuple[str, ...]


def today() -> date:
    return local(now()).date()


async def record_clinic_vendor(
    redis: Redis, clinic_id: str, since: date, vendor_id: str
) -> str | None:
    """The clinic's vendor from `since` on (a date entered again corrects its value);
    returns what that date held before. Audit it where the change is made."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hget(keys.clinic_lps_vendor(clinic_id), since.isoformat())
        pipe.hset(keys.clinic_lps_vendor(clinic_id), since.isoformat(), vendor_id)
        pipe.sadd(keys.vendor_clinics(vendor_id), clinic_id)
        previous, _, _ = await pipe.execute()
    return decoded.text(previous)


async def clinic_vendor_history(redis: Redis, clinic_id: str) -> dict[date, str]:
    row = decoded.fields(await redis.hgetall(keys.clinic_lps_vendor(clinic_id)))
    return {date.fromisoformat(day): row[day] for day in sorted(row)}


async def _serve_from_today(redis: Redis, vendor_id: str, clinic_ids: Iterable[str]) -> None:
    """Each clinic served by the vendor from today, unless it already is."""
    on = today()
    for clinic_id in clinic_ids:
        if in_force(await clinic_vendor_history(redis, clinic_id), on) != vendor_id:
            await record_clinic_vendor(redis, clinic_id, on, vendor_id)


async def create_vendor(
    redis: Redis, name: str, clinic_ids: list[str], origins: list[str] | None = None
) -> Vendor:
    """A vendor serving `clinic_ids` from today (recorded in their vendor histories)."""
    vendor = Vendor(new_id(), name, tuple(clinic_ids), tuple(origins or ()))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(
            keys.vendor(vendor.id),
            mapping={"id": vendor.id, "name": name, "origins": json.dumps(list(vendor.origins))},
        )
        pipe.sadd(keys.VENDORS, vendor.id)
        await pipe.execute()
    await _serve_from_today(redis, vendor.id, clinic_ids)
    return vendor


async def served_clinics(redis: Redis, vendor_id: str, on: date | None = None) -> tuple[str, ...]:
    """The clinics whose vendor in force on `on` (today) is this vendor."""
    day = on or today()
    candidates = sorted(decoded.members(await redis.smembers(keys.vendor_clinics(vendor_id))))
    async with redis.pipeline(transaction=False) as pipe:
        for clinic_id in candidates:
            pipe.hgetall(keys.clinic_lps_vendor(clinic_id))
        rows = await pipe.execute()
    return tuple(
        clinic_id
        for clinic_id, row in zip(candidates, rows, strict=True)
        if in_force({date.fromisoformat(d): v for d, v in decoded.fields(row).items()}, day)
        == vendor_id
    )


def origin_problem(origin: str) -> str | None:
    """Why `origin` cannot be a vendor's web origin (it goes into `frame-ancestors`), or
    None. `scheme://host[:port]` exactly; https, or plain http only to this machine."""
    if not _ORIGIN_CHARS.match(origin):
        return "scheme://host[:port] only: no path, query, user or trailing slash"
    try:
        url = URL(origin)
    except ValueError:
        return "not an origin"
    if not url.absolute or not url.host or url.scheme not in ("https", "http"):
        return "https://host[:port]"
    if str(url.origin()) != origin:
        return "scheme://host[:port] only: no path, query, user or trailing slash"
    if url.scheme == "http" and url.host not in ("localhost", "127.0.0.1"):
        return "https:// (plain http:// only to localhost)"
    return None


async def set_vendor_origins(redis: Redis, vendor_id: str, origins: list[str]) -> None:
    """The web origins allowed to frame the vendor's embedded GP view (replacing any)."""
    if found := next((problem for o in origins if (problem := origin_problem(o))), None):
        raise ValueError(found)
    await redis.hset(keys.vendor(vendor_id), "origins", json.dumps(origins))


async def get_vendor(redis: Redis, vendor_id: str) -> Vendor | None:
    h = decoded.fields(await redis.hgetall(keys.vendor(vendor_id)))
    if not h:
        return None
    if "clinic_ids" in h:  # kept by versions before the one record: moved into it, once
        await _serve_from_today(redis, vendor_id, json.loads(h["clinic_ids"]))
        await redis.hdel(keys.vendor(vendor_id), "clinic_ids")
    clinic_ids = await served_clinics(redis, vendor_id)
    return Vendor(h["id"], h["name"], clinic_ids, tuple(json.loads(h["origins"])))


async def list_vendors(redis: Redis) -> list[Vendor]:
    """Every vendor made since `keys.VENDORS` was kept, by name (for the admin's pickers)."""
    ids = sorted(decoded.members(await redis.smembers(keys.VENDORS)))
    found = [v for vendor_id in ids if (v := await get_vendor(redis, vendor_id))]
    return sorted(found, key=lambda v: (v.name.casefold(), v.id))


@dataclass(frozen=True)
class ApiKeyInfo:
    """What is kept of a key: never the key itself."""

    id: str
    label: str
    created_at: float


async def issue_api_key(redis: Redis, vendor_id: str, label: str = "") -> str:
    """A new key for the vendor, shown once; only its hash is stored."""
    key = API_KEY_PREFIX + new_token()
    info = ApiKeyInfo(new_id(), label, time.time())
    digest = token_hash(key)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(keys.api_key(digest), mapping={"vendor_id": vendor_id, "key_id": info.id})
        pipe.hset(
            keys.vendor_keys(vendor_id),
            info.id,
            json.dumps({"hash": digest, "label": label, "created_at": info.created_at}),
        )
        await pipe.execute()
    return key


async def list_api_keys(redis: Redis, vendor_id: str) -> list[ApiKeyInfo]:
    rows = decoded.fields(await redis.hgetall(keys.vendor_keys(vendor_id)))
    found = [ApiKeyInfo(kid, d["label"], d["created_at"]) for kid, d in _decoded(rows)]
    return sorted(found, key=lambda k: k.created_at)


async def revoke_api_key(redis: Redis, vendor_id: str, key_id: str) -> bool:
    """The key stops working at once; False if the vendor has no such key."""
    raw = await redis.hget(keys.vendor_keys(vendor_id), key_id)
    if raw is None:
        return False
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.api_key(json.loads(raw)["hash"]))
        pipe.hdel(keys.vendor_keys(vendor_id), key_id)
        await pipe.execute()
    return True


def _decoded(rows: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    return [(kid, json.loads(raw)) for kid, raw in rows.items()]


async def vendor_for_key(redis: Redis, key: str) -> Vendor | None:
    vendor_id = decoded.text(await redis.hget(keys.api_key(token_hash(key)), "vendor_id"))
    return await get_vendor(redis, vendor_id) if vendor_id else None
