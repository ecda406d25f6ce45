"""`almenvideo create-admin | create-organisation | demo-setup` against a real Redis."""

from __future__ import annotations

import asyncio
import re

import pytest

from server.accounts import CLI
from server.auth.identity import authenticate
from server.cli import main
from server.settings import Settings
from server.store.audit import read_audit
from server.store.clinics import create_clinic
from server.store.connection import Redis
from server.store.organisations import list_organisations
from server.store.users import UserRole, create_user, find_user
from server.store.vendors import vendor_for_key


async def run(settings: Settings, *args: str) -> int:
    """The command as typed, in a thread of its own (it runs its own event loop)."""
    return await asyncio.to_thread(main, [*args, "--redis-url", str(settings.redis_url)])


def password_in(output: str) -> str:
    found = re.search(r"password:\s+(\S+)", output)
    assert found, output
    return found.group(1)


async def test_create_admin_prints_a_password_and_renews_it_when_run_again(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(settings, "create-admin", "--username", "Root") == 0
    first = password_in(capsys.readouterr().out)
    admin = await find_user(redis, "root")
    assert admin is not None
    assert (admin.role, admin.display_name) == (UserRole.ADMIN, "Root")
    assert await authenticate(redis, "root", first) == admin

    assert await run(settings, "create-admin", "--username", "root", "--display-name", "Ada") == 0
    second = password_in(capsys.readouterr().out)
    assert second != first
    assert await authenticate(redis, "root", first) is None
    assert await authenticate(redis, "root", second) is not None
    assert [(e.action, e.actor) for e in await read_audit(redis)] == [
        ("account.created", CLI),
        ("account.password_reset", CLI),
    ]


async def test_create_admin_never_takes_over_another_account(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    gp = await create_user(
        redis, "lise", "rugbrød-og-kaffe-42", "Dr. Lise", UserRole.GP, clinic_id="c1"
    )
    assert await run(settings, "create-admin", "--username", "lise") == 1
    captured = capsys.readouterr()
    assert "password" not in captured.out
    assert "That user name is taken" in captured.err
    assert await find_user(redis, "lise") == gp
    assert await read_audit(redis) == []


async def test_create_organisation_prints_its_admins_password(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run(
        settings, "create-organisation", "--name", "Københavns Kommune", "--code", "101",
        "--admin-username", "kbh-admin",
    )  # fmt: skip
    assert code == 0
    output = capsys.readouterr().out
    assert "Københavns Kommune (101)" in output
    [org] = await list_organisations(redis)
    user = await authenticate(redis, "kbh-admin", password_in(output))
    assert user is not None
    assert (user.role, user.organisation_id) == (UserRole.ORG_ADMIN, org.id)
    assert [(e.action, e.actor) for e in await read_audit(redis)] == [
        ("organisation.created", CLI),
        ("account.created", CLI),
    ]


async def test_create_organisation_refuses_bad_input_and_makes_nothing(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run(
        settings, "create-organisation", "--name", "Kommune", "--code", "1O1",
        "--admin-username", "x",
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "municipality_code: A municipality code is three digits" in err
    assert "username:" in err
    assert await redis.dbsize() == 0


async def test_demo_setup_prints_every_login(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(settings, "demo-setup") == 0
    output = capsys.readouterr().out
    for username in ("demo-gp", "demo-admin", "demo-kommune-admin", "demo-sygeplejerske"):
        assert f"username:   {username}" in output
    assert output.count("password:") == 4


async def test_a_vendor_and_its_keys_from_the_command_line(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = await create_clinic(redis, "Lægehuset CLI", "424242")
    assert await run(settings, "create-vendor", "--name", "CLI-LPS", "--clinic", "424242",
                     "--origin", "https://lps.example", "--label", "first") == 0  # fmt: skip
    out = capsys.readouterr().out
    vendor_id = re.search(r"Vendor id:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    first = re.search(r"API key:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    vendor = await vendor_for_key(redis, first)
    assert vendor is not None
    assert (vendor.id, vendor.clinic_ids, vendor.origins) == (
        vendor_id, (clinic.id,), ("https://lps.example",),
    )  # fmt: skip

    assert (
        await run(settings, "vendor-key", "issue", "--vendor-id", vendor_id, "--label", "new") == 0
    )
    second = re.search(r"API key:\s+(\S+)", capsys.readouterr().out).group(1)  # type: ignore[union-attr]
    assert await run(settings, "vendor-key", "list", "--vendor-id", vendor_id) == 0
    listed = capsys.readouterr().out
    assert first not in listed and second not in listed  # keys are never shown again
    first_id = next(line.split()[0] for line in listed.splitlines() if line.endswith("first"))
    assert (
        await run(settings, "vendor-key", "revoke", "--vendor-id", vendor_id, "--key-id", first_id)
        == 0
    )
    assert await vendor_for_key(redis, first) is None
    assert await vendor_for_key(redis, second) is not None
    assert (
        await run(settings, "vendor-key", "revoke", "--vendor-id", vendor_id, "--key-id", first_id)
        == 1
    )
    assert "no such key" in capsys.readouterr().err
    assert await run(settings, "create-vendor", "--name", "X", "--clinic", "000001") == 1
    assert "000001" in capsys.readouterr().err
    actions = [entry.action for entry in await read_audit(redis)]
    assert actions.count("vendor.created") == 1 and "vendor.key_revoked" in actions


def test_serve_refuses_a_turn_misconfiguration_before_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALMENVIDEO_TURN_URLS", "turns:203.0.113.5:443")
    monkeypatch.delenv("ALMENVIDEO_TURN_SECRET", raising=False)
    assert main(["serve", "--port", "1"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("almenvideo: configuration: ")
    assert "not an IP address" in error
    assert "ALMENVIDEO_TURN_SECRET is not" in error
