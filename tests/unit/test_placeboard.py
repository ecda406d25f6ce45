"""The place board against a real Redis router: one subscription per clinic whatever the
number of waiting patients, a lone move told at once, a burst told once, and the places
the same as if every move had been told on its own."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence

import pytest

from server.signalling.controls import QueueMoved
from server.signalling.place import Place
from server.signalling.placeboard import TELL_CHUNK, PlaceBoard
from server.signalling.redisrouter import RedisRouter
from server.store import keys
from server.store.connection import Redis

AT = 1_750_000_000.0
LONGEST = 1.5  # far longer than a few publishes take, so a burst surely falls in one window


class Patient:
    """What the board needs of a waiting patient's socket: a place and what it was told."""

    def __init__(self, score: float, moves: int = 0) -> None:
        self.place = Place((score, f"c-{score}"), 10, 60.0, moves, None, AT)
        self.told: list[int] = []
        self.heard = 0
        self.changed = asyncio.Event()

    def queue_moved(self, moves: Sequence[QueueMoved]) -> None:
        self.heard += len(moves)
        if any([self.place.moved(m) for m in moves]):
            self.told.append(self.place.position)
        self.changed.set()

    async def told_of(self, moves: int) -> None:
        while self.heard < moves:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)


def leave(count: int, score: float = 1.0) -> QueueMoved:
    return QueueMoved(op="leave", score=score, id=f"c-front-{count}", pace=60.0, count=count)


@pytest.fixture
async def router(redis: Redis) -> AsyncIterator[RedisRouter]:
    router = RedisRouter(redis, "av:ch:instance:board-test")
    task = asyncio.create_task(router.run())
    try:
        yield router
    finally:
        task.cancel()
        await router.stop()


async def subscribers(redis: Redis, clinic_id: str) -> int:
    channel = keys.queue_channel(clinic_id)
    return int(dict(await redis.pubsub_numsub(channel))[channel])


async def test_one_subscription_per_clinic_gone_with_its_last_patient(
    redis: Redis, router: RedisRouter
) -> None:
    board = PlaceBoard(router, per_follower=LONGEST, longest=LONGEST)
    patients = [Patient(100.0 + n) for n in range(50)]
    for p in patients:
        await board.follow("k1", p)
    assert await subscribers(redis, "k1") == 1
    for p in patients[:-1]:
        await board.unfollow("k1", p)
    assert await subscribers(redis, "k1") == 1
    await board.unfollow("k1", patients[-1])
    assert await subscribers(redis, "k1") == 0


async def test_a_lone_move_is_told_at_once_and_a_burst_once_with_the_same_places(
    redis: Redis, router: RedisRouter
) -> None:
    board = PlaceBoard(router, per_follower=LONGEST, longest=LONGEST)
    behind, ahead = Patient(100.0), Patient(0.5)  # the front leaves: only `behind` moves
    other_clinic = Patient(100.0)
    await board.follow("k1", behind)
    await board.follow("k1", ahead)
    await board.follow("k2", other_clinic)

    await router.publish(keys.queue_channel("k1"), leave(1))
    await behind.told_of(1)
    assert behind.told == [9]  # the window was quiet: told without waiting for it

    for count in range(2, 7):  # a burst: five admits in a row
        await router.publish(keys.queue_channel("k1"), leave(count))
    await behind.told_of(6)
    assert behind.told == [9, 4]  # once for the five, each move counted
    assert ahead.told == [] and ahead.heard == 6
    assert other_clinic.heard == 0


async def test_moves_the_place_already_counts_are_not_counted_again(
    redis: Redis, router: RedisRouter
) -> None:
    board = PlaceBoard(router, per_follower=LONGEST, longest=LONGEST)
    late = Patient(100.0, moves=3)  # its place was read after move 3
    await board.follow("k1", late)
    for count in range(1, 6):
        await router.publish(keys.queue_channel("k1"), leave(count))
    await late.told_of(5)
    assert late.place.position == 8


async def test_a_big_clinic_is_told_in_chunks_with_other_work_between_in_order(
    redis: Redis, router: RedisRouter
) -> None:
    board = PlaceBoard(router, per_follower=0.0, longest=0.0)  # every move told at once
    told: list[Patient] = []  # each telling of each patient, in the order they happened
    seen_by_other_work: list[int] = []

    class Logged(Patient):
        def queue_moved(self, moves: Sequence[QueueMoved]) -> None:
            if not told:  # the first patient told: other work asks for a turn
                loop = asyncio.get_running_loop()
                loop.call_soon(lambda: seen_by_other_work.append(len(told)))
            told.append(self)
            super().queue_moved(moves)

    patients = [Logged(100.0 + n) for n in range(3 * TELL_CHUNK)]
    for p in patients:
        await board.follow("k1", p)
    for count in (1, 2, 3):
        await router.publish(keys.queue_channel("k1"), leave(count))
    for p in patients:
        await p.told_of(3)
    assert all(p.place.position == 7 for p in patients)
    assert all(p.told == sorted(p.told, reverse=True) for p in patients)  # moves in order
    assert seen_by_other_work == [TELL_CHUNK]  # its turn came after the first chunk


async def test_clinics_told_at_once_share_one_chunk_a_turn(
    redis: Redis, router: RedisRouter
) -> None:
    board = PlaceBoard(router, per_follower=0.0, longest=0.0)
    told: list[str] = []  # the clinic of each patient told, in the order they were told

    class Logged(Patient):
        def __init__(self, score: float, clinic_id: str) -> None:
            super().__init__(score)
            self.clinic_id = clinic_id

        def queue_moved(self, moves: Sequence[QueueMoved]) -> None:
            told.append(self.clinic_id)
            super().queue_moved(moves)

    async def count_each_turn(counts: list[int]) -> None:
        while True:
            counts.append(len(told))
            await asyncio.sleep(0)

    # Tellings long enough (many turns) that the second clinic's begins during the first's.
    size = 40 * TELL_CHUNK
    clinics = {c: [Logged(100.0 + n, c) for n in range(size)] for c in ("k1", "k2")}
    for clinic_id, patients in clinics.items():
        for p in patients:
            await board.follow(clinic_id, p)
    counts: list[int] = []
    ticker = asyncio.create_task(count_each_turn(counts))
    for clinic_id in clinics:
        await router.publish(keys.queue_channel(clinic_id), leave(1))
    for patients in clinics.values():
        for p in patients:
            await p.told_of(1)
    ticker.cancel()
    told_in_a_turn = [b - a for a, b in itertools.pairwise(counts)]
    assert max(told_in_a_turn) == TELL_CHUNK  # one chunk a turn, however many clinics tell
    assert sorted(told) == ["k1"] * size + ["k2"] * size
