"""`almenvideo demo-setup` is safe to run again: same objects, fresh secrets."""

from __future__ import annotations

from pathlib import Path

from yarl import URL

from server.consultations.linkrules import LinkState
from server.demo import GP_USERNAME, ensure_demo
from server.settings import Settings
from server.store.clinics import get_clinic, resolve_dropin_link
from server.store.connection import Redis
from server.store.consultations import ENDED, get_consultation, update_consultation
from server.store.links import resolve_link
from server.store.users import find_user
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
    await update_consultation(redis, c, status=ENDED)
    second = await ensure_demo(redis, settings)
    assert second["clinic_id"] == first["clinic_id"]
    assert second["consultation_id"] != first["consultation_id"]
    assert (await resolve_link(redis, token_of(second["patient_url"]))).state is LinkState.OK
