"""A clinic's absences (holiday, course, other): when, and which clinic stands in meanwhile.

Start and end are UTC epoch seconds; the end is exclusive. An absence that has ended is of
no further use, so it is dropped the next time the clinic's list changes.

The clinic's settings page and the LPS API enter absences under the same rules, which live
here (`period_problem`, `substitute_name_ok`) and which `add_absence` insists on.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from server.auth.tokens import new_id
from server.daterange import FIRST_DAY, LAST_DAY, within
from server.phone import phone_ok
from server.store import decoded, keys
from server.store.connection import Redis

HOLIDAY = "holiday"
COURSE = "course"
OTHER = "other"
KINDS = (HOLIDAY, COURSE, OTHER)

MAX_DAYS = 366  # an absence lasts at most a year
MAX_TEXT = 100  # the substitute's name

# What `period_problem` finds, in words for API clients and logs.
PERIOD_PROBLEMS = {
    "past": "an absence must end after now",
    "order": "an absence must end after it starts",
    "long": f"an absence lasts at most {MAX_DAYS} days",
    "range": f"an absence lies from {FIRST_DAY} to {LAST_DAY}",
}


class AbsenceProblem(ValueError):
    """`code` names what is wrong: "kind", "substitute", or a `PERIOD_PROBLEMS` key."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Substitute:
    """The clinic that takes the patients meanwhile; patients are told to call it."""

    name: str
    phone: str


@dataclass(frozen=True)
class Absence:
    id: str
    clinic_id: str
    kind: str
    start: float
    end: float
    substitute: Substitute

    def covers(self, at: float) -> bool:
        return self.start <= at < self.end

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> Absence:
        d = json.loads(raw)
        return cls(
            d["id"], d["clinic_id"], d["kind"], float(d["start"]), float(d["end"]),
            Substitute(**d["substitute"]),
        )  # fmt: skip


def period_problem(start: float | None, end: float, at: float) -> str | None:
    """What is wrong with an absence ending at `end`, entered at `at` ("range", "past",
    "order" or "long"), or None. Without a (valid) `start`, only the end is judged."""
    if not within(end) or (start is not None and not within(start)):
        return "range"
    if end <= at:
        return "past"
    if start is None:
        return None
    if end <= start:
        return "order"
    if end - start > MAX_DAYS * 86400:
        return "long"
    return None


def substitute_name_ok(name: str) -> bool:
    return bool(name) and len(name) <= MAX_TEXT and name.isprintable()


def _check(kind: str, start: float, end: float, substitute: Substitute, at: float) -> None:
    if kind not in KINDS:
        raise AbsenceProblem("kind", f"unknown absence kind {kind!r}")
    problem = period_problem(start, end, at)
    if problem:
        raise AbsenceProblem(problem, PERIOD_PROBLEMS[problem])
    if not substitute_name_ok(substitute.name) or not phone_ok(substitute.phone):
        raise AbsenceProblem("substitute", "the substitute needs a name and a phone number")


async def add_absence(
    redis: Redis,
    clinic_id: str,
    kind: str,
    start: float,
    end: float,
    substitute: Substitute,
    at: float,
) -> Absence:
    """Record an absence; `at` (now) judges "past", and drops ended absences from the list."""
    _check(kind, start, end, substitute, at)
    absence = Absence(new_id(), clinic_id, kind, start, end, substitute)
    ended = [a.id for a in await list_absences(redis, clinic_id) if a.end <= at]
    async with redis.pipeline(transaction=True) as pipe:
        if ended:
            pipe.hdel(keys.clinic_absences(clinic_id), *ended)
        pipe.hset(keys.clinic_absences(clinic_id), absence.id, absence.to_json())
        await pipe.execute()
    return absence


async def list_absences(redis: Redis, clinic_id: str) -> list[Absence]:
    """The clinic's absences, earliest first."""
    rows = decoded.strings(await redis.hvals(keys.clinic_absences(clinic_id)))
    return sorted((Absence.from_json(raw) for raw in rows), key=lambda a: (a.start, a.end, a.id))


async def remove_absence(redis: Redis, clinic_id: str, absence_id: str) -> bool:
    """Remove one of this clinic's absences; False if the clinic has no such absence."""
    return bool(await redis.hdel(keys.clinic_absences(clinic_id), absence_id))
