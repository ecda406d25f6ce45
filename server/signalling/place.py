"""A waiting patient's place in the queue, kept current from the queue's deltas.

Each join or leave in a clinic's queue arrives as one `QueueMoved` with the entry's key
(score, consultation id). Only entries ahead of ours move our place, so following the queue
costs O(1) per delta and most patients have nothing to send. The presence round corrects
the place from the queue itself now and then (`resync`), healing any delta that went missing,
and notices when a booked patient's appointment time arrives (their screen changes from the
appointment time to a place).

Every delta carries the queue's move counter, and a place read from the queue is read with
it: a delta already contained in the place (published before it was read, delivered after)
is not counted a second time.
"""

from __future__ import annotations

from server.signalling.controls import QueueMoved
from server.waitingroom.eta import WaitingView, waiting_view
from server.waitingroom.queue import QueueKey


class Place:
    __slots__ = ("appointment", "early", "key", "latest", "moves", "pace", "position")

    def __init__(
        self,
        key: QueueKey,
        position: int,
        pace: float,
        moves: int,
        appointment: float | None,
        at: float,
    ) -> None:
        self.key = key
        self.position = position  # 1 is next
        self.pace = pace  # seconds per patient ahead, for the ETA
        self.moves = moves  # the queue's move counter when the position was read
        self.latest = moves  # the newest move counted in the position, read or applied
        self.appointment = appointment  # a booked patient's appointment time
        self.early = self._early(at)  # the appointment is still ahead

    def _early(self, at: float) -> bool:
        return self.appointment is not None and self.appointment > at

    def moved(self, delta: QueueMoved) -> bool:
        """Apply a delta; True if our place changed. Deltas may arrive out of their order
        (two instances publish independently): each is judged by its own count."""
        if delta.count <= self.moves or (delta.score, delta.id) >= self.key:
            return False
        self.position += 1 if delta.op == "join" else -1
        self.pace = delta.pace
        self.latest = max(self.latest, delta.count)
        return True

    def resync(self, position: int, pace: float, moves: int, at: float) -> bool:
        """The true place from the queue itself, as of its `moves`th move; True if it, or
        what the patient is told, differed. A read older than a move already counted is left
        for the next round."""
        if moves < self.latest:
            return False
        self.moves = self.latest = moves
        early = self._early(at)
        if (position, pace, early) == (self.position, self.pace, self.early):
            return False
        self.position, self.pace, self.early = position, pace, early
        return True

    def view(self, at: float) -> WaitingView:
        self.early = self._early(at)
        return waiting_view(self.position, self.pace, self.appointment, at)
