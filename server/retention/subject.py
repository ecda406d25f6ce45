"""Subject access (GDPR art. 15): everything the platform holds about one patient.

A patient is found by consultation id, or by CPR number through its keyed hash (the number
itself is never stored: `server.auth.cprkey`). For each consultation the export holds the
record, its participants, messages, consent records, the note-taker's state, the note and
transcript while they are still held, invitations, the technical call report, pilot
evidence, the domain events naming it, and every audit entry naming it: who read it, and
when. Secrets (token and resume hashes, the CPR
hash) are said to be held, never shown.
"""

from __future__ import annotations

import json
from typing import Any

from server.auth.cprkey import CprKey
from server.clock import iso_utc
from server.retention.clinics import scan_names
from server.store import decoded, keys
from server.store.connection import Redis
from server.store.cpr import CPR

SECRET_FIELDS = ("link_hash", "cpr_hash", "resume_hash")
_PARTS = (
    ("messages", keys.consultation_messages),
    ("consent", keys.consultation_consent),
    ("notetaker", keys.consultation_notetaker),
    ("note", keys.consultation_note),
    ("transcript", keys.consultation_transcript),
)


def _hidden(h: dict[str, str]) -> dict[str, str]:
    return {k: ("(held as a hash)" if k in SECRET_FIELDS and v else v) for k, v in h.items()}


def _parsed(raw: str) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


async def _value(redis: Redis, name: str) -> object:
    kind = decoded.text(await redis.type(name))
    if kind == "string":
        return _parsed(decoded.text(await redis.get(name)) or "")
    if kind == "list":
        return [_parsed(decoded.text(v)) for v in await redis.lrange(name, 0, -1)]
    if kind == "hash":
        return decoded.fields(await redis.hgetall(name))
    return None


async def consultations_for_cpr_hash(redis: Redis, cpr_hash: str) -> list[str]:
    depth = keys.consultation("x").count(":")
    found = []
    for name in await scan_names(redis, keys.consultation("*")):
        if (
            name.count(":") == depth
            and decoded.text(await redis.hget(name, "cpr_hash")) == cpr_hash
        ):
            found.append(name.rsplit(":", 1)[1])
    return sorted(found)


async def _naming(redis: Redis, stream: str, ids: set[str]) -> list[dict[str, str]]:
    """Every entry of the stream whose data names one of `ids`, oldest first (all of it)."""
    found: list[dict[str, str]] = []
    start = "-"
    while True:
        rows = decoded.entries(await redis.xrange(stream, start, "+", count=1000))
        for _, fields in rows:
            data = json.loads(fields.get("data", "{}"))
            named = {str(v) for v in data.values() if not isinstance(v, list)}
            named |= {str(x) for v in data.values() if isinstance(v, list) for x in v}
            if ids & named:
                found.append(fields)
        if len(rows) < 1000:
            return found
        start = f"({rows[-1][0]}"


async def audit_naming(redis: Redis, ids: set[str]) -> list[dict[str, object]]:
    """Who read or changed the consultations, and when."""
    return [
        {
            "at": iso_utc(float(f.get("at", 0))),
            "action": f["action"],
            "actor": f["actor"],
            "data": json.loads(f["data"]),
        }
        for f in await _naming(redis, keys.AUDIT, ids)
    ]


async def events_naming(redis: Redis, ids: set[str]) -> list[dict[str, object]]:
    """What happened to the consultations (the domain events, until the stream's cap)."""
    return [
        {
            "at": iso_utc(int(f.get("at", 0)) / 1000),
            "type": f["type"],
            "data": json.loads(f["data"]),
        }
        for f in await _naming(redis, keys.EVENTS, ids)
    ]


async def subject_export(redis: Redis, consultation_ids: list[str]) -> dict[str, Any]:
    consultations = []
    held = set()
    for cid in consultation_ids:
        record = decoded.fields(await redis.hgetall(keys.consultation(cid)))
        if not record:
            continue
        held.add(cid)
        entry: dict[str, Any] = {"consultation": _hidden(record)}
        for label, part in _PARTS:
            entry[label] = await _value(redis, part(cid))
        entry["participants"] = [
            _hidden(decoded.fields(await redis.hgetall(name)))
            for name in await scan_names(redis, keys.participant("*"))
            if name.count(":") == keys.participant("x").count(":")
            and decoded.text(await redis.hget(name, "consultation_id")) == cid
        ]
        entry["invitations"] = [
            decoded.fields(await redis.hgetall(keys.invitation(i)))
            for i in sorted(
                decoded.members(await redis.smembers(keys.consultation_invitations(cid)))
            )
        ]
        attempt = decoded.text(await redis.get(keys.consultation_attempt(cid)))
        entry["call_report"] = (
            decoded.fields(await redis.hgetall(keys.call_attempt(attempt))) if attempt else None
        ) or None
        entry["pilot_evidence"] = (
            decoded.fields(await redis.hgetall(keys.pilot_notetaker(cid))) or None
        )
        consultations.append(entry)
    return {
        "consultations": consultations,
        "events": await events_naming(redis, held),
        "audit": await audit_naming(redis, held),
        "note": "Held on the video platform only; the patient's record is in the clinic's LPS.",
    }


async def export_for(
    redis: Redis, cpr_key: CprKey, *, cpr: str = "", consultation: str = ""
) -> dict[str, Any]:
    """By CPR (matched through its keyed hash) or by consultation id."""
    if cpr:
        if not CPR.match(cpr):
            raise ValueError("not a CPR number (DDMMYY-SSSS)")
        ids = await consultations_for_cpr_hash(redis, cpr_key.hash(cpr))
    else:
        ids = [consultation]
    return await subject_export(redis, ids)
