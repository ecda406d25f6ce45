"""A waiting patient's place from queue deltas and reads: never a move counted twice, never
a newer count undone by an older read."""

from __future__ import annotations

from typing import Literal

from server.signalling.controls import QueueMoved
from server.signalling.place import Place

OURS = (100.0, "c-ours")


def delta(op: Literal["join", "leave"], count: int, score: float = 50.0) -> QueueMoved:
    return QueueMoved(op=op, score=score, id=f"c-{count}", pace=60.0, count=count)


def test_a_delta_the_read_already_contains_is_not_counted_again() -> None:
    place = Place(OURS, position=3, pace=60.0, moves=10)  # the read saw moves 1..10
    assert not place.moved(delta("join", 9))  # published before the read, delivered after
    assert not place.moved(delta("join", 10))
    assert place.position == 3
    assert place.moved(delta("join", 11))
    assert place.position == 4


def test_deltas_behind_us_or_out_of_order_are_judged_each_by_its_count() -> None:
    place = Place(OURS, position=3, pace=60.0, moves=10)
    assert not place.moved(delta("join", 11, score=200.0))  # behind us
    assert place.moved(delta("leave", 13))  # from another instance, ahead of 12
    assert place.moved(delta("join", 12))
    assert place.position == 3


def test_a_read_older_than_a_counted_move_does_not_undo_it() -> None:
    place = Place(OURS, position=3, pace=60.0, moves=10)
    assert place.moved(delta("join", 12))
    assert not place.resync(position=3, pace=60.0, moves=11)  # read before move 12
    assert place.position == 4
    assert place.resync(position=6, pace=90.0, moves=15)  # the truth, newer than both
    assert (place.position, place.pace) == (6, 90.0)
    assert not place.moved(delta("join", 14))  # contained in that read
    assert place.position == 6
