"""This instance's waiting patients and their places: one listener per clinic, not per socket.

Every admit moves every patient behind it. Told one by one, a clinic of n waiting patients
costs O(n) messages per move, and admitting them all O(n²): 500 patients took 125,000
place messages. So the board is the only listener of a clinic's queue channel on this
instance, and a move costs O(1) when it arrives: it is kept until the clinic's patients
are told, together:
- at once, when the queue has been still for a window: a lone admit shows without delay;
- otherwise at the end of the window: during a burst of moves each patient gets one message
  per window, whatever the number of moves in it.
The window grows with the clinic's patients here, 1 ms each up to half a second: telling
one patient costs some 30-40 µs of CPU, so the telling of a burst never takes more than a
few per cent of a core, and a small clinic (or one whose admits are further apart than its
window) sees every move at once.
The moves are applied in their order, each judged by the place's own counter
(server/signalling/place.py), so the place shown is the one a message per move would show.
What is left per move is the window's share of one message per patient of the clinic here.
A telling goes out in chunks of `TELL_CHUNK` followers, one chunk per turn of the event
loop, so the admitted patient's own call.joined is not queued behind a whole clinic's places.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Protocol

from server.signalling.controls import Delivery, QueueMoved
from server.signalling.router import Router
from server.store import keys

log = logging.getLogger(__name__)

# The window per waiting patient of a clinic, and its longest: long enough to fold a burst of
# admits (a clinic's GPs admitting at once, a sweep) into one message per patient, short
# enough that "you are next" never waits noticeably.
SECONDS_PER_FOLLOWER = 0.001
LONGEST_WINDOW_SECONDS = 0.5
# Followers told in one turn of the loop (some 2 ms of CPU): an admit's own messages
# get their turn between chunks.
TELL_CHUNK = 50


class Follower(Protocol):
    def queue_moved(self, moves: Sequence[QueueMoved]) -> None:
        """Apply these moves, in order, to the place and tell the patient if it changed."""


class _Clinic:
    """One clinic's followers on this instance, and the moves they have not been told."""

    __slots__ = ("followers", "longest", "next", "pending", "per_follower", "told_at")

    def __init__(self, per_follower: float, longest: float) -> None:
        self.per_follower = per_follower
        self.longest = longest
        self.followers: set[Follower] = set()
        self.pending: list[QueueMoved] = []
        # The window's timer, or the next chunk of a telling under way: while either is
        # there, a move that arrives waits for the next telling.
        self.next: asyncio.Handle | None = None
        self.told_at = -longest  # monotonic time of the last telling

    def deliver(self, message: Delivery) -> None:
        """From the router. A lost pub/sub (Resync) is healed by the presence round, which
        reads each place from the queue itself."""
        if not isinstance(message, QueueMoved):
            return
        self.pending.append(message)
        if self.next is None:
            self._schedule()

    def _schedule(self) -> None:
        window = min(self.longest, self.per_follower * len(self.followers))
        wait = self.told_at + window - time.monotonic()
        if wait <= 0:
            self.tell()
        else:
            self.next = asyncio.get_running_loop().call_later(wait, self.tell)

    def tell(self) -> None:
        self.told_at = time.monotonic()
        moves, self.pending = self.pending, []
        self._tell(moves, list(self.followers), 0)

    def _tell(self, moves: list[QueueMoved], followers: list[Follower], start: int) -> None:
        """Tell a chunk of the followers, and the rest in later turns of the loop: a telling
        of a big clinic's patients then never holds up the one patient being admitted (or
        a GP's message) for long. One telling at a time, so each follower has its moves in
        order; one that stopped following meanwhile is passed over."""
        for follower in followers[start : start + TELL_CHUNK]:
            if follower not in self.followers:
                continue
            try:
                follower.queue_moved(moves)
            except Exception:
                log.exception("a waiting patient's place could not be updated")
        start += TELL_CHUNK
        if start < len(followers):
            self.next = asyncio.get_running_loop().call_soon(self._tell, moves, followers, start)
            return
        self.next = None
        if self.pending:
            self._schedule()

    def stop(self) -> None:
        if self.next is not None:
            self.next.cancel()
            self.next = None


class PlaceBoard:
    def __init__(
        self,
        router: Router,
        per_follower: float = SECONDS_PER_FOLLOWER,
        longest: float = LONGEST_WINDOW_SECONDS,
    ) -> None:
        self._router = router
        self._per_follower = per_follower
        self._longest = longest
        self._clinics: dict[str, _Clinic] = {}

    async def follow(self, clinic_id: str, follower: Follower) -> None:
        """Follow the clinic's queue; returns once subscribed, so a place read after this
        misses no later move."""
        clinic = self._clinics.get(clinic_id)
        if clinic is None:
            clinic = self._clinics[clinic_id] = _Clinic(self._per_follower, self._longest)
        clinic.followers.add(follower)
        await self._router.subscribe(keys.queue_channel(clinic_id), clinic)

    async def unfollow(self, clinic_id: str, follower: Follower) -> None:
        clinic = self._clinics.get(clinic_id)
        if clinic is None or follower not in clinic.followers:
            return
        clinic.followers.discard(follower)
        if not clinic.followers:
            del self._clinics[clinic_id]
            clinic.stop()
            await self._router.unsubscribe(keys.queue_channel(clinic_id), clinic)
