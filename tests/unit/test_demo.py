"""`almenvideo demo-setup` is safe to run again: same objects, fresh secrets."""

from __future__ import annotations

from pathlib import Path

from yarl import URL

from server.accounts import CLI, remove_account
from server.auth.identity import authenticate
from server.consultations.linkrules import LinkState
from server.consultations.links import resolve_link
from server.demo import GP_USERNAME, ensure_demo
from server.settings import Settings
from server.store.audit import read_audit
from server.store.clinics import get_clinic, resolve_dropin_link
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation, update_consultation
from server.store.organisations import list_organisations
from server.store.users import UserRole, find_user, organisation_users
from server.store.vendors import vendor_for_key


def token_of(url: object) -> str:
    return URL(str(url)).path.rsplit("/", 1)[-1]


async def test_demo_is_idempotent_and_rotates_secrets(redis: Redis, tmp_path: Path) -> None:
    settings = Settings(redis_url="redis://unused", data_dir=tmp_path, base_url="https://av.test")
    first = await ensure_demo(redis, settings)
    second = await ensure_demo(redis, settings)

    assert second["clinic_id"] == first["clinic_id"]
    assert second["consultation_id"] == first["consultation_id"]
    assert str(second["patient_url"]).startswith("https://av.test/j/")

    clinic = await get_clinic(redis, str(first["clinic_id"]))
    assert clinic is not None
    assert clinic.name == "Lægehuset Demo"

    assert await vendor_for_key(redis, str(first["api_key"])) is None
    vendor = await vendor_for_key(redis, str(second["api_key"]))
    assert vendor is not None
    assert vendor.clinic_ids == (first["clinic_id"],)
    assert (vendor.id, vendor.origins) == (second["vendor_id"], ("http://127.0.0.1:8090",))
    assert second["ydernummer"] == "099999"  # what the LPS simulator books with

    old_link = await resolve_link(redis, token_of(first["patient_url"]))
    assert old_link.state is LinkState.REVOKED
    new_link = await resolve_link(redis, token_of(second["patient_url"]))
    assert new_link.state is LinkState.OK
    assert new_link.consultation is not None
    assert new_link.consultation.id == first["consultation_id"]

    assert await resolve_dropin_link(redis, token_of(first["dropin_url"])) is None
    assert await resolve_dropin_link(redis, token_of(second["dropin_url"])) == clinic.id

    assert first["gp"] != second["gp"]  # a fresh password each run
    gp = await find_user(redis, GP_USERNAME)
    assert gp is not None
    assert gp.clinic_id == clinic.id


async def test_demo_replaces_an_ended_consultation(redis: Redis, tmp_path: Path) -> None:
    settings = Settings(redis_url="redis://unused", data_dir=tmp_path)
    first = await ensure_demo(redis, settings)
    c = await get_consultation(redis, str(first["consultation_id"]))
    assert c is not None
    await update_consultation(redis, c, status=Status.ENDED)
    second = await ensure_demo(redis, settings)
    assert second["clinic_id"] == first["clinic_id"]
    assert second["consultation_id"] != first["consultation_id"]
    assert (await resolve_link(redis, token_of(second["patient_url"]))).state is LinkState.OK


async def test_demo_has_an_admin_a_municipality_and_a_nurse(redis: Redis, tmp_path: Path) -> None:
    settings = Settings(redis_url="redis://unused", data_dir=tmp_path)
    first = await ensure_demo(redis, settings)
    second = await ensure_demo(redis, settings)
    assert second["organisation_id"] == first["organisation_id"]
    [org] = await list_organisations(redis)
    assert (org.id, org.name, org.municipality_code) == (
        first["organisation_id"], "Københavns Kommune", "101",
    )  # fmt: skip
    expected = {
        "admin": ("demo-admin", UserRole.ADMIN, ""),
        "org_admin": ("demo-kommune-admin", UserRole.ORG_ADMIN, org.id),
        "staff": ("demo-sygeplejerske", UserRole.STAFF, org.id),
    }
    for name, (username, role, organisation_id) in expected.items():
        assert first[name]["username"] == second[name]["username"] == username
        assert await authenticate(redis, username, first[name]["password"]) is None
        user = await authenticate(redis, username, second[name]["password"])
        assert user is not None, name
        assert (user.role, user.organisation_id) == (role, organisation_id)
    nurse = await find_user(redis, "demo-sygeplejerske")
    assert nurse is not None
    assert (nurse.display_name, nurse.title) == ("Sara Sygeplejerske", "Hjemmesygeplejerske")
    assert len(await organisation_users(redis, org.id)) == 2
    assert {e.actor for e in await read_audit(redis)} == {CLI}


async def test_demo_makes_a_removed_nurse_again(redis: Redis, tmp_path: Path) -> None:
    settings = Settings(redis_url="redis://unused", data_dir=tmp_path)
    await ensure_demo(redis, settings)
    nurse = await find_user(redis, "demo-sygeplejerske")
    assert nurse is not None
    await remove_account(redis, "user:someone", nurse)
    again = await ensure_demo(redis, settings)
    assert await authenticate(redis, "demo-sygeplejerske", again["staff"]["password"]) is not None
