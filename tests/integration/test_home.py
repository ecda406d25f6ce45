"""The front door: the start page, and the icon browsers ask for at the root."""

from __future__ import annotations

from server.store.connection import Redis
from tests.integration.helpers import Client, browser, login, make_gp
from tests.unit.factories import make_clinic


async def test_the_start_page_and_the_icon_are_served(client: Client) -> None:
    page = await client.get("/")
    assert page.status == 200
    assert page.content_type == "text/html"
    icon = await client.get("/favicon.ico")
    assert icon.status == 200
    assert "<svg" in await icon.text()


async def test_the_start_page_leads_a_logged_in_user_to_their_own_start(
    client: Client, redis: Redis
) -> None:
    assert 'href="/login"' in await (await client.get("/")).text()
    gp = await make_gp(redis, await make_clinic(redis))
    async with browser(client) as session:
        await login(session, gp.username)
        body = await (await session.get("/")).text()
    assert '<a class="button" href="/console" data-testid="start-page">' in body


async def test_not_found_and_forbidden_pages_have_a_way_back(client: Client, redis: Redis) -> None:
    missing = await client.get("/no/such/page", headers={"Accept": "text/html"})
    assert missing.status == 404
    assert 'href="/" data-testid="error-home"' in await missing.text()
    gp = await make_gp(redis, await make_clinic(redis))
    async with browser(client) as session:
        await login(session, gp.username)
        forbidden = await session.get("/admin", headers={"Accept": "text/html"})
        assert forbidden.status == 403
        assert 'href="/" data-testid="error-home"' in await forbidden.text()
