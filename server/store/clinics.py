"""Clinic aggregate: name, ydernummer, phones, address, hours and waiting-room limits.

`phone` is the number patients call. `back_door_phone` (bagdørsnummeret) is the number
professionals call to get past the patients' queue: it is shown only to the clinic's own GPs
and in the directory for professionals, never on a patient's page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from server.auth.tokens import new_id, new_token, token_hash
from server.store import decoded, keys
from server.store.connection import Redis

# Weekday ("mon".."sun") -> list of ("HH:MM", "HH:MM") local (Europe/Copenhagen) intervals.
Hours = dict[str, list[tuple[str, str]]]


@dataclass(frozen=True)
class Clinic:
    id: str
    name: str
    ydernummer: str
    phone: str = ""
    dropin_hours: Hours = field(default_factory=dict)
    # After this long a waiting patient is offered the clinic's phone number; 0 = never.
    wait_limit_minutes: int = 0
    # After this long the patient's card in the GP's waiting room changes colour (at least 1).
    wait_alert_minutes: int = 10
    back_door_phone: str = ""
    address: str = ""  # one line: "Nørregade 1, 1165 København K"
    # The clinic's general opening hours (the directory's "open now"), not its video hours.
    opening_hours: Hours = field(default_factory=dict)
    # In the AI note-taker pilot: its GPs may offer the note-taker to their patients. Set by
    # the platform's operators (`almenvideo notetaker-pilot`), not by the clinic itself.
    notetaker_pilot: bool = False

    def to_hash(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "ydernummer": self.ydernummer,
            "phone": self.phone,
            "dropin_hours": json.dumps(self.dropin_hours),
            "wait_limit_minutes": str(self.wait_limit_minutes),
            "wait_alert_minutes": str(self.wait_alert_minutes),
            "back_door_phone": self.back_door_phone,
            "address": self.address,
            "opening_hours": json.dumps(self.opening_hours),
            "notetaker_pilot": "1" if self.notetaker_pilot else "0",
        }

    @classmethod
    def from_hash(cls, h: dict[str, str]) -> Clinic:
        """Fields added later fall back to their defaults, so older records still load."""
        return cls(
            id=h["id"],
            name=h["name"],
            ydernummer=h["ydernummer"],
            phone=h.get("phone", ""),
            dropin_hours=_hours(h.get("dropin_hours")),
            wait_limit_minutes=int(h.get("wait_limit_minutes", cls.wait_limit_minutes)),
            wait_alert_minutes=int(h.get("wait_alert_minutes", cls.wait_alert_minutes)),
            back_door_phone=h.get("back_door_phone", ""),
            address=h.get("address", ""),
            opening_hours=_hours(h.get("opening_hours")),
            notetaker_pilot=h.get("notetaker_pilot") == "1",
        )


def _hours(raw: str | None) -> Hours:
    """Hours from their JSON form (lists) back to (start, end) tuples."""
    if not raw:
        return {}
    return {day: [(a, b) for a, b in spans] for day, spans in json.loads(raw).items()}


async def create_clinic(
    redis: Redis,
    name: str,
    ydernummer: str,
    phone: str = "",
    dropin_hours: Hours | None = None,
    wait_limit_minutes: int = 0,
    wait_alert_minutes: int = 10,
    back_door_phone: str = "",
    address: str = "",
    opening_hours: Hours | None = None,
) -> Clinic:
    clinic = Clinic(
        new_id(),
        name,
        ydernummer,
        phone,
        dropin_hours or {},
        wait_limit_minutes,
        wait_alert_minutes,
        back_door_phone,
        address,
        opening_hours or {},
    )
    if not await redis.set(keys.clinic_by_ydernummer(ydernummer), clinic.id, nx=True):
        raise ValueError(f"ydernummer {ydernummer} is taken")
    await save_clinic(redis, clinic)
    return clinic


async def save_clinic(redis: Redis, clinic: Clinic) -> None:
    """Saving also (re)lists the clinic in the set the directory searches."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(keys.clinic(clinic.id), mapping=decoded.writable(clinic.to_hash()))
        pipe.sadd(keys.CLINICS, clinic.id)
        await pipe.execute()


async def get_clinic(redis: Redis, clinic_id: str) -> Clinic | None:
    h = decoded.fields(await redis.hgetall(keys.clinic(clinic_id)))
    return Clinic.from_hash(h) if h else None


async def find_clinic(redis: Redis, ydernummer: str) -> Clinic | None:
    """The clinic with this ydernummer, if any."""
    clinic_id = decoded.text(await redis.get(keys.clinic_by_ydernummer(ydernummer)))
    return await get_clinic(redis, clinic_id) if clinic_id else None


async def list_clinics(redis: Redis) -> list[Clinic]:
    """Every clinic (the directory searches them all; Denmark has about 1,700)."""
    ids = sorted(decoded.members(await redis.smembers(keys.CLINICS)))
    async with redis.pipeline(transaction=False) as pipe:
        for clinic_id in ids:
            pipe.hgetall(keys.clinic(clinic_id))
        rows = await pipe.execute()
    return [Clinic.from_hash(h) for h in rows if h]


async def issue_dropin_link(redis: Redis, clinic_id: str) -> str:
    """A clinic-wide link for the open video hour; each visitor gets their own consultation."""
    token = new_token()
    await redis.set(keys.dropin_link(token_hash(token)), clinic_id)
    return token


async def resolve_dropin_link(redis: Redis, token: str) -> str | None:
    return decoded.text(await redis.get(keys.dropin_link(token_hash(token))))
