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
Tellings go out `TELL_CHUNK` followers per turn of the event loop, counted over all the
instance's clinics, so the admitted patient's own call.joined is not queued behind whole
clinics' places.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
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
# Followers told in one turn of the loop, over all clinics (some 2 ms of CPU): an admit's
# own messages get their turn between chunks.
TELL_CHUNK = 50


class Follower(Protocol):
    def queue_moved(self, moves: Sequence[QueueMoved]) -> None:
        """Apply these moves, in order, to the place and tell the patient if it changed."""


class _Teller:
    """The instance's tellings under way, `TELL_CHUNK` followers per turn of the event loop
    over all of them, in the order they began. Each clinic's telling cut into turns of its
    own would let 20 clinics told at once hold a turn for 20 chunks; an admit waits for a
    turn at each of its Redis round trips, so the chunk is counted per instance."""

    __slots__ = ("jobs", "turn")

    def __init__(self) -> None:
        self.jobs: deque[_Telling] = deque()
        self.turn: asyncio.Handle | None = None

    def add(self, clinic: _Clinic, moves: list[QueueMoved], followers: list[Follower]) -> None:
        self.jobs.append(_Telling(clinic, moves, followers))
        if self.turn is None:
            self.turn = asyncio.get_running_loop().call_soon(self._tell)

    def drop(self, clinic: _Clinic) -> None:
        self.jobs = deque(job for job in self.jobs if job.clinic is not clinic)

    def _tell(self) -> None:
        left = TELL_CHUNK
        while self.jobs and left > 0:
            job = self.jobs[0]
            end = min(len(job.followers), job.told + left)
            for follower in job.followers[job.told : end]:
                if follower not in job.clinic.followers:  # stopped following meanwhile
                    continue
                try:
                    follower.queue_moved(job.moves)
                except Exception:
                    log.exception("a waiting patient's place could not be updated")
            left -= end - job.told
            job.told = end
            if end == len(job.followers):
                self.jobs.popleft()
                job.clinic.told()  # may begin its next telling, at the end of the line
        self.turn = asyncio.get_running_loop().call_soon(self._tell) if self.jobs else None


class _Telling:
    """One clinic's moves for its followers as they were when it began, and how many of
    them are told so far."""

    __slots__ = ("clinic", "followers", "moves", "told")

    def __init__(self, clinic: _Clinic, moves: list[QueueMoved], followers: list[Follower]) -> None:
        self.clinic = clinic
        self.moves = moves
        self.followers = followers
        self.told = 0


class _Clinic:
    """One clinic's followers on this instance, and the moves they have not been told."""

    __slots__ = (
        "followers", "longest", "pending", "per_follower", "teller", "telling", "timer",
        "told_at",
    )  # fmt: skip

    def __init__(self, per_follower: float, longest: float, teller: _Teller) -> None:
        self.per_follower = per_follower
        self.longest = longest
        self.teller = teller
        self.followers: set[Follower] = set()
        self.pending: list[QueueMoved] = []
        self.timer: asyncio.TimerHandle | None = None
        # One telling at a time, so each follower has its moves in order: a move that
        # arrives while one is under way (or its window runs) waits for the next.
        self.telling = False
        self.told_at = -longest  # monotonic time of the last telling

    def deliver(self, message: Delivery) -> None:
        """From the router. A lost pub/sub (Resync) is healed by the presence round, which
        reads each place from the queue itself."""
        if not isinstance(message, QueueMoved):
            return
        self.pending.append(message)
        if self.timer is None and not self.telling:
            self._schedule()

    def _schedule(self) -> None:
        window = min(self.longest, self.per_follower * len(self.followers))
        wait = self.told_at + window - time.monotonic()
        if wait <= 0:
            self.tell()
        else:
            self.timer = asyncio.get_running_loop().call_later(wait, self.tell)

    def tell(self) -> None:
        self.timer = None
        self.told_at = time.monotonic()
        moves, self.pending = self.pending, []
        self.telling = True
        self.teller.add(self, moves, list(self.followers))

    def told(self) -> None:
        self.telling = False
        if self.pending:
            self._schedule()

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.telling:
            self.teller.drop(self)
            self.telling = False


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
        self._teller = _Teller()

    async def follow(self, clinic_id: str, follower: Follower) -> None:
        """Follow the clinic's queue; returns once subscribed, so a place read after this
        misses no later move."""
        clinic = self._clinics.get(clinic_id)
        if clinic is None:
            clinic = self._clinics[clinic_id] = _Clinic(
                self._per_follower, self._longest, self._teller
            )
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
