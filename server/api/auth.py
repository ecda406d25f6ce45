"""Who is calling the API: an LPS vendor's key or an organisation's key, as a Bearer token."""

from __future__ import annotations

from aiohttp import web

from server.api.problems import problem
from server.api.ratelimit import count_request
from server.appkeys import REDIS, SETTINGS
from server.clock import now
from server.store.organisations import Organisation, organisation_for_key
from server.store.vendors import Vendor, vendor_for_key

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="almenvideo"'}


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise problem(401, "missing_api_key", "send 'Authorization: Bearer <key>'", _CHALLENGE)
    return token


async def require_vendor(request: web.Request) -> Vendor:
    vendor = await vendor_for_key(request.app[REDIS], bearer_token(request))
    if vendor is None:
        raise problem(401, "invalid_api_key", "this API key is not valid", _CHALLENGE)
    await _count(request, f"vendor:{vendor.id}")
    return vendor


async def require_organisation(request: web.Request) -> Organisation:
    org = await organisation_for_key(request.app[REDIS], bearer_token(request))
    if org is None:
        raise problem(401, "invalid_api_key", "this API key is not valid", _CHALLENGE)
    await _count(request, f"organisation:{org.id}")
    return org


async def _count(request: web.Request, owner: str) -> None:
    per_minute = request.app[SETTINGS].api_rate_per_minute
    await count_request(request.app[REDIS], owner, per_minute, now())
