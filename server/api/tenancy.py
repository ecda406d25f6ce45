"""What a vendor may reach: consultations in the clinics it serves. Anything else answers
404 `unknown_consultation`, as if it did not exist, so ids cannot be probed across vendors."""

from __future__ import annotations

from aiohttp import web

from server.api.auth import require_vendor
from server.api.problems import problem
from server.appkeys import REDIS
from server.clock import now
from server.store.clinics import Clinic, get_clinic
from server.store.connection import Redis
from server.store.consultations import Consultation, get_consultation
from server.store.retention import record_access
from server.store.vendors import Vendor


async def served_consultation(
    redis: Redis, vendor: Vendor, consultation_id: str
) -> tuple[Consultation, Clinic] | None:
    c = await get_consultation(redis, consultation_id)
    if c is None or c.clinic_id not in vendor.clinic_ids:
        return None
    clinic = await get_clinic(redis, c.clinic_id)
    return (c, clinic) if clinic else None


async def vendor_consultation(
    request: web.Request, consultation_id: str
) -> tuple[Vendor, Consultation, Clinic]:
    """The calling vendor and its consultation, or 401 / 404 problems."""
    vendor = await require_vendor(request)
    found = await served_consultation(request.app[REDIS], vendor, consultation_id)
    if found is None:
        raise problem(404, "unknown_consultation", "no such consultation in your clinics")
    await record_access(request.app[REDIS], found[1].id, now())
    return vendor, *found
