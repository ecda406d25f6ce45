"""A waiting patient's place in the queue, kept current from the queue's deltas.

Each join or leave in a clinic's queue arrives as one `QueueMoved` with the entry's key
(score, consultation id). Only entries ahead of ours move our place, so following the queue
costs O(1) per delta and most patients have nothing to send. The presence round corrects
the place from the queue itself now and then (`resync`), healing any delta that went missing.
"""

from __future__ import annotations

from server.signalling.controls import QueueMoved
from server.waitingroom.queue import QueueKey


class Place:
    __slots__ = ("key", "pace", "position")

    def __init__(self, key: QueueKey, position: int, pace: float) -> None:
        self.key = key
        self.position = position  # 1 is next
        self.pace = pace  # seconds per patient ahead, for the ETA

    def moved(self, delta: QueueMoved) -> bool:
        """Apply a delta; True if our place changed."""
        if (delta.score, delta.id) >= self.key:
            return False
        self.position += 1 if delta.op == "join" else -1
        self.pace = delta.pace
        return True

    def resync(self, position: int, pace: float) -> bool:
        """The true place from the queue itself; True if it differed."""
        if (position, pace) == (self.position, self.pace):
            return False
        self.position, self.pace = position, pace
        return True
