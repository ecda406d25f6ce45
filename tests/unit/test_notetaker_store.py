"""The note-taker's state, consent log and transcript against a real Redis."""

from __future__ import annotations

import pytest

from server.store import keys
from server.store import notetaker as store
from server.store.connection import Redis
from server.store.consultations import Consultation
from server.store.notes import DRAFT, Note, Section, approve, get_note, purge_draft, save_draft
from tests.unit.factories import make_clinic, make_scheduled

SEGMENT = store.Segment("patient-1", "patient", 1.0, 2.5, "I have pain", 0.8)


@pytest.fixture
async def c(redis: Redis) -> Consultation:
    return await make_scheduled(redis, await make_clinic(redis))


async def test_a_move_from_a_state_not_allowed_changes_nothing(
    redis: Redis, c: Consultation
) -> None:
    assert await store.set_state(redis, c.id, store.Phase.OFFERED, only_from=store.OFFERABLE)
    assert not await store.set_state(redis, c.id, store.Phase.OFFERED, only_from=store.OFFERABLE)
    assert not await store.set_state(
        redis, c.id, store.Phase.LISTENING, only_from=frozenset({store.Phase.DRAFTED})
    )
    state = await store.get_state(redis, c.id)
    assert state is not None and state.state == store.Phase.OFFERED
    assert await redis.ttl(keys.consultation_notetaker(c.id)) > 0


async def test_segments_are_kept_only_while_capturing(redis: Redis, c: Consultation) -> None:
    await store.set_state(redis, c.id, store.Phase.CONSENTED)
    assert not await store.append_segment(redis, c.id, SEGMENT, 60)
    await store.set_state(redis, c.id, store.Phase.LISTENING)
    assert await store.append_segment(redis, c.id, SEGMENT, 60)
    await store.set_state(redis, c.id, store.Phase.WITHDRAWN)
    assert not await store.append_segment(redis, c.id, SEGMENT, 60)
    assert await store.transcript(redis, c.id) == [SEGMENT]
    assert 0 < await redis.ttl(keys.consultation_transcript(c.id)) <= 60


async def test_the_consent_log_keeps_every_answer_in_order(redis: Redis, c: Consultation) -> None:
    given = store.ConsentRecord("given", "p1", "patient", 10.0, "v1", "da", "dialog")
    withdrawn = store.ConsentRecord("withdrawn", "g1", "gp", 20.0, "v1", "", "button")
    await store.add_consent(redis, c.id, given)
    await store.add_consent(redis, c.id, withdrawn)
    assert await store.consent_log(redis, c.id) == [given, withdrawn]


async def test_a_purge_takes_the_draft_and_transcript_but_not_an_approved_note(
    redis: Redis, c: Consultation
) -> None:
    await store.set_state(redis, c.id, store.Phase.LISTENING)
    await store.append_segment(redis, c.id, SEGMENT, 60)
    await save_draft(
        redis,
        c,
        [Section("transcript.patient", "Patient", "I have pain", ("patient-1",))],
        engine="e",
    )
    draft = await get_note(redis, c.id)
    assert isinstance(draft, Note) and draft.status == DRAFT
    assert draft.sections[0].spans == ("patient-1",)
    await purge_draft(redis, c.id)
    assert await get_note(redis, c.id) is None
    assert await store.transcript(redis, c.id) == []

    await approve(redis, c, "gp-1", text="Written by the GP.")
    await purge_draft(redis, c.id)
    assert isinstance(await get_note(redis, c.id), Note)
