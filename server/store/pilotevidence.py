"""The note-taker pilot's evidence in Redis: one hash per consultation the note-taker was
offered in, and an index of them by when it was first offered.

Only pilot consultations have evidence: every recorder but `record_offered` does nothing
unless the consultation was offered, checked in the same step as the write. Nothing here
names a patient or holds a word of a note or transcript, only ids, times, counts and the
engine, because the evidence is kept after the notes are gone. Where a step can happen
more than once, the first counts for timings (the first offer, draft and opening), and the
latest for outcomes (the consent answer, the approved note).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from server.pilots.evidence import CONSENT_ANSWERS, GIVEN, EvidenceRow
from server.pilots.notecomparison import Comparison
from server.store import decoded, keys
from server.store.connection import Redis
from server.store.consultations import Consultation

# Apply (command, field, value) triples to the hash, only if it exists: one atomic step,
# so a recorder racing the offer never creates a row for a consultation outside the pilot.
_IF_OFFERED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 3 do
  redis.call(ARGV[i], KEYS[1], ARGV[i + 1], ARGV[i + 2])
end
return 1
"""

Change = tuple[str, str, str | float]  # (hash command, field, value)


async def _if_offered(redis: Redis, consultation_id: str, *changes: Change) -> None:
    args = [part for change in changes for part in change]
    await redis.register_script(_IF_OFFERED)(
        keys=[keys.pilot_notetaker(consultation_id)], args=args
    )


async def record_offered(
    redis: Redis,
    c: Consultation,
    gp_id: str,
    gp_name: str,
    engine: str,
    engine_version: str,
    at: float,
) -> None:
    """The GP offered the note-taker: the consultation joins the pilot. Offered again (after
    a decline, say), the first offer's time stays and the GP and engine are the latest."""
    key = keys.pilot_notetaker(c.id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hsetnx(key, "offered_at", at)
        pipe.hset(
            key,
            mapping={
                "consultation_id": c.id,
                "clinic_id": c.clinic_id,
                "gp_id": gp_id,
                "gp_name": gp_name,
                "engine": engine,
                "engine_version": engine_version,
            },
        )
        pipe.zadd(keys.pilot_notetaker_offered(), {c.id: at}, nx=True)
        await pipe.execute()


async def record_consent(redis: Redis, consultation_id: str, answer: str, at: float) -> None:
    """The patient's latest answer wins; the first "given" is kept, so a withdrawal still
    shows that consent had been given."""
    if answer not in CONSENT_ANSWERS:
        raise ValueError(f"unknown consent answer {answer!r}")
    changes: list[Change] = [("HSET", "consent", answer), ("HSET", "consent_at", at)]
    if answer == GIVEN:
        changes.append(("HSETNX", "consent_given_at", at))
    await _if_offered(redis, consultation_id, *changes)


async def add_audio(redis: Redis, consultation_id: str, seconds: float) -> None:
    """Seconds of audio tapped, every speaker's added up."""
    await _if_offered(redis, consultation_id, ("HINCRBYFLOAT", "audio_seconds", seconds))


async def record_draft(
    redis: Redis, consultation_id: str, call_ended_at: float | None, at: float
) -> None:
    """The first draft is when the GP first had a note to read; a redraft changes nothing."""
    changes: list[Change] = [("HSETNX", "draft_at", at)]
    if call_ended_at is not None:
        changes.append(("HSETNX", "call_ended_at", call_ended_at))
    await _if_offered(redis, consultation_id, *changes)


async def record_opened(redis: Redis, consultation_id: str, at: float) -> None:
    """Only the GP's first look at the draft counts: time to approve runs from there."""
    await _if_offered(redis, consultation_id, ("HSETNX", "opened_at", at))


async def record_approved(
    redis: Redis, consultation_id: str, comparison: Comparison, at: float
) -> None:
    """The GP approved the note; approved again, the latest approval's figures stand."""
    distances = {s.key: s.distance for s in comparison.sections}
    await _if_offered(
        redis,
        consultation_id,
        ("HSET", "approved_at", at),
        ("HSET", "distance", comparison.distance),
        ("HSET", "draft_words", comparison.draft_words),
        ("HSET", "sections_kept", comparison.kept),
        ("HSET", "sections_changed", comparison.changed),
        ("HSET", "sections_added", comparison.added),
        ("HSET", "sections_removed", comparison.removed),
        ("HSET", "section_distances", json.dumps(distances)),
    )


async def record_discarded(redis: Redis, consultation_id: str, at: float) -> None:
    await _if_offered(redis, consultation_id, ("HSET", "discarded_at", at))


def _float(h: dict[str, str], name: str) -> float | None:
    return float(h[name]) if h.get(name) else None


def _int(h: dict[str, str], name: str) -> int | None:
    return int(h[name]) if h.get(name) else None


def _row(h: dict[str, str]) -> EvidenceRow:
    distances: dict[str, int] = json.loads(h.get("section_distances") or "{}")
    return EvidenceRow(
        consultation_id=h["consultation_id"],
        clinic_id=h.get("clinic_id", ""),
        gp_id=h.get("gp_id", ""),
        gp_name=h.get("gp_name", ""),
        engine=h.get("engine", ""),
        engine_version=h.get("engine_version", ""),
        offered_at=_float(h, "offered_at"),
        consent=h.get("consent", ""),
        consent_at=_float(h, "consent_at"),
        consent_given_at=_float(h, "consent_given_at"),
        audio_seconds=_float(h, "audio_seconds") or 0.0,
        call_ended_at=_float(h, "call_ended_at"),
        draft_at=_float(h, "draft_at"),
        opened_at=_float(h, "opened_at"),
        approved_at=_float(h, "approved_at"),
        discarded_at=_float(h, "discarded_at"),
        distance=_int(h, "distance"),
        draft_words=_int(h, "draft_words"),
        sections_kept=_int(h, "sections_kept"),
        sections_changed=_int(h, "sections_changed"),
        sections_added=_int(h, "sections_added"),
        sections_removed=_int(h, "sections_removed"),
        section_distances=tuple(distances.items()),
    )


async def evidence_rows(
    redis: Redis, *, gp_id: str | None = None, since: float | None = None
) -> list[EvidenceRow]:
    """The pilot's consultations offered at or after `since` (all by default), first offered
    first; only one GP's with `gp_id`."""
    ids = decoded.strings(
        await redis.zrangebyscore(
            keys.pilot_notetaker_offered(), "-inf" if since is None else since, "+inf"
        )
    )
    async with redis.pipeline(transaction=False) as pipe:
        for consultation_id in ids:
            pipe.hgetall(keys.pilot_notetaker(consultation_id))
        hashes: list[dict[str, str]] = await pipe.execute()
    rows = [_row(h) for h in hashes if h]
    return [r for r in rows if gp_id is None or r.gp_id == gp_id]


async def record_held(redis: Redis, gp_id: str, consultation_id: str, at: float) -> None:
    """The GP held a consultation (its call ended with a billing code): the denominator of
    the note-taker's use."""
    await redis.zadd(keys.gp_consultations_held(gp_id), {consultation_id: at})


async def held_counts(redis: Redis, gp_ids: Iterable[str]) -> dict[str, int]:
    """GP id -> consultations held, for the evidence's shares."""
    ids = sorted(set(gp_ids))
    async with redis.pipeline(transaction=False) as pipe:
        for gp_id in ids:
            pipe.zcard(keys.gp_consultations_held(gp_id))
        counts = await pipe.execute()
    return dict(zip(ids, (int(n) for n in counts), strict=True))
