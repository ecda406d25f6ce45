"""What counts as a clinic's access for the 12-month rule: a GP's login, and its LPS's API."""

from __future__ import annotations

from server.store import keys
from server.store.connection import Redis
from tests.integration.helpers import Client, book, browser, login
from tests.integration.served import served_consultation


async def test_a_gps_login_is_the_clinics_access(client: Client, redis: Redis) -> None:
    b = await book(redis)
    other = await book(redis)
    assert not await redis.hexists(keys.CLINIC_LAST_ACCESS, b.clinic.id)
    await redis.hset(keys.CLINIC_INACTIVITY_WARNINGS, b.clinic.id, "1")

    async with browser(client) as session:
        await login(session, b.gp.username)

    assert float(await redis.hget(keys.CLINIC_LAST_ACCESS, b.clinic.id) or 0) > 0
    assert not await redis.hexists(keys.CLINIC_INACTIVITY_WARNINGS, b.clinic.id)
    assert not await redis.hexists(keys.CLINIC_LAST_ACCESS, other.clinic.id)


async def test_a_failed_login_is_not_access(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with browser(client) as session:
        response = await session.post(
            "/login", data={"username": b.gp.username, "password": "wrong"}, allow_redirects=False
        )
        assert response.status == 401
    assert not await redis.hexists(keys.CLINIC_LAST_ACCESS, b.clinic.id)


async def test_the_lps_using_the_api_for_the_clinic_is_its_access(
    client: Client, redis: Redis
) -> None:
    lps = await served_consultation(redis)
    for path in (
        f"/api/v1/consultations/{lps.consultation.id}",
        f"/api/v1/clinics/{lps.clinic.ydernummer}/absences",
    ):
        await redis.delete(keys.CLINIC_LAST_ACCESS)
        response = await client.get(path, headers=lps.auth)
        assert response.status == 200, await response.text()
        assert float(await redis.hget(keys.CLINIC_LAST_ACCESS, lps.clinic.id) or 0) > 0, path
