"""Short ways to make an organisation's people and to read the account pages."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import ClientResponse, ClientSession

from server.store.connection import Redis
from server.store.organisations import Organisation, create_organisation
from server.store.users import User, UserRole, create_user
from tests.integration.helpers import GP_PASSWORD

_SECRET = re.compile(r'<code data-testid="secret">([^<]+)</code>')


async def make_admin(redis: Redis, username: str = "root") -> User:
    return await create_user(redis, username, GP_PASSWORD, "Ada Admin", UserRole.ADMIN)


async def make_organisation(
    redis: Redis, name: str = "Københavns Kommune", code: str = "101"
) -> tuple[Organisation, User, User]:
    """A municipality with an organisation admin and a home-care nurse (password GP_PASSWORD)."""
    org = await create_organisation(redis, name, code)
    admin = await create_user(
        redis,
        f"admin-{code}",
        GP_PASSWORD,
        f"Admin {code}",
        UserRole.ORG_ADMIN,
        organisation_id=org.id,
    )
    nurse = await create_user(
        redis, f"nurse-{code}", GP_PASSWORD, f"Nurse {code}", UserRole.STAFF,
        organisation_id=org.id, title="Hjemmesygeplejerske",
    )  # fmt: skip
    return org, admin, nurse


async def html(response: ClientResponse) -> str:
    """The page's markup, without the locale strings every page carries for its scripts."""
    body = await response.text()
    return body.split('<script type="application/json" id="strings">')[0]


async def secret_on(response: ClientResponse) -> str:
    """The password or key a shown-once page shows."""
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    found = _SECRET.search(await response.text())
    assert found, await response.text()
    return found.group(1)


async def post(session: ClientSession, path: str, data: dict[str, str], **headers: str) -> Any:
    return await session.post(path, data=data, allow_redirects=False, headers=headers)
