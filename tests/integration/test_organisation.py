"""The organisation admin's page: staff and API keys, of their own organisation only."""

from __future__ import annotations

from aiohttp import ClientSession

from server.auth.web import SESSION_COOKIE
from server.store.audit import read_audit
from server.store.connection import Redis
from server.store.organisations import (
    issue_organisation_key,
    organisation_for_key,
    organisation_keys,
)
from server.store.sessions import session_user_id
from server.store.users import UserRole, find_user, get_user, organisation_users
from tests.integration.accountpages import (
    html,
    make_admin,
    make_organisation,
    post,
    secret_on,
)
from tests.integration.helpers import GP_PASSWORD, Client, browser, login, make_gp
from tests.support.redisdump import stored_text
from tests.unit.factories import make_clinic

NEW_NURSE = {
    "username": "Bente.B",
    "display_name": "Bente Berg",
    "title": "Hjemmesygeplejerske",
    "role": UserRole.STAFF,
}


async def can_log_in(client: Client, username: str, password: str) -> bool:
    async with browser(client) as session:
        response = await session.post(
            "/login", data={"username": username, "password": password}, allow_redirects=False
        )
        return response.status == 303


def session_token(session: ClientSession) -> str:
    return next(c.value for c in session.cookie_jar if c.key == SESSION_COOKIE)


async def actions(redis: Redis) -> list[tuple[str, str]]:
    return [(e.action, e.actor) for e in await read_audit(redis)]


# ---- the door ----------------------------------------------------------------------------


