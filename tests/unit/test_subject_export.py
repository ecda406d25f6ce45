"""`almenvideo subject-export`: everything held about one patient, found by CPR through its
keyed hash or by consultation, and nothing about anyone else."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from server.auth.cprkey import load_cpr_key
from server.cli import main
from server.settings import Settings
from server.store.audit import audit, read_audit
from server.store.connection import Redis
from server.store.consultations import update_consultation
from server.store.events import EventType, append_event
from server.store.messages import add_clinic_message
from server.store.notes import Section, save_draft
from server.store.notetaker import ConsentRecord, add_consent
from tests.unit.factories import make_clinic, make_scheduled, seat_patient, with_link

CPR = "010203-1234"


async def export(
    settings: Settings, capsys: pytest.CaptureFixture[str], *args: str
) -> dict[str, Any]:
    code = await asyncio.to_thread(
        main,
        [
            "subject-export",
            *args,
            "--redis-url",
            str(settings.redis_url),
            "--data-dir",
            str(settings.data_dir),
        ],
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)


async def test_an_export_by_cpr_holds_the_patients_consultations_and_who_read_them(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = await make_clinic(redis)
    key = load_cpr_key(settings)
    _, mine = await with_link(redis, await make_scheduled(redis, clinic))
    mine = await update_consultation(redis, mine, cpr_hash=key.hash(CPR))
    mine = (await seat_patient(redis, mine, "Karen Ærø Jensen")).consultation
    other = await update_consultation(
        redis, await make_scheduled(redis, clinic), cpr_hash=key.hash("311299-4321")
    )
    await seat_patient(redis, other, "Ole Olsen")
    await add_clinic_message(redis, mine.id, "Lægen er forsinket")
    await add_consent(
        redis,
        mine.id,
        ConsentRecord("given", mine.patient_participant, "patient", 1.0, "v1", "da", "dialog"),
    )
    await save_draft(redis, mine, [Section("plan", "Plan", "Kontrol om en uge")], engine="demo")
    await append_event(redis, EventType.CONSULTATION_CREATED, consultation_id=mine.id)
    await append_event(redis, EventType.CONSULTATION_CREATED, consultation_id=other.id)
    await audit(redis, "note.read", "user:gp-1", consultation_id=mine.id)
    await audit(redis, "note.read", "user:gp-2", consultation_id=other.id)

    found = await export(settings, capsys, "--cpr", CPR)

    assert [c["consultation"]["id"] for c in found["consultations"]] == [mine.id]
    held = found["consultations"][0]
    assert held["messages"][0]["text"] == "Lægen er forsinket"
    assert held["consent"][0]["answer"] == "given"
    assert "Kontrol om en uge" in json.dumps(held["note"], ensure_ascii=False)
    assert held["participants"][0]["display_name"] == "Karen Ærø Jensen"
    assert [(a["actor"], a["action"]) for a in found["audit"]] == [("user:gp-1", "note.read")]
    assert {"consultation_id": mine.id} in [e["data"] for e in found["events"]]
    assert all(e["data"]["consultation_id"] == mine.id for e in found["events"])
    text = json.dumps(found, ensure_ascii=False)
    assert "Ole Olsen" not in text and other.id not in text
    assert "0102031234" not in text and "010203-1234" not in text and key.hash(CPR) not in text
    assert mine.link_hash not in text
    exported = [e for e in await read_audit(redis) if e.action == "subject.exported"]
    assert exported and exported[-1].data == {"consultation_ids": [mine.id]}


async def test_an_export_by_consultation(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic)
    found = await export(settings, capsys, "--consultation", c.id)
    assert [x["consultation"]["id"] for x in found["consultations"]] == [c.id]
    assert found["consultations"][0]["note"] is None


async def test_an_unknown_patient_exports_nothing(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_scheduled(redis, await make_clinic(redis))
    assert (await export(settings, capsys, "--cpr", CPR))["consultations"] == []
