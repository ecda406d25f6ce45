"""The front door: the start page, and the icon browsers ask for at the root."""

from __future__ import annotations

from tests.integration.helpers import Client


async def test_the_start_page_and_the_icon_are_served(client: Client) -> None:
    page = await client.get("/")
    assert page.status == 200
    assert page.content_type == "text/html"
    icon = await client.get("/favicon.ico")
    assert icon.status == 200
    assert "<svg" in await icon.text()
