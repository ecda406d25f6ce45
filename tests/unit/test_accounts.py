"""Organisations and accounts: checked before anything is made, audited, secrets shown once."""

from __future__ import annotations

import pytest

from server import accounts
from server.accounts import (
    CLI,
    Refused,
    create_organisation_with_admin,
    create_staff,
    ensure_account,
    issue_key,
    remove_account,
    reset_password,
    revoke_key,
)
from server.auth.identity import authenticate
from server.store.audit import read_audit
from server.store.connection import Redis
from server.store.organisations import list_organisations, organisation_for_key
from server.store.sessions import open_session, session_user_id
from server.store.users import User, UserRole, create_user, find_user
from tests.support.redisdump import stored_text

ACTOR = "user:admin-1"


async def kbh(redis: Redis) -> tuple[str, User]:
    org, account = await create_organisation_with_admin(
        redis, ACTOR, "Københavns Kommune", "101", "kbh-admin", "Kim Kommune"
    )
    return org.id, account.user


async def actions(redis: Redis) -> list[tuple[str, str]]:
    return [(e.action, e.actor) for e in await read_audit(redis)]


async def test_an_organisation_is_made_with_its_first_admin(redis: Redis) -> None:
    org, account = await create_organisation_with_admin(
        redis, ACTOR, " Københavns Kommune ", "101", " KBH-Admin ", "Kim Kommune"
    )
    assert (org.name, org.municipality_code) == ("Københavns Kommune", "101")
    user = account.user
    assert (user.username, user.role, user.organisation_id) == (
        "kbh-admin",
        UserRole.ORG_ADMIN,
        org.id,
    )
    assert len(account.password) >= 20
    assert await authenticate(redis, "kbh-admin", account.password) == user
    assert account.password not in await stored_text(redis)
    assert await actions(redis) == [
        ("organisation.created", ACTOR),
        ("account.created", ACTOR),
    ]
    created = (await read_audit(redis))[1].data
    assert created == {"user_id": user.id, "role": UserRole.ORG_ADMIN, "organisation_id": org.id}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"name": " "}, {"name": "accounts.error.organisation_name"}),
        ({"name": "x" * 201}, {"name": "accounts.error.organisation_name"}),
        ({"municipality_code": "1a1"}, {"municipality_code": "accounts.error.municipality_code"}),
        ({"username": "a b"}, {"username": "accounts.error.username"}),
        ({"username": "ab"}, {"username": "accounts.error.username"}),
        ({"display_name": ""}, {"display_name": "accounts.error.display_name"}),
        (
            {"name": "", "username": "-x"},
            {"name": "accounts.error.organisation_name", "username": "accounts.error.username"},
        ),
    ],
)
async def test_bad_fields_are_refused_and_nothing_is_made(
    redis: Redis, fields: dict[str, str], errors: dict[str, str]
) -> None:
    form = {
        "name": "Københavns Kommune",
        "municipality_code": "101",
        "username": "kbh-admin",
        "display_name": "Kim Kommune",
    } | fields
    with pytest.raises(Refused) as refused:
        await create_organisation_with_admin(redis, ACTOR, **form)
    assert (refused.value.errors, refused.value.status) == (errors, 400)
    assert await redis.dbsize() == 0


async def test_a_taken_code_or_name_is_a_conflict_and_nothing_is_made(redis: Redis) -> None:
    await kbh(redis)
    before = await stored_text(redis)
    with pytest.raises(Refused) as refused:
        await create_organisation_with_admin(
            redis, ACTOR, "Frederiksberg Kommune", "101", "kbh-admin", "Frede"
        )
    assert refused.value.status == 409
    assert refused.value.errors == {
        "municipality_code": "accounts.error.municipality_code_taken",
        "username": "accounts.error.username_taken",
    }
    assert await stored_text(redis) == before


