"""The note-taker in one consultation: its state, the consent log, and the live transcript.

State moves: offered -> consented | declined; consented -> listening -> drafting -> drafted
(or failed); offered, consented or listening -> withdrawn. A GP may offer again after a
decline, a withdrawal or a failure; the patient then answers again.

The state hash holds no content. The consent log holds who answered, when, to which text
version and how; it outlives a withdrawal, because it is the proof of one. The transcript
is the only content here, and a segment is stored only while the state is listening or
drafting, checked in the same step, so a withdrawal can never be followed by a stored word.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum

from server.clock import now
from server.store import decoded, keys
from server.store.connection import Redis
from server.store.consultations import RETENTION_SECONDS as CONSULTATION_RETENTION
from server.store.durability import confirm_replicated


class Phase(StrEnum):
    """Where a consultation's note-taker stands (server/notetaker/control.py moves it)."""

    OFF = ""
    OFFERED = "offered"
    DECLINED = "declined"
    CONSENTED = "consented"
    LISTENING = "listening"
    DRAFTING = "drafting"
    DRAFTED = "drafted"
    WITHDRAWN = "withdrawn"
    FAILED = "failed"


# States in which a GP may offer the note-taker (again).
OFFERABLE = frozenset({Phase.OFF, Phase.DECLINED, Phase.WITHDRAWN, Phase.FAILED})
# States in which audio may be captured and its words kept.
CAPTURING = frozenset({Phase.LISTENING, Phase.DRAFTING})
# States a withdrawal applies to: anything that has not produced its draft.
WITHDRAWABLE = frozenset({Phase.OFFERED, Phase.CONSENTED, Phase.LISTENING, Phase.DRAFTING})


@dataclass(frozen=True)
class NoteTakerState:
    consultation_id: str
    state: Phase
    engine: str = ""
    engine_version: str = ""
    reason: str = ""  # why it failed or who withdrew
    consent_version: str = ""
    updated_at: float = 0.0


@dataclass(frozen=True)
class Segment:
    """One settled utterance of the transcript, as the engine gave it; draft sections cite
    it by `segment_id`."""

    segment_id: str
    speaker: str
    start: float
    end: float
    text: str
    confidence: float


@dataclass(frozen=True)
class ConsentRecord:
    answer: str  # given | declined | withdrawn
    participant_id: str
    role: str  # patient | gp | staff
    at: float
    text_version: str  # the consent text shown (withdrawals: the one agreed to)
    language: str
    how: str  # e.g. "patient screen, consent dialog"


async def get_state(redis: Redis, consultation_id: str) -> NoteTakerState | None:
    h = decoded.fields(await redis.hgetall(keys.consultation_notetaker(consultation_id)))
    if not h:
        return None
    return NoteTakerState(
        consultation_id,
        Phase(h.get("state", "")),
        h.get("engine", ""),
        h.get("engine_version", ""),
        h.get("reason", ""),
        h.get("consent_version", ""),
        float(h.get("updated_at", 0)),
    )


async def set_state(
    redis: Redis, consultation_id: str, state: Phase, *, only_from: frozenset[Phase] | None = None,
    **fields: str,
) -> bool:  # fmt: skip
    """Move to `state` (with other fields); with `only_from`, only if the current state is
    one of those, atomically. Returns whether it moved."""
    key = keys.consultation_notetaker(consultation_id)
    mapping = {"state": state, "updated_at": f"{now():.3f}", **fields}
    allowed = [] if only_from is None else sorted(only_from)
    moved = await redis.eval(
        _SET_STATE, 1, key, str(CONSULTATION_RETENTION), json.dumps(allowed),
        json.dumps(mapping), "1" if only_from is None else "0",
    )  # fmt: skip
    return bool(moved)


_SET_STATE = """
local allowed = cjson.decode(ARGV[2])
if ARGV[4] ~= "1" then
  local current = redis.call('HGET', KEYS[1], 'state') or ''
  local ok = false
  for _, s in ipairs(allowed) do if s == current then ok = true end end
  if not ok then return 0 end
end
for k, v in pairs(cjson.decode(ARGV[3])) do redis.call('HSET', KEYS[1], k, v) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


async def add_consent(redis: Redis, consultation_id: str, record: ConsentRecord) -> None:
    key = keys.consultation_consent(consultation_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(key, json.dumps(asdict(record)))
        pipe.expire(key, CONSULTATION_RETENTION)
        await pipe.execute()
    await confirm_replicated(redis)


async def consent_log(redis: Redis, consultation_id: str) -> list[ConsentRecord]:
    rows = await redis.lrange(keys.consultation_consent(consultation_id), 0, -1)
    return [ConsentRecord(**json.loads(row)) for row in rows]


async def append_segment(
    redis: Redis, consultation_id: str, segment: Segment, ttl_seconds: int
) -> bool:
    """Keep one settled utterance, only while capturing. Returns whether it was kept."""
    kept = await redis.eval(
        _APPEND_SEGMENT, 2, keys.consultation_notetaker(consultation_id),
        keys.consultation_transcript(consultation_id), json.dumps(asdict(segment)),
        str(ttl_seconds), *sorted(CAPTURING),
    )  # fmt: skip
    return bool(kept)


_APPEND_SEGMENT = """
local current = redis.call('HGET', KEYS[1], 'state')
for i = 3, #ARGV do
  if ARGV[i] == current then
    redis.call('RPUSH', KEYS[2], ARGV[1])
    redis.call('EXPIRE', KEYS[2], ARGV[2])
    return 1
  end
end
return 0
"""


async def transcript(redis: Redis, consultation_id: str) -> list[Segment]:
    rows = await redis.lrange(keys.consultation_transcript(consultation_id), 0, -1)
    return [Segment(**json.loads(row)) for row in rows]
