"""The clinic's messages to a waiting patient, kept with the consultation."""

from __future__ import annotations

from server.store import keys
from server.store.connection import Redis
from server.store.messages import KEEP, add_clinic_message, clinic_messages


async def test_messages_read_back_oldest_first_and_only_the_newest_are_kept(
    redis: Redis,
) -> None:
    sent = [await add_clinic_message(redis, "c1", f"Besked {n} — æøå") for n in range(KEEP + 2)]
    assert await clinic_messages(redis, "c1") == sent[-KEEP:]
    assert await clinic_messages(redis, "c2") == []
    assert await redis.ttl(keys.consultation_messages("c1")) > 0
