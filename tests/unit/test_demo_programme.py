"""`almenvideo demo-setup` seeds the note-taker pilot programme and enrols the demo GP once."""

from __future__ import annotations

from pathlib import Path

from server.demo import GP_USERNAME, ensure_demo
from server.settings import Settings
from server.store.connection import Redis
from server.store.honoraria import enrolments, list_programmes, read_ledger
from server.store.users import find_user


async def test_running_demo_setup_twice_seeds_one_programme_and_one_onboarding(
    redis: Redis, tmp_path: Path
) -> None:
    settings = Settings(redis_url="redis://unused", data_dir=tmp_path)
    await ensure_demo(redis, settings)
    await ensure_demo(redis, settings)
    [programme] = await list_programmes(redis)
    assert programme.name.startswith("AI-notatassistent ")
    assert programme.budget_line == "pilot_honoraria"
    [rules] = programme.rules
    assert (rules.onboarding_ore, rules.per_consultation_ore) == (200_000, 30_000)
    assert (rules.per_questionnaire_ore, rules.cap_ore) == (50_000, 1_000_000)
    gp = await find_user(redis, GP_USERNAME)
    assert gp is not None
    assert [e.gp_id for e in await enrolments(redis, programme.id)] == [gp.id]
    entries, _ = await read_ledger(redis)
    assert [(e.gp_id, e.earning, e.amount_ore) for e in entries] == [(gp.id, "onboarding", 200_000)]