async def test_an_admin_name_taken_meanwhile_undoes_the_organisation(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two admins racing for one user name: the loser's organisation is taken back."""
    await create_user(redis, "kbh-admin", "x" * 20, "Someone", UserRole.GP, clinic_id="c1")

    async def not_yet(redis: Redis, username: str) -> None:
        return None

    monkeypatch.setattr(accounts, "find_user", not_yet)
    with pytest.raises(Refused) as refused:
        await create_organisation_with_admin(
            redis, ACTOR, "Københavns Kommune", "101", "kbh-admin", "Kim Kommune"
        )
    assert refused.value.errors == {"username": "accounts.error.username_taken"}
    assert await list_organisations(redis) == []
    assert await redis.get("av:organisation_by_code:101") is None
    assert [a for a, _ in await actions(redis)] == ["organisation.created", "organisation.removed"]
    monkeypatch.undo()
    org, _ = await create_organisation_with_admin(
        redis, ACTOR, "Københavns Kommune", "101", "kbh-admin2", "Kim Kommune"
    )
    assert await list_organisations(redis) == [org]


async def test_staff_are_made_with_a_title_and_a_role(redis: Redis) -> None:
    org_id, admin = await kbh(redis)
    actor = f"user:{admin.id}"
    nurse = await create_staff(
        redis, actor, org_id, "Sara", "Sara Sygeplejerske", "Hjemmesygeplejerske", UserRole.STAFF
    )
    assert (nurse.user.username, nurse.user.title, nurse.user.role) == (
        "sara", "Hjemmesygeplejerske", UserRole.STAFF,
    )  # fmt: skip
    assert nurse.user.organisation_id == org_id
    second = await create_staff(redis, actor, org_id, "kbh-admin-2", "Bo", "", UserRole.ORG_ADMIN)
    assert second.user.role == UserRole.ORG_ADMIN
    for role in (UserRole.GP, UserRole.ADMIN, ""):
        with pytest.raises(Refused) as refused:
            await create_staff(redis, actor, org_id, "nurse-3", "Ny", "", role)
        assert refused.value.errors == {"role": "accounts.error.role"}
    with pytest.raises(Refused) as refused:
        await create_staff(redis, actor, org_id, "SARA", "Sara 2", "", UserRole.STAFF)
    assert refused.value.status == 409
    with pytest.raises(Refused) as refused:
        await create_staff(redis, actor, org_id, "nurse-4", "Nina", "x" * 101, UserRole.STAFF)
    assert refused.value.errors == {"title": "accounts.error.title"}
    assert [a for a, _ in await actions(redis)][-2:] == ["account.created", "account.created"]


async def test_a_reset_password_ends_the_old_one_and_every_session(redis: Redis) -> None:
    org_id, _ = await kbh(redis)
    nurse = await create_staff(redis, ACTOR, org_id, "sara", "Sara", "", UserRole.STAFF)
    token = await open_session(redis, nurse.user.id, 60)
    password = await reset_password(redis, ACTOR, nurse.user)
    assert password != nurse.password
    assert await authenticate(redis, "sara", nurse.password) is None
    assert await authenticate(redis, "sara", password) is not None
    assert await session_user_id(redis, token) is None
    assert (await read_audit(redis))[-1].action == "account.password_reset"
    assert (await read_audit(redis))[-1].data == {"user_id": nurse.user.id}


async def test_a_removed_account_is_gone_but_stays_in_the_audit(redis: Redis) -> None:
    org_id, _ = await kbh(redis)
    nurse = await create_staff(redis, ACTOR, org_id, "sara", "Sara", "", UserRole.STAFF)
    token = await open_session(redis, nurse.user.id, 60)
    await remove_account(redis, ACTOR, nurse.user)
    assert await find_user(redis, "sara") is None
    assert await authenticate(redis, "sara", nurse.password) is None
    assert await session_user_id(redis, token) is None
    entry = (await read_audit(redis))[-1]
    assert entry.action == "account.removed"
    assert entry.data == {
        "user_id": nurse.user.id,
        "role": UserRole.STAFF,
        "organisation_id": org_id,
    }
    # The name is free again, for a new account with a new id.
    again = await create_staff(redis, ACTOR, org_id, "sara", "Sara", "", UserRole.STAFF)
    assert again.user.id != nurse.user.id


async def test_ensure_account_creates_then_renews_the_password(redis: Redis) -> None:
    first = await ensure_account(redis, CLI, "root", "Root", UserRole.ADMIN)
    second = await ensure_account(redis, CLI, "ROOT", "Root", UserRole.ADMIN)
    assert first.user.id == second.user.id
    assert await authenticate(redis, "root", first.password) is None
    assert await authenticate(redis, "root", second.password) is not None
    assert await actions(redis) == [("account.created", CLI), ("account.password_reset", CLI)]


async def test_ensure_account_never_takes_over_another_kind_of_account(redis: Redis) -> None:
    gp = await create_user(redis, "lise", "x" * 20, "Dr. Lise", UserRole.GP, clinic_id="c1")
    with pytest.raises(Refused) as refused:
        await ensure_account(redis, CLI, "lise", "Lise", UserRole.ADMIN)
    assert refused.value.status == 409
    assert await find_user(redis, "lise") == gp
    await kbh(redis)
    with pytest.raises(Refused):
        await ensure_account(redis, CLI, "kbh-admin", "Kim", UserRole.ORG_ADMIN, "another-org")
    assert await authenticate(redis, "lise", "x" * 20) == gp


async def test_keys_are_issued_and_revoked_with_an_audit(redis: Redis) -> None:
    org_id, _ = await kbh(redis)
    key = await issue_key(redis, ACTOR, org_id, " Omsorgssystem ")
    org = await organisation_for_key(redis, key)
    assert org is not None and org.id == org_id
    issued = (await read_audit(redis))[-1]
    assert issued.action == "organisation.key_issued"
    assert key not in await stored_text(redis)
    assert await revoke_key(redis, ACTOR, org_id, str(issued.data["key_id"]))
    assert await organisation_for_key(redis, key) is None
    assert (await read_audit(redis))[-1].action == "organisation.key_revoked"
    assert not await revoke_key(redis, ACTOR, org_id, str(issued.data["key_id"]))
    assert (await read_audit(redis))[-1].action == "organisation.key_revoked"
    assert len(await read_audit(redis)) == 4
    with pytest.raises(Refused) as refused:
        await issue_key(redis, ACTOR, org_id, "  ")
    assert refused.value.errors == {"label": "accounts.error.label"}
