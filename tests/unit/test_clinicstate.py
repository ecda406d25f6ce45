"""A GP console's snapshot of the clinic, read in a few round trips: the queue in its order
(also a patient booked for another day), each card as the deltas would show it, and today's
list."""

from __future__ import annotations

from server.signalling.clinicstate import clinic_state, queue_entry
from server.store.connection import Redis
from server.store.consultations import get_consultation
from server.store.messages import add_clinic_message
from tests.unit.factories import make_clinic, make_scheduled, room_of


async def test_the_snapshot_shows_the_queue_in_order_with_the_cards_the_deltas_show(
    redis: Redis,
) -> None:
    clinic = await make_clinic(redis)
    yesterday = await make_scheduled(redis, clinic, minutes_from_now=-24 * 60, patient_name="A")
    today = await make_scheduled(redis, clinic, minutes_from_now=-5, patient_name="B")
    later = await make_scheduled(redis, clinic, minutes_from_now=30, patient_name="C")
    room = room_of(redis)
    for c in (today, yesterday):
        assert await room.enter(c) is not None
    await add_clinic_message(redis, today.id, "Vi er lidt forsinkede")

    state = await clinic_state(redis, clinic.id)

    assert [e.consultation_id for e in state.waiting] == [yesterday.id, today.id]
    for entry in state.waiting:
        fresh = await get_consultation(redis, entry.consultation_id)
        assert fresh is not None
        assert entry == await queue_entry(redis, fresh)
    assert state.waiting[1].last_message is not None
    assert state.waiting[1].last_message.text == "Vi er lidt forsinkede"
    assert [(e.consultation_id, e.status) for e in state.today] == [
        (today.id, "waiting"),
        (later.id, "booked"),
    ]
