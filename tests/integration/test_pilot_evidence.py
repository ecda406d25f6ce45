"""The note-taker pilot's evidence in a real Redis, its page and its CSV export: only pilot
consultations have rows, a GP sees only their own, the admin sees everybody's."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass

import pytest

from server.clock import now
from server.pilots.evidencecsv import ROW_COLUMNS, SUMMARY_COLUMNS
from server.pilots.notecomparison import compare
from server.settings import REPO_ROOT
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import Consultation
from server.store.notes import Section, sections_text
from server.store.pilotevidence import (
    add_audio,
    evidence_rows,
    record_approved,
    record_consent,
    record_discarded,
    record_draft,
    record_offered,
    record_opened,
)
from server.store.users import User
from tests.integration.accountpages import html, make_admin, make_organisation
from tests.integration.helpers import Client, browser, login, make_gp
from tests.unit.factories import PATIENT_NAME, make_clinic, make_scheduled

ENGINE, VERSION = "pocketsphinx", "5.0.3"
EXPORT = "/pilot/notetaker.csv?format=csv-en"  # the machine shape, to parse back exactly

DRAFT = (
    Section("reason", "Årsag", "Tør hoste i tre dage"),
    Section("plan", "Plan", "Kontrol efter behov"),
)
APPROVED = (
    Section("reason", "Årsag", "Tør hoste i tre dage"),
    Section("plan", "Plan", "Kontrol om en uge ved feber"),
    Section("findings", "Fund", "Rene lunger"),
)


@dataclass(frozen=True)
class Pilot:
    lise: User
    ole: User
    c1: Consultation  # Lise's: consented, drafted, approved
    c2: Consultation  # Lise's: consent given, then withdrawn
    c3: Consultation  # Ole's, in another clinic: declined
    outside: Consultation  # never offered: not in the pilot
    t0: float


async def run_pilot(redis: Redis) -> Pilot:
    t0 = float(int(now())) - 7200
    aarhus, odense = await make_clinic(redis), await make_clinic(redis, "Lægerne i Odense")
    lise = await make_gp(redis, aarhus, "Dr. Lise Holm")
    ole = await make_gp(redis, odense, "Dr. Ole Berg")
    c1, c2, outside = [
        await make_scheduled(redis, aarhus, patient_name=PATIENT_NAME) for _ in range(3)
    ]
    c3 = await make_scheduled(redis, odense, patient_name=PATIENT_NAME)

    await record_offered(redis, c1, lise.id, lise.display_name, ENGINE, VERSION, t0)
    await record_consent(redis, c1.id, "given", t0 + 5)
    await add_audio(redis, c1.id, 30.5)  # the GP's track
    await add_audio(redis, c1.id, 45.0)  # the patient's
    await record_draft(redis, c1.id, t0 + 600, t0 + 642)
    await record_draft(redis, c1.id, t0 + 600, t0 + 900)  # a redraft: the first one counts
    await record_opened(redis, c1.id, t0 + 700)
    await record_opened(redis, c1.id, t0 + 750)  # opened again: the first look counts
    await record_approved(redis, c1.id, compare(DRAFT, APPROVED, sections_text(APPROVED)), t0 + 790)

    await record_offered(redis, c2, lise.id, lise.display_name, ENGINE, VERSION, t0 + 1000)
    await record_consent(redis, c2.id, "given", t0 + 1010)
    await add_audio(redis, c2.id, 12.0)
    await record_consent(redis, c2.id, "withdrawn", t0 + 1100)

    await record_offered(redis, c3, ole.id, ole.display_name, ENGINE, VERSION, t0 + 2000)
    await record_consent(redis, c3.id, "declined", t0 + 2010)

    await record_consent(redis, outside.id, "given", t0)
    await add_audio(redis, outside.id, 60.0)
    await record_draft(redis, outside.id, t0, t0 + 10)
    await record_opened(redis, outside.id, t0 + 20)
    await record_approved(redis, outside.id, compare(DRAFT, DRAFT, sections_text(DRAFT)), t0)
    await record_discarded(redis, outside.id, t0 + 30)
    return Pilot(lise, ole, c1, c2, c3, outside, t0)


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_evidence_is_recorded_only_for_offered_consultations(redis: Redis) -> None:
    p = await run_pilot(redis)
    assert not await redis.exists(keys.pilot_notetaker(p.outside.id))
    rows = await evidence_rows(redis)
    assert [r.consultation_id for r in rows] == [p.c1.id, p.c2.id, p.c3.id]
    first, second, third = rows

    assert (first.clinic_id, first.gp_id, first.gp_name) == (
        p.c1.clinic_id, p.lise.id, "Dr. Lise Holm",
    )  # fmt: skip
    assert (first.engine, first.engine_version) == (ENGINE, VERSION)
    assert (first.offered_at, first.consent, first.consent_given_at) == (p.t0, "given", p.t0 + 5)
    assert first.audio_seconds == 75.5
    assert (first.seconds_to_draft, first.seconds_to_approve) == (42, 90)
    assert first.distance == 5 + 3  # the plan's words, and the added "Fund" section's
    assert first.draft_words == len(sections_text(DRAFT).split())
    assert (first.sections_kept, first.sections_changed) == (1, 1)
    assert (first.sections_added, first.sections_removed) == (1, 0)
    assert first.section_distances == (("reason", 0), ("plan", 5), ("findings", 2))
    assert not first.discarded

    assert (second.consent, second.consent_at, second.consent_given_at) == (
        "withdrawn", p.t0 + 1100, p.t0 + 1010,
    )  # fmt: skip
    assert second.draft_at is None and second.distance is None
    assert (third.consent, third.consent_given_at, third.audio_seconds) == ("declined", None, 0)

    assert [r.consultation_id for r in await evidence_rows(redis, gp_id=p.ole.id)] == [p.c3.id]
    since = await evidence_rows(redis, since=p.t0 + 1000)
    assert [r.consultation_id for r in since] == [p.c2.id, p.c3.id]


async def test_a_second_offer_keeps_the_first_time_and_takes_the_latest_engine(
    redis: Redis,
) -> None:
    p = await run_pilot(redis)
    await record_offered(redis, p.c3, p.ole.id, p.ole.display_name, "http", "2", p.t0 + 3000)
    await record_discarded(redis, p.c3.id, p.t0 + 3100)
    [row] = await evidence_rows(redis, gp_id=p.ole.id)
    assert (row.offered_at, row.engine, row.engine_version) == (p.t0 + 2000, "http", "2")
    assert row.discarded and row.discarded_at == p.t0 + 3100
    assert await redis.zscore(keys.pilot_notetaker_offered(), p.c3.id) == p.t0 + 2000


async def test_the_evidence_holds_no_patient_name_and_no_word_of_the_note(redis: Redis) -> None:
    await run_pilot(redis)
    stored = ""
    async for key in redis.scan_iter(f"{keys.PREFIX}:pilot:*"):
        kind = await redis.type(key)
        stored += str(
            await redis.hgetall(key) if kind == "hash" else await redis.zrange(key, 0, -1)
        )
    assert "Lise" in stored  # the GP is named: it is their evidence
    for text in (PATIENT_NAME, "Karen", "hoste", "Kontrol", "lunger", "Årsag"):
        assert text not in stored


async def test_an_unknown_consent_answer_is_refused(redis: Redis) -> None:
    p = await run_pilot(redis)
    with pytest.raises(ValueError):
        await record_consent(redis, p.c1.id, "maybe", p.t0)


async def test_a_gp_sees_only_their_own_consultations(client: Client, redis: Redis) -> None:
    p = await run_pilot(redis)
    async with browser(client) as session:
        await login(session, p.lise.username)
        page = await session.get("/pilot/notetaker")
        assert page.status == 200
        assert page.headers["Cache-Control"] == "no-store"
        body = await html(page)
        export = await session.get("/pilot/notetaker.csv?format=csv-en")
        own = parse(await (await session.get(f"{EXPORT}&view=pilot")).text())
    assert f'data-consultation-id="{p.c1.id}"' in body
    assert f'data-consultation-id="{p.c2.id}"' in body
    assert p.c3.id not in body and "Ole" not in body
    assert 'data-testid="pilot-gps"' not in body
    assert 'data-testid="summary-offered">2<' in body
    assert 'data-testid="audio-minutes">1,3<' in body  # 75.5 s, in Danish
    assert 'data-testid="to-draft">42<' in body and 'data-testid="to-approve">90<' in body
    assert "Trukket tilbage" in body
    assert export.status == 200
    assert export.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = export.headers["Content-Disposition"]
    assert re.fullmatch(
        r'attachment; filename="almenvideo-notetaker-consultations-[\d-]+\.csv"', disposition
    )
    lines = parse(await export.text())
    assert [line["consultation_id"] for line in lines] == [p.c1.id, p.c2.id]
    [only] = own
    assert (only["offered"], only["consent_given"], only["consent_withdrawn"]) == ("2", "1", "1")
    assert only["gp_names"] == "Dr. Lise Holm"


async def test_the_admin_sees_every_gp_and_consultation(client: Client, redis: Redis) -> None:
    p = await run_pilot(redis)
    admin = await make_admin(redis)
    async with browser(client) as session:
        await login(session, admin.username)
        admin_page = await html(await session.get("/admin"))
        body = await html(await session.get("/pilot/notetaker"))
        english = await html(await session.get("/pilot/notetaker?lang=en"))
        consultations = await (await session.get(f"{EXPORT}&view=consultations")).text()
        per_gp = parse(await (await session.get(f"{EXPORT}&view=gp")).text())
        gp_text = await (await session.get(f"{EXPORT}&view=gp")).text()
        pilot = parse(await (await session.get(f"{EXPORT}&view=pilot")).text())
    assert 'href="/pilot/notetaker"' in admin_page
    for c in (p.c1, p.c2, p.c3):
        assert f'data-consultation-id="{c.id}"' in body
    assert p.outside.id not in body
    assert body.count('data-testid="pilot-gp"') == 2
    assert 'data-testid="summary-offered">3<' in body
    assert "Dr. Lise Holm, Dr. Ole Berg" in body
    assert "<caption" in body and 'scope="row"' in body and 'scope="col"' in body
    assert "Per consultation" in english and 'data-testid="audio-minutes">1.3<' in english

    assert consultations.splitlines()[0] == ",".join(ROW_COLUMNS)
    first, second, third = parse(consultations)
    assert (first["consultation_id"], first["gp_name"], first["consent"]) == (
        p.c1.id, "Dr. Lise Holm", "given",
    )  # fmt: skip
    assert (first["audio_seconds"], first["audio_minutes"]) == ("75.5", "1.3")
    assert (first["seconds_to_draft"], first["seconds_to_approve"]) == ("42.0", "90.0")
    assert (first["distance"], first["sections_kept"], first["sections_added"]) == ("8", "1", "1")
    assert first["section_distances"] == "reason=0;plan=5;findings=2"
    assert (second["consent"], third["consent"], third["gp_id"]) == (
        "withdrawn", "declined", p.ole.id,
    )  # fmt: skip

    assert gp_text.splitlines()[0] == ",".join(SUMMARY_COLUMNS)
    lise, ole = per_gp
    assert (lise["group"], lise["offered"], lise["approved"]) == (p.lise.id, "2", "1")
    assert (ole["group"], ole["offered"], ole["consent_declined"]) == (p.ole.id, "1", "1")
    [whole] = pilot
    assert (whole["group"], whole["offered"], whole["drafts"], whole["approved"]) == (
        "all", "3", "1", "1",
    )  # fmt: skip
    assert whole["mean_distance"] == "8.0" and whole["engines"] == f"{ENGINE} {VERSION}"


async def test_an_unknown_view_is_a_400_with_a_stable_code(client: Client, redis: Redis) -> None:
    admin = await make_admin(redis)
    async with browser(client) as session:
        await login(session, admin.username)
        response = await session.get("/pilot/notetaker.csv?view=everything")
        assert response.status == 400
        body = await response.json()
    assert body["code"] == "bad_view"
    assert body["views"] == ["consultations", "gp", "pilot"]


async def test_an_empty_pilot_says_so(client: Client, redis: Redis) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    async with browser(client) as session:
        await login(session, gp.username)
        body = await html(await session.get("/pilot/notetaker"))
        export = await (await session.get(EXPORT)).text()
    assert 'data-testid="pilot-empty"' in body
    assert export.splitlines() == [",".join(ROW_COLUMNS)]


async def test_nobody_else_may_look(client: Client, redis: Redis) -> None:
    await run_pilot(redis)
    for path in ("/pilot/notetaker", "/pilot/notetaker.csv"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == f"/login?next={path}"
    _, org_admin, nurse = await make_organisation(redis)
    for user in (org_admin, nurse):
        async with browser(client) as session:
            await login(session, user.username)
            for path in ("/pilot/notetaker", "/pilot/notetaker.csv?view=pilot"):
                response = await session.get(path, allow_redirects=False)
                assert response.status == 403
                assert "Lise" not in await response.text()


def test_every_page_string_is_in_both_languages() -> None:
    strings = {
        lang: json.loads((REPO_ROOT / "web" / "locales" / f"{lang}.json").read_text())
        for lang in ("da", "en")
    }
    template = (REPO_ROOT / "web" / "templates" / "pilot_notetaker.html").read_text()
    used = set(re.findall(r'"(pilot\.[a-z_.]*[a-z_])"', template))
    used |= {f"pilot.consent.{answer}" for answer in ("given", "declined", "withdrawn", "none")}
    pilot = {lang: {k for k in s if k.startswith("pilot.")} for lang, s in strings.items()}
    assert pilot["da"] == pilot["en"]
    assert used <= pilot["da"], used - pilot["da"]
    assert "admin.pilots_title" in strings["da"] and "admin.pilots_title" in strings["en"]
