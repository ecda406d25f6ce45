"""The note store against a real Redis: draft, approve, discard, the LPS's ack, retention."""

from __future__ import annotations

import pytest

from server.store import keys
from server.store.connection import Redis
from server.store.consultations import Consultation
from server.store.events import read_events
from server.store.notes import (
    APPROVED,
    DRAFT,
    RETENTION_SECONDS,
    Acked,
    Note,
    NoteError,
    Section,
    approve,
    delete_note,
    discard,
    get_note,
    save_draft,
    sections_text,
)
from tests.unit.factories import make_clinic, make_scheduled

SECTIONS = (
    Section("reason", "Kontaktårsag", "Hoste i tre uger."),
    Section("plan", "Plan", "Røntgen af thorax."),
)


@pytest.fixture
async def c(redis: Redis) -> Consultation:
    return await make_scheduled(redis, await make_clinic(redis))


async def note_events(redis: Redis) -> list[tuple[str, dict[str, object]]]:
    return [(kind, data) for _, kind, data in await read_events(redis) if kind.startswith("note.")]


async def test_a_draft_is_stored_with_its_sections_and_announced(
    redis: Redis, c: Consultation
) -> None:
    draft = await save_draft(redis, c, SECTIONS, engine="pocketsphinx")

    assert await get_note(redis, c.id) == draft
    assert (draft.status, draft.ai_generated, draft.engine) == (DRAFT, True, "pocketsphinx")
    assert draft.text == "Kontaktårsag\nHoste i tre uger.\n\nPlan\nRøntgen af thorax."
    ids = {"consultation_id": c.id, "clinic_id": c.clinic_id}
    assert await note_events(redis) == [("note.draft_ready", ids)]


async def test_notes_expire_after_the_retention_given(redis: Redis, c: Consultation) -> None:
    await save_draft(redis, c, SECTIONS, engine="x", ttl_seconds=600)
    assert 590 <= await redis.ttl(keys.consultation_note(c.id)) <= 600

    await approve(redis, c, "gp-1")  # an edit keeps the time left
    assert 590 <= await redis.ttl(keys.consultation_note(c.id)) <= 600


async def test_the_default_retention_is_seven_days(redis: Redis, c: Consultation) -> None:
    await save_draft(redis, c, SECTIONS, engine="x")
    assert RETENTION_SECONDS == 7 * 24 * 3600
    assert await redis.ttl(keys.consultation_note(c.id)) >= RETENTION_SECONDS - 10


async def test_approving_as_drafted(redis: Redis, c: Consultation) -> None:
    draft = await save_draft(redis, c, SECTIONS, engine="x")

    note = await approve(redis, c, "gp-1")

    assert (note.status, note.approved_by, note.text) == (APPROVED, "gp-1", draft.text)
    assert note.sections == SECTIONS and note.ai_generated
    assert note.approved_at is not None and note.created_at == draft.created_at
    assert await get_note(redis, c.id) == note
    assert [kind for kind, _ in await note_events(redis)] == ["note.draft_ready", "note.approved"]


async def test_approving_edited_sections_rewrites_the_text(redis: Redis, c: Consultation) -> None:
    await save_draft(redis, c, SECTIONS, engine="x")
    edited = (*SECTIONS[:1], Section("plan", "Plan", "Røntgen og spirometri."))

    note = await approve(redis, c, "gp-1", sections=edited)

    assert note.sections == edited and note.text == sections_text(edited)


async def test_approving_free_text_drops_the_drafted_sections(
    redis: Redis, c: Consultation
) -> None:
    await save_draft(redis, c, SECTIONS, engine="x")

    note = await approve(redis, c, "gp-1", text="Hoste. Røntgen.")

    assert (note.text, note.sections) == ("Hoste. Røntgen.", ())


async def test_a_gp_may_approve_a_note_of_their_own_without_a_draft(
    redis: Redis, c: Consultation
) -> None:
    note = await approve(redis, c, "gp-1", text="Telefonisk opfølgning aftalt.")

    assert (note.status, note.ai_generated, note.engine) == (APPROVED, False, "")


async def test_an_empty_note_cannot_be_approved(redis: Redis, c: Consultation) -> None:
    with pytest.raises(NoteError) as error:
        await approve(redis, c, "gp-1", text="  ")
    assert error.value.code == "empty_note"
    assert await get_note(redis, c.id) is None


async def test_a_draft_never_overwrites_an_approved_note(redis: Redis, c: Consultation) -> None:
    await save_draft(redis, c, SECTIONS, engine="x")
    approved = await approve(redis, c, "gp-1")

    with pytest.raises(NoteError) as error:
        await save_draft(redis, c, (), engine="x", text="a late draft")

    assert error.value.code == "note_approved"
    assert await get_note(redis, c.id) == approved


async def test_discarding_removes_the_draft_only(redis: Redis, c: Consultation) -> None:
    await save_draft(redis, c, SECTIONS, engine="x")

    assert await discard(redis, c)
    assert await get_note(redis, c.id) is None
    assert not await discard(redis, c)

    approved = await approve(redis, c, "gp-1", text="Skrevet af lægen.")
    assert not await discard(redis, c)
    assert await get_note(redis, c.id) == approved
    assert "note.discarded" in [kind for kind, _ in await note_events(redis)]


async def test_the_ack_deletes_the_note_and_keeps_only_when(redis: Redis, c: Consultation) -> None:
    await save_draft(redis, c, SECTIONS, engine="x")
    await approve(redis, c, "gp-1")

    acked = await delete_note(redis, c, ttl_seconds=300)

    stored = await get_note(redis, c.id)
    assert isinstance(stored, Acked) and stored == acked
    raw = await redis.get(keys.consultation_note(c.id))
    assert raw is not None and "Hoste" not in raw
    assert 290 <= await redis.ttl(keys.consultation_note(c.id)) <= 300
    assert [kind for kind, _ in await note_events(redis)][-1] == "note.acked"


async def test_a_repeated_ack_is_harmless(redis: Redis, c: Consultation) -> None:
    await approve(redis, c, "gp-1", text="Note.")
    first = await delete_note(redis, c)

    assert await delete_note(redis, c) == first
    assert [kind for kind, _ in await note_events(redis)].count("note.acked") == 1


@pytest.mark.parametrize(("draft", "code"), [(False, "no_note"), (True, "note_not_approved")])
async def test_only_an_approved_note_can_be_acked(
    redis: Redis, c: Consultation, draft: bool, code: str
) -> None:
    if draft:
        await save_draft(redis, c, SECTIONS, engine="x")

    with pytest.raises(NoteError) as error:
        await delete_note(redis, c)

    assert error.value.code == code
    assert isinstance(await get_note(redis, c.id), Note if draft else type(None))


async def test_a_filed_note_cannot_be_approved_again(redis: Redis, c: Consultation) -> None:
    await approve(redis, c, "gp-1", text="Note.")
    await delete_note(redis, c)

    with pytest.raises(NoteError) as error:
        await approve(redis, c, "gp-1", text="Changed my mind.")
    assert error.value.code == "note_deleted"
