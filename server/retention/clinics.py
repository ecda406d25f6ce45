"""Deleting a cancelled clinic's data, and only that.

What goes is every row of scope *clinic* in the retention table: its consultations with
everything hanging off them, its links, queue, absences, directory entry, accounts and
sessions. What stays is scope *kept*: capacities and LPS vendor (invoices), the honoraria
ledger and the audit stream, which name people only by ids that no longer resolve. The
clinic's pilot evidence loses the GP's name.

The plan is gathered first and carried out in one go, so a dry run reports exactly what a
real run would delete. Counts are by key family, never contents.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from server.signalling.authority import end_user_sessions
from server.store import decoded, keys
from server.store.connection import Redis

_CONSULTATION_PARTS = (
    ("consultation_messages", keys.consultation_messages),
    ("consultation_notetaker", keys.consultation_notetaker),
    ("consultation_consent", keys.consultation_consent),
    ("consultation_transcript", keys.consultation_transcript),
    ("consultation_note", keys.consultation_note),
    ("call_members", keys.call_members),
    ("consultation_invitations", keys.consultation_invitations),
    ("consultation_attempt", keys.consultation_attempt),
)

_CLINIC_PARTS = (
    ("clinic_queue", keys.clinic_queue),
    ("clinic_queue_count", keys.clinic_queue_count),
    ("clinic_durations", keys.clinic_durations),
    ("clinic_gps_online", keys.clinic_gps_online),
    ("clinic_absences", keys.clinic_absences),
    ("clinic_users", keys.clinic_users),
    ("clinic_lobby", keys.clinic_lobby),
)


# Of the table's scope *clinic*: what the plan names key by key, what it removes from a
# shared hash or set, and what ends on its own within a minute (TTL) whatever is done.
PLANNED = frozenset(
    {family for family, _ in _CONSULTATION_PARTS}
    | {family for family, _ in _CLINIC_PARTS}
    | {
        "consultation", "join_link", "consultation_by_external", "call_attempt",
        "invitation", "invitation_by_token", "participant", "clinic", "clinic_by_ydernummer",
        "clinic_day", "dropin_link", "user", "username", "login_known_addresses",
        "user_sessions", "session", "embed_session",
    }
)  # fmt: skip
REMOVED_FROM_SHARED = frozenset({"CLINIC_LAST_ACCESS", "CLINIC_INACTIVITY_WARNINGS"})
ENDED_BY_TTL = frozenset({"presence", "embed_token"})


@dataclass
class Plan:
    """Keys to delete, by family; members and fields to remove; evidence rows to strip."""

    deletions: dict[str, set[str]] = field(default_factory=dict)
    call_attempts: set[str] = field(default_factory=set)
    participants: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    evidence: set[str] = field(default_factory=set)

    def delete(self, family: str, key: str) -> None:
        assert family in PLANNED, f"{family} is not in PLANNED"
        self.deletions.setdefault(family, set()).add(key)

    def counts(self) -> Counter[str]:
        counted = Counter({family: len(found) for family, found in self.deletions.items()})
        if self.evidence:
            counted["pilot_notetaker (pseudonymised)"] = len(self.evidence)
        return counted


async def _existing(redis: Redis, names: list[str]) -> list[bool]:
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.exists(name)
        return [bool(n) for n in await pipe.execute()]


async def scan_names(redis: Redis, pattern: str) -> list[str]:
    return [decoded.text(raw) async for raw in redis.scan_iter(match=pattern, count=1000)]


async def clinic_consultations(redis: Redis, clinic_id: str) -> list[dict[str, str]]:
    """Every consultation record of the clinic still held (a SCAN: day lists expire)."""
    depth = keys.consultation("x").count(":")
    found = []
    for name in await scan_names(redis, keys.consultation("*")):
        if name.count(":") != depth:
            continue  # a consultation's sub-key (messages, note, ...)
        h = decoded.fields(await redis.hgetall(name))
        if h.get("clinic_id") == clinic_id:
            found.append(h)
    return found


async def plan_clinic_deletion(redis: Redis, clinic_id: str) -> Plan:
    plan = Plan()
    consultations = await clinic_consultations(redis, clinic_id)
    consultation_ids = {c["id"] for c in consultations}
    invitation_ids: set[str] = set()
    for c in consultations:
        cid = c["id"]
        plan.delete("consultation", keys.consultation(cid))
        for family, part in _CONSULTATION_PARTS:
            plan.delete(family, part(cid))
        if c.get("link_hash"):
            plan.delete("join_link", keys.join_link(c["link_hash"]))
        if c.get("vendor_id") and c.get("external_id"):
            plan.delete(
                "consultation_by_external",
                keys.consultation_by_external(c["vendor_id"], c["external_id"]),
            )
        attempt = decoded.text(await redis.get(keys.consultation_attempt(cid)))
        if attempt:
            plan.delete("call_attempt", keys.call_attempt(attempt))
            plan.call_attempts.add(attempt)
        ids = decoded.members(await redis.smembers(keys.consultation_invitations(cid)))
        invitation_ids |= ids
        for invitation_id in ids:
            plan.delete("invitation", keys.invitation(invitation_id))
        if await redis.exists(keys.pilot_notetaker(cid)):
            plan.evidence.add(cid)
    for name in await scan_names(redis, keys.participant("*")):
        if name.count(":") != keys.participant("x").count(":"):
            continue
        if decoded.text(await redis.hget(name, "consultation_id")) in consultation_ids:
            plan.delete("participant", name)
            plan.participants.add(name.rsplit(":", 1)[1])
    if invitation_ids:
        for name in await scan_names(redis, keys.invitation_by_token("*")):
            if decoded.text(await redis.get(name)) in invitation_ids:
                plan.delete("invitation_by_token", name)
    await _plan_clinic(redis, clinic_id, plan)
    await _plan_accounts(redis, clinic_id, plan)
    # Sub-keys that were never written (no messages, no note...) are not counted.
    for family, names in plan.deletions.items():
        ordered = sorted(names)
        plan.deletions[family] = {
            n for n, there in zip(ordered, await _existing(redis, ordered), strict=True) if there
        }
    plan.deletions = {f: n for f, n in plan.deletions.items() if n}
    return plan


async def _plan_clinic(redis: Redis, clinic_id: str, plan: Plan) -> None:
    plan.delete("clinic", keys.clinic(clinic_id))
    ydernummer = decoded.text(await redis.hget(keys.clinic(clinic_id), "ydernummer"))
    if ydernummer:
        plan.delete("clinic_by_ydernummer", keys.clinic_by_ydernummer(ydernummer))
    for family, part in _CLINIC_PARTS:
        plan.delete(family, part(clinic_id))
    for name in await scan_names(redis, keys.clinic_day(clinic_id, "*")):
        plan.delete("clinic_day", name)
    for name in await scan_names(redis, keys.dropin_link("*")):
        top = name.count(":") == keys.dropin_link("x").count(":")
        if top and decoded.text(await redis.get(name)) == clinic_id:
            plan.delete("dropin_link", name)


async def _plan_accounts(redis: Redis, clinic_id: str, plan: Plan) -> None:
    for user_id in decoded.members(await redis.smembers(keys.clinic_users(clinic_id))):
        plan.users.add(user_id)
        plan.delete("user", keys.user(user_id))
        name = decoded.text(await redis.hget(keys.user(user_id), "username"))
        if name:
            plan.delete("username", keys.username(name))
            plan.delete("login_known_addresses", keys.login_known_addresses(name))
        plan.delete("user_sessions", keys.user_sessions(user_id))
        for hashed in decoded.members(await redis.smembers(keys.user_sessions(user_id))):
            plan.delete("session", keys.session(hashed))
            plan.delete("embed_session", keys.embed_session(hashed))


async def carry_out(redis: Redis, clinic_id: str, plan: Plan) -> None:
    for user_id in sorted(plan.users):  # open consoles close too, on every instance
        await end_user_sessions(redis, user_id)
    async with redis.pipeline(transaction=True) as pipe:
        for names in plan.deletions.values():
            if names:
                pipe.delete(*names)
        if plan.participants:
            pipe.zrem(keys.WAITING_LAST_SEEN, *plan.participants)
        if plan.call_attempts:
            pipe.zrem(keys.CALL_ATTEMPTS, *plan.call_attempts)
        for consultation_id in plan.evidence:
            pipe.hdel(keys.pilot_notetaker(consultation_id), "gp_name")
        pipe.srem(keys.CLINICS, clinic_id)
        pipe.hdel(keys.CLINIC_LAST_ACCESS, clinic_id)
        pipe.hdel(keys.CLINIC_INACTIVITY_WARNINGS, clinic_id)
        await pipe.execute()
