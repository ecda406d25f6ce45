"""A waiting patient's place: deltas move it, never a move counted twice, never a newer count
undone by an older read; and the appointment time changes what is told."""

from __future__ import annotations

from typing import Literal

from server.signalling.controls import QueueMoved
from server.signalling.place import Place

AT = 1_750_000_000.0
OURS = (100.0, "c-ours")


def delta(op: Literal["join", "leave"], count: int, score: float = 50.0) -> QueueMoved:
    return QueueMoved(op=op, score=score, id=f"c-{count}", pace=60.0, count=count)


def drop_in(position: int, moves: int = 10) -> Place:
    return Place(OURS, position, 60.0, moves, None, AT)


def test_only_entries_ahead_move_the_place() -> None:
    place = drop_in(2)
    assert not place.moved(delta("join", 11, score=200.0))
    assert place.moved(delta("join", 12))
    assert place.position == 3
    assert place.moved(delta("leave", 13))
    assert place.position == 2


def test_a_delta_the_read_already_contains_is_not_counted_again() -> None:
    place = drop_in(3)  # the read saw moves 1..10
    assert not place.moved(delta("join", 9))  # published before the read, delivered after
    assert not place.moved(delta("join", 10))
    assert place.position == 3
    assert place.moved(delta("join", 11))
    assert place.position == 4


def test_deltas_out_of_order_are_judged_each_by_its_count() -> None:
    place = drop_in(3)
    assert place.moved(delta("leave", 13))  # from another instance, ahead of 12
    assert place.moved(delta("join", 12))
    assert place.position == 3


def test_a_read_older_than_a_counted_move_does_not_undo_it() -> None:
    place = drop_in(3)
    assert place.moved(delta("join", 12))
    assert not place.resync(3, 60.0, 11, AT)  # read before move 12
    assert place.position == 4
    assert place.resync(6, 90.0, 15, AT)  # the truth, newer than both
    assert (place.position, place.pace) == (6, 90.0)
    assert not place.moved(delta("join", 14))  # contained in that read
    assert place.position == 6


def test_an_early_booked_patient_is_shown_the_time_then_the_place_when_it_comes() -> None:
    place = Place((AT + 600, "c-me"), 1, 600, 10, AT + 600, AT)
    assert place.view(AT).appointment_at == AT + 600
    # Nothing in the queue moved, but the appointment time has come: say so.
    assert not place.resync(1, 600, 10, AT + 599)
    assert place.resync(1, 600, 10, AT + 600)
    view = place.view(AT + 600)
    assert (view.position, view.eta_minutes, view.appointment_at) == (1, 0, None)
    assert not place.resync(1, 600, 10, AT + 700)


def test_a_drop_in_resyncs_only_when_the_place_or_pace_differs() -> None:
    place = Place((AT, "c-me"), 2, 600, 10, None, AT)
    assert not place.resync(2, 600, 10, AT + 3600)
    assert place.resync(1, 600, 11, AT + 3600)
    assert place.resync(1, 300, 12, AT + 3600)
