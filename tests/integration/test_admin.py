"""The platform admin's page: organisations, each made with its first admin."""

from __future__ import annotations

from server.store.audit import read_audit
from server.store.connection import Redis
from server.store.organisations import list_organisations
from server.store.users import UserRole, find_user
from tests.integration.accountpages import (
    html,
    make_admin,
    make_organisation,
    post,
    secret_on,
)
from tests.integration.helpers import Client, browser, login, make_gp
from tests.support.redisdump import stored_text
from tests.unit.factories import make_clinic

FORM = {
    "name": "Aarhus Kommune",
    "municipality_code": "751",
    "username": "aarhus-admin",
    "display_name": "Anne Aarhus",
}


async def test_nobody_logged_in_is_sent_to_log_in(client: Client, redis: Redis) -> None:
    response = await client.get("/admin", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login?next=/admin"
    refused = await client.post("/admin/organisations", data=FORM, allow_redirects=False)
    assert refused.status == 303
    assert refused.headers["Location"].startswith("/login")
    assert await list_organisations(redis) == []


async def test_other_roles_get_a_forbidden_page(client: Client, redis: Redis) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    _, org_admin, nurse = await make_organisation(redis)
    for user in (gp, org_admin, nurse):
        async with browser(client) as session:
            await login(session, user.username)
            page = await session.get("/admin", allow_redirects=False)
            assert page.status == 403
            assert "ikke adgang" in await page.text()
            assert (await post(session, "/admin/organisations", FORM)).status == 403
    assert len(await list_organisations(redis)) == 1
    assert await read_audit(redis) == []


async def test_the_admin_sees_every_organisation_with_its_staff_count(
    client: Client, redis: Redis
) -> None:
    admin = await make_admin(redis)
    await make_organisation(redis, "Københavns Kommune", "101")
    await make_organisation(redis, "Odense Kommune", "461")
    async with browser(client) as session:
        await login(session, admin.username)
        page = await session.get("/admin")
        assert page.status == 200
        body = await html(page)
    assert body.index("Københavns Kommune") < body.index("Odense Kommune")
    assert "461" in body
    assert body.count('data-testid="staff-count">2<') == 2


async def test_an_organisation_is_made_with_its_admin_whose_password_is_shown_once(
    client: Client, redis: Redis
) -> None:
    admin = await make_admin(redis)
    async with browser(client) as session:
        await login(session, admin.username)
        password = await secret_on(await post(session, "/admin/organisations", FORM))
        page = await html(await session.get("/admin"))
    [org] = await list_organisations(redis)
    assert (org.name, org.municipality_code) == ("Aarhus Kommune", "751")
    assert "Aarhus Kommune" in page and 'data-testid="staff-count">1<' in page
    assert password not in page
    assert password not in await stored_text(redis)
    first = await find_user(redis, "aarhus-admin")
    assert first is not None
    assert (first.role, first.organisation_id, first.display_name) == (
        UserRole.ORG_ADMIN, org.id, "Anne Aarhus",
    )  # fmt: skip
    async with browser(client) as session:
        response = await session.post(
            "/login",
            data={"username": "aarhus-admin", "password": password},
            allow_redirects=False,
        )
        assert response.headers["Location"] == "/org"
    audit = [(e.action, e.actor, e.data) for e in await read_audit(redis)]
    assert audit == [
        ("organisation.created", f"user:{admin.id}", {
            "organisation_id": org.id, "municipality_code": "751",
        }),
        ("account.created", f"user:{admin.id}", {
            "user_id": first.id, "role": UserRole.ORG_ADMIN, "organisation_id": org.id,
        }),
    ]  # fmt: skip


async def test_bad_fields_are_shown_on_the_page_and_nothing_is_made(
    client: Client, redis: Redis
) -> None:
    admin = await make_admin(redis)
    bad = {"name": " ", "municipality_code": "7510", "username": "Anne A", "display_name": ""}
    async with browser(client) as session:
        await login(session, admin.username)
        response = await post(session, "/admin/organisations", bad)
        assert response.status == 400
        body = await html(response)
        english = await html(await post(session, "/admin/organisations?lang=en", bad))
    assert 'data-testid="organisation-errors"' in body
    assert "Skriv organisationens navn" in body
    assert "En kommunekode er tre cifre" in body
    assert "Skriv et brugernavn på 3 til 64 tegn" in body
    assert "Skriv et navn på højst 100 tegn" in body
    assert 'value="7510"' in body and 'value="Anne A"' in body
    assert 'aria-invalid="true"' in body and 'inputmode="numeric"' in body
    # The language switch leads to the page, not to the address the form posted to.
    assert 'href="/admin?lang=en"' in body
    assert "A municipality code is three digits" in english
    assert "Traceback" not in body
    assert await list_organisations(redis) == []
    assert await find_user(redis, "anne a") is None
    assert await read_audit(redis) == []


async def test_a_taken_code_or_user_name_is_a_conflict(client: Client, redis: Redis) -> None:
    admin = await make_admin(redis)
    kbh, kbh_admin, _ = await make_organisation(redis, "Københavns Kommune", "101")
    async with browser(client) as session:
        await login(session, admin.username)
        same_code = await post(session, "/admin/organisations", FORM | {"municipality_code": "101"})
        assert same_code.status == 409
        assert "allerede en organisation med denne kommunekode" in await html(same_code)
        same_name = await post(session, "/admin/organisations", FORM | {"username": "ADMIN-101"})
        assert same_name.status == 409
        assert "Brugernavnet er optaget" in await html(same_name)
    assert await list_organisations(redis) == [kbh]
    assert await find_user(redis, "aarhus-admin") is None
    assert await find_user(redis, "admin-101") == kbh_admin
    assert await read_audit(redis) == []


async def test_cross_site_posts_are_refused(client: Client, redis: Redis) -> None:
    admin = await make_admin(redis)
    async with browser(client) as session:
        await login(session, admin.username)
        evil = {"Origin": "https://evil.example"}
        assert (await post(session, "/admin/organisations", FORM, **evil)).status == 403
    assert await list_organisations(redis) == []