async def test_nobody_logged_in_is_sent_to_log_in(client: Client, redis: Redis) -> None:
    _, _, nurse = await make_organisation(redis)
    response = await client.get("/org", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login?next=/org"
    for path in ("/org/staff", f"/org/staff/{nurse.id}/remove", "/org/keys"):
        refused = await client.post(path, data=NEW_NURSE, allow_redirects=False)
        assert refused.status == 303
        assert refused.headers["Location"].startswith("/login")
    assert await get_user(redis, nurse.id) == nurse
    assert await read_audit(redis) == []


async def test_other_roles_get_a_forbidden_page(client: Client, redis: Redis) -> None:
    org, _, nurse = await make_organisation(redis)
    gp = await make_gp(redis, await make_clinic(redis))
    admin = await make_admin(redis)
    for user in (gp, admin, nurse):
        async with browser(client) as session:
            await login(session, user.username)
            page = await session.get("/org", allow_redirects=False)
            assert page.status == 403
            assert "ikke adgang" in await page.text()
            assert (await post(session, "/org/staff", NEW_NURSE)).status == 403
            assert (await post(session, "/org/keys", {"label": "x"})).status == 403
    assert len(await organisation_users(redis, org.id)) == 2
    assert await organisation_keys(redis, org.id) == []


async def test_cross_site_posts_are_refused(client: Client, redis: Redis) -> None:
    org, org_admin, nurse = await make_organisation(redis)
    async with browser(client) as session:
        await login(session, org_admin.username)
        evil = {"Origin": "https://evil.example"}
        assert (await post(session, "/org/staff", NEW_NURSE, **evil)).status == 403
        assert (await post(session, f"/org/staff/{nurse.id}/remove", {}, **evil)).status == 403
        assert (await post(session, "/org/keys", {"label": "x"}, **evil)).status == 403
    assert len(await organisation_users(redis, org.id)) == 2
    assert await read_audit(redis) == []


# ---- staff -------------------------------------------------------------------------------


async def test_the_staff_list_shows_name_title_user_name_and_role(
    client: Client, redis: Redis
) -> None:
    _, org_admin, nurse = await make_organisation(redis)
    async with browser(client) as session:
        await login(session, org_admin.username)
        response = await session.get("/org")
        assert response.status == 200
        body = await html(response)
        english = await html(await session.get("/org?lang=en"))
    assert "Københavns Kommune (101)" in body
    for text in ("Nurse 101", "Hjemmesygeplejerske", "nurse-101", "Medarbejder", "Administrator"):
        assert text in body
    assert body.count('data-testid="member"') == 2
    # Nobody resets or removes themselves here.
    assert f"/org/staff/{nurse.id}/remove" in body
    assert f"/org/staff/{org_admin.id}/remove" not in body
    assert "Staff member" in english and "Create a user" in english


async def test_an_org_admin_creates_staff_whose_password_is_shown_once(
    client: Client, redis: Redis
) -> None:
    org, org_admin, _ = await make_organisation(redis)
    async with browser(client) as session:
        await login(session, org_admin.username)
        response = await post(session, "/org/staff", NEW_NURSE)
        password = await secret_on(response)
        assert "Bente Berg" in await html(response)
        assert password not in await html(await session.get("/org"))
    bente = await find_user(redis, "bente.b")
    assert bente is not None
    assert (bente.role, bente.organisation_id, bente.title) == (
        UserRole.STAFF, org.id, "Hjemmesygeplejerske",
    )  # fmt: skip
    assert password not in await stored_text(redis)
    async with browser(client) as session:
        response = await session.post(
            "/login", data={"username": "bente.b", "password": password}, allow_redirects=False
        )
        assert response.headers["Location"] == "/directory"
    entry = (await read_audit(redis))[-1]
    assert (entry.action, entry.actor) == ("account.created", f"user:{org_admin.id}")
    assert entry.data == {"user_id": bente.id, "role": UserRole.STAFF, "organisation_id": org.id}


async def test_an_org_admin_can_make_another_org_admin(client: Client, redis: Redis) -> None:
    _, org_admin, _ = await make_organisation(redis)
    async with browser(client) as session:
        await login(session, org_admin.username)
        form = NEW_NURSE | {"username": "chef", "role": UserRole.ORG_ADMIN, "title": ""}
        password = await secret_on(await post(session, "/org/staff", form))
    async with browser(client) as session:
        await login(session, "chef", password)
        assert (await session.get("/org")).status == 200


async def test_bad_staff_fields_are_shown_on_the_page(client: Client, redis: Redis) -> None:
    org, org_admin, nurse = await make_organisation(redis)
    bad = {"username": "b", "display_name": "", "title": "x" * 101, "role": "admin"}
    async with browser(client) as session:
        await login(session, org_admin.username)
        response = await post(session, "/org/staff", bad)
        assert response.status == 400
        body = await html(response)
        taken = await post(session, "/org/staff", NEW_NURSE | {"username": nurse.username})
        assert taken.status == 409
        taken_body = await html(taken)
    assert 'data-testid="staff-errors"' in body
    for field in ("username", "display_name", "title", "role"):
        assert f'data-testid="{field}-error"' in body
    assert "Brugernavnet er optaget" in taken_body
    assert 'value="Bente Berg"' in taken_body
    assert len(await organisation_users(redis, org.id)) == 2
    assert await read_audit(redis) == []


async def test_a_password_reset_shows_a_new_one_and_ends_the_old(
    client: Client, redis: Redis
) -> None:
    _, org_admin, nurse = await make_organisation(redis)
    async with browser(client) as nurse_session:
        await login(nurse_session, nurse.username)
        token = session_token(nurse_session)
    assert await session_user_id(redis, token) == nurse.id
    async with browser(client) as session:
        await login(session, org_admin.username)
        password = await secret_on(await post(session, f"/org/staff/{nurse.id}/password", {}))
    assert not await can_log_in(client, nurse.username, GP_PASSWORD)
    assert await can_log_in(client, nurse.username, password)
    assert await session_user_id(redis, token) is None
    assert (await read_audit(redis))[-1].action == "account.password_reset"
    assert (await read_audit(redis))[-1].data == {"user_id": nurse.id}


async def test_a_removed_member_can_neither_log_in_nor_use_an_open_session(
    client: Client, redis: Redis
) -> None:
    org, org_admin, nurse = await make_organisation(redis)
    async with browser(client) as session:
        await login(session, org_admin.username)
        second = await post(
            session, "/org/staff", NEW_NURSE | {"username": "chef", "role": UserRole.ORG_ADMIN}
        )
        chef_password = await secret_on(second)
    chef = await find_user(redis, "chef")
    assert chef is not None
    async with browser(client) as chef_session, browser(client) as nurse_session:
        await login(chef_session, "chef", chef_password)
        await login(nurse_session, nurse.username)
        assert (await chef_session.get("/org", allow_redirects=False)).status == 200
        async with browser(client) as session:
            await login(session, org_admin.username)
            for member in (chef, nurse):
                removed = await post(session, f"/org/staff/{member.id}/remove", {})
                assert removed.status == 303
                assert removed.headers["Location"] == "/org?done=removed"
            page = await html(await session.get("/org?done=removed"))
            again = await post(session, f"/org/staff/{nurse.id}/remove", {})
            assert again.headers["Location"] == "/org?done=gone"
        # The open sessions stopped working at once.
        stale = await chef_session.get("/org", allow_redirects=False)
        assert stale.status == 303
        assert stale.headers["Location"] == "/login?next=/org"
        assert await session_user_id(redis, session_token(nurse_session)) is None
    assert "Brugeren er fjernet" in page
    assert f'data-user-id="{chef.id}"' not in page and "Nurse 101" not in page
    assert not await can_log_in(client, nurse.username, GP_PASSWORD)
    assert not await can_log_in(client, "chef", chef_password)
    assert [u.id for u in await organisation_users(redis, org.id)] == [org_admin.id]
    removals = [e for e in await read_audit(redis) if e.action == "account.removed"]
    assert [(e.actor, e.data["user_id"]) for e in removals] == [
        (f"user:{org_admin.id}", chef.id),
        (f"user:{org_admin.id}", nurse.id),
    ]


async def test_an_org_admin_cannot_reset_or_remove_themselves(client: Client, redis: Redis) -> None:
    _, org_admin, _ = await make_organisation(redis)
    async with browser(client) as session:
        await login(session, org_admin.username)
        for action in ("remove", "password"):
            response = await post(session, f"/org/staff/{org_admin.id}/{action}", {})
            assert response.status == 409
            assert "din egen bruger" in await html(response)
        assert (await session.get("/org", allow_redirects=False)).status == 200
    assert await get_user(redis, org_admin.id) == org_admin
    assert await read_audit(redis) == []


# ---- API keys ----------------------------------------------------------------------------


async def test_keys_are_issued_once_listed_and_revoked(client: Client, redis: Redis) -> None:
    org, org_admin, _ = await make_organisation(redis)
    async with browser(client) as session:
        await login(session, org_admin.username)
        key = await secret_on(await post(session, "/org/keys", {"label": "Omsorgssystem"}))
        assert key.startswith("avo_")
        found = await organisation_for_key(redis, key)
        assert found is not None and found.id == org.id
        page = await html(await session.get("/org"))
        [listed] = await organisation_keys(redis, org.id)
        assert "Omsorgssystem" in page and f'data-key-id="{listed.id}"' in page
        assert key not in page
        revoked = await post(session, f"/org/keys/{listed.id}/revoke", {})
        assert revoked.headers["Location"] == "/org?done=revoked"
        again = await post(session, f"/org/keys/{listed.id}/revoke", {})
        assert again.headers["Location"] == "/org?done=gone"
        assert 'data-testid="no-keys"' in await html(await session.get("/org"))
    assert await organisation_for_key(redis, key) is None
    assert key not in await stored_text(redis)
    actor = f"user:{org_admin.id}"
    assert await actions(redis) == [
        ("organisation.key_issued", actor),
        ("organisation.key_revoked", actor),
    ]
    assert (await read_audit(redis))[-1].data == {"organisation_id": org.id, "key_id": listed.id}


async def test_a_key_needs_a_label(client: Client, redis: Redis) -> None:
    org, org_admin, _ = await make_organisation(redis)
    async with browser(client) as session:
        await login(session, org_admin.username)
        response = await post(session, "/org/keys?lang=en", {"label": " "})
        assert response.status == 400
        assert "Enter a label" in await html(response)
    assert await organisation_keys(redis, org.id) == []


# ---- tenancy -----------------------------------------------------------------------------


async def test_municipality_x_never_sees_or_changes_municipality_y(
    client: Client, redis: Redis
) -> None:
    x, x_admin, _ = await make_organisation(redis, "Københavns Kommune", "101")
    y, y_admin, y_nurse = await make_organisation(redis, "Aarhus Kommune", "751")
    y_key = await issue_organisation_key(redis, y.id, "Aarhus omsorg")
    [y_listed] = await organisation_keys(redis, y.id)
    async with browser(client) as session:
        await login(session, x_admin.username)
        page = await html(await session.get("/org"))
        for foreign in ("Aarhus", y_nurse.username, y_admin.username, y_nurse.id, y_listed.id):
            assert foreign not in page
        for path in (
            f"/org/staff/{y_nurse.id}/password",
            f"/org/staff/{y_nurse.id}/remove",
            f"/org/staff/{y_admin.id}/remove",
            f"/org/keys/{y_listed.id}/revoke",
        ):
            response = await post(session, path, {})
            assert response.status == 303, path
            assert response.headers["Location"] == "/org?done=gone"
        # Nor does an id shaped to reach some other record.
        odd = await post(session, f"/org/staff/{x_admin.id}:sessions/remove", {})
        assert odd.headers["Location"] == "/org?done=gone"
        # A form field naming another organisation is not listened to either.
        await secret_on(await post(session, "/org/staff", NEW_NURSE | {"organisation_id": y.id}))
    assert await get_user(redis, y_nurse.id) == y_nurse
    assert await can_log_in(client, y_nurse.username, GP_PASSWORD)
    found = await organisation_for_key(redis, y_key)
    assert found is not None and found.id == y.id
    assert {u.username for u in await organisation_users(redis, y.id)} == {
        y_admin.username, y_nurse.username,
    }  # fmt: skip
    assert "bente.b" in {u.username for u in await organisation_users(redis, x.id)}
    assert [a for a, _ in await actions(redis)] == ["account.created"]
