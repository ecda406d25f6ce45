"""The CPR hash's key lives outside Redis: a stolen dump holds the hashes but not the key,
so the ~3.65·10⁸ possible numbers cannot be tried against them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import os
import stat
from pathlib import Path

import pytest

from server.app import create_app
from server.auth.cprkey import KEY_BYTES, CprKey, load_cpr_key
from server.cli import main
from server.settings import Settings, SettingsError
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import get_consultation, update_consultation
from tests.integration.helpers import Client
from tests.integration.test_api_consultations import book, lps
from tests.support.redisdump import stored_text
from tests.unit.factories import make_clinic, make_scheduled

CPR_NUMBER = "010203-1234"
DIGITS = CPR_NUMBER.replace("-", "")
PATIENT = {"reference": "pt", "display_name": "Karen", "cpr": CPR_NUMBER}


def _reversible_with(candidate: str, hashed: str) -> bool:
    """Whether `candidate` (anything found in the dump) is the key of `hashed`."""
    digest = hashed.rpartition(":")[2]
    for secret in (candidate.encode(), bytes.fromhex(candidate) if _is_hex(candidate) else b""):
        if secret and hmac.compare_digest(
            hmac.new(secret, DIGITS.encode(), hashlib.sha256).hexdigest(), digest
        ):
            return True
    return False


def _is_hex(text: str) -> bool:
    return len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text)


async def test_a_redis_dump_does_not_hold_the_key_of_the_cpr_hashes(
    client: Client, redis: Redis, settings: Settings
) -> None:
    v = await lps(redis)
    made = await book(
        client, v, patient={"reference": "pt", "display_name": "K", "cpr": CPR_NUMBER}
    )
    stored = await get_consultation(redis, made["id"])
    assert stored is not None and stored.cpr_hash
    assert await redis.exists(keys.LEGACY_CPR_PEPPER) == 0
    dump = await stored_text(redis)
    words = {w for line in dump.splitlines() for w in [line, *line.replace("=", " ").split()]}
    assert not any(_reversible_with(word, stored.cpr_hash) for word in words)
    # The key is the data directory's file (made on first start, readable by us only) ...
    key_file = settings.data_dir / "cpr.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stored.cpr_hash == CprKey(bytes.fromhex(key_file.read_text())).hash(CPR_NUMBER)
    assert key_file.read_text().strip() not in dump


async def test_the_configured_key_file_is_used(
    aiohttp_client: object, settings: Settings, redis: Redis, tmp_path: Path
) -> None:
    secret = os.urandom(KEY_BYTES)
    path = tmp_path / "secrets" / "cpr.key"
    path.parent.mkdir()
    path.write_text(secret.hex() + "\n")
    assert Settings.from_env({"ALMENVIDEO_CPR_KEY_FILE": str(path)}).cpr_key_file == path
    client: Client = await aiohttp_client(create_app(settings.with_(cpr_key_file=path)))  # type: ignore[operator]
    v = await lps(redis)
    made = await book(
        client, v, patient={"reference": "pt", "display_name": "K", "cpr": CPR_NUMBER}
    )
    stored = await get_consultation(redis, made["id"])
    assert stored is not None and stored.cpr_hash == CprKey(secret).hash(CPR_NUMBER)
    assert not (settings.data_dir / "cpr.key").exists()


@pytest.mark.parametrize("content", [None, "", "not hex", "00" * (KEY_BYTES - 1)])
def test_a_missing_or_weak_key_file_stops_the_start(
    settings: Settings, tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "cpr.key"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SettingsError, match="CPR key"):
        create_app(settings.with_(cpr_key_file=path))


async def test_instances_starting_together_share_the_made_key(settings: Settings) -> None:
    loaded = await asyncio.gather(*(asyncio.to_thread(load_cpr_key, settings) for _ in range(8)))
    assert len({key.secret for key in loaded}) == 1


async def test_forgetting_the_old_hashes_deletes_the_key_redis_held(
    redis: Redis, settings: Settings
) -> None:
    """The migration: the key Redis held and every hash made with it go; hashes made with
    the key file stay. (The old hashes cannot be re-keyed without their numbers.)"""
    clinic = await make_clinic(redis)
    pepper = os.urandom(32).hex()
    await redis.set(keys.LEGACY_CPR_PEPPER, pepper)
    old_hash = hmac.new(bytes.fromhex(pepper), DIGITS.encode(), hashlib.sha256).hexdigest()
    key = load_cpr_key(settings)
    made = []
    for cpr_hash in itertools.islice(itertools.cycle([old_hash, key.hash(CPR_NUMBER), ""]), 6):
        c = await make_scheduled(redis, clinic)
        made.append(await update_consultation(redis, c, cpr_hash=cpr_hash))
    env = {"ALMENVIDEO_DATA_DIR": str(settings.data_dir)}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        code = await asyncio.to_thread(
            main, ["forget-old-cpr-hashes", "--redis-url", str(settings.redis_url)]
        )
    assert code == 0
    assert await redis.exists(keys.LEGACY_CPR_PEPPER) == 0
    after = [await get_consultation(redis, c.id) for c in made]
    assert [c.cpr_hash if c else None for c in after] == [
        "",
        key.hash(CPR_NUMBER),
        "",
        "",
        key.hash(CPR_NUMBER),
        "",
    ]
    assert pepper not in await stored_text(redis)
