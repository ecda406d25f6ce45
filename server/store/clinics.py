"""Clinic aggregate: name, ydernummer, phone, video hours and waiting-room limits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from server.auth.tokens import new_id, new_token, token_hash
from server.store import keys
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

    def to_hash(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "ydernummer": self.ydernummer,
            "phone": self.phone,
            "dropin_hours": json.dumps(self.dropin_hours),
            "wait_limit_minutes": str(self.wait_limit_minutes),
            "wait_alert_minutes": str(self.wait_alert_minutes),
        }

    @classmethod
    def from_hash(cls, h: dict[str, str]) -> Clinic:
        hours = {
            day: [(a, b) for a, b in spans] for day, spans in json.loads(h["dropin_hours"]).items()
        }
        return cls(
            h["id"],
            h["name"],
            h["ydernummer"],
            h.get("phone", ""),
            hours,
            int(h.get("wait_limit_minutes", cls.wait_limit_minutes)),
            int(h.get("wait_alert_minutes", cls.wait_alert_minutes)),
        )


async def create_clinic(
    redis: Redis,
    name: str,
    ydernummer: str,
    phone: str = "",
    dropin_hours: Hours | None = None,
    wait_limit_minutes: int = 0,
    wait_alert_minutes: int = 10,
) -> Clinic:
    clinic = Clinic(
        new_id(),
        name,
        ydernummer,
        phone,
        dropin_hours or {},
        wait_limit_minutes,
        wait_alert_minutes,
    )
    if not await redis.set(keys.clinic_by_ydernummer(ydernummer), clinic.id, nx=True):
        raise ValueError(f"ydernummer {ydernummer} is taken")
    await redis.hset(keys.clinic(clinic.id), mapping=clinic.to_hash())
    return clinic


async def save_clinic(redis: Redis, clinic: Clinic) -> None:
    await redis.hset(keys.clinic(clinic.id), mapping=clinic.to_hash())


async def get_clinic(redis: Redis, clinic_id: str) -> Clinic | None:
    h = await redis.hgetall(keys.clinic(clinic_id))
    return Clinic.from_hash(h) if h else None


async def issue_dropin_link(redis: Redis, clinic_id: str) -> str:
    """A clinic-wide link for the open video hour; each visitor gets their own consultation."""
    token = new_token()
    await redis.set(keys.dropin_link(token_hash(token)), clinic_id)
    return token


async def resolve_dropin_link(redis: Redis, token: str) -> str | None:
    return await redis.get(keys.dropin_link(token_hash(token)))
