"""The room: every move of a consultation through the waiting room and the call.

```
            enter                admit                 end
  booked ---------> waiting ------------> in_call ------------> ended
    ^                 |  ^                   |
    |     leave       |  |      hold         |
    +-----------------+  +-------------------+
  (left, removed, vanished)

  booked / waiting --cancel--> cancelled
  open: the GP opens the call for an invited professional before the patient is in it
  lobby: invited professionals wait apart from the queue and are let in one by one
```

Each move is one guarded Lua script (server/waitingroom/roomscripts.py) that checks the
status it moves from and returns the new state in the same step, so two GPs, the API and
the sweeper cannot race each other; then its event and its announcement follow, here and
nowhere else. WebSocket handlers, the API and the sweeper call these methods; none of them
touches queue keys or announces by hand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from enum import StrEnum
from typing import Any, NamedTuple

from server.clock import now
from server.consultations import lobby
from server.consultations.billing import billing_code
from server.notetaker import control as notetaker
from server.signalling import clinicstate as announce
from server.signalling import controls
from server.signalling.router import Router
from server.store import keys
from server.store.callattempts import finish_attempt, start_attempt
from server.store.connection import Redis
from server.store.consultations import Consultation, Status, get_consultation
from server.store.events import EventType, append_event
from server.store.invitations import (
    consultation_invitations,
    invitation_for_participant,
    revoke_invitation,
)
from server.store.links import revoke_link
from server.store.participants import Participant, SeatRole, get_participant, set_admitted
from server.store.pilotevidence import record_held
from server.waitingroom import queue
from server.waitingroom import roomscripts as lua
from server.waitingroom.eta import record_duration


class LeaveReason(StrEnum):
    LEFT = "left"  # the patient pressed leave
    REMOVED = "removed"  # the GP sent them away
    VANISHED = "vanished"  # their browser was gone longer than the grace period


class CancelOutcome(StrEnum):
    CANCELLED = "cancelled"
    ALREADY = "already_cancelled"
    IN_CALL = "in_call"
    ENDED = "ended"


class Moved(NamedTuple):
    result: str  # the move's own answer: the queue score, or '1' for a newly started call
    fresh: Consultation  # its state after the move
    moves: int  # the queue's move counter after it; 0 if the queue did not change


def _consultation(flat: list[str]) -> Consultation:
    return Consultation.from_hash(dict(zip(flat[::2], flat[1::2], strict=True)))


class Room:
    def __init__(self, redis: Redis, router: Router) -> None:
        self.redis = redis
        self.router = router

    async def _move(
        self, script: str, c: Consultation, args: list[Any], *more_keys: str
    ) -> Moved | None:
        """Run one move; its result and the new state, or None if it was not allowed."""
        result = await self._run(script, c, args, *more_keys)
        if result is None:
            return None
        count = int(result[2]) if len(result) > 2 else 0
        return Moved(str(result[0]), _consultation(result[1]), count)

    async def _run(self, script: str, c: Consultation, args: list[Any], *more_keys: str) -> Any:
        move_keys = [
            keys.consultation(c.id),
            keys.clinic_queue(c.clinic_id),
            *more_keys,
            keys.clinic_queue_count(c.clinic_id),
        ]
        return await self.redis.register_script(script)(keys=move_keys, args=args)

    async def _event(self, kind: EventType, c: Consultation, **data: object) -> None:
        await append_event(self.redis, kind, consultation_id=c.id, clinic_id=c.clinic_id, **data)

    async def _tell(self, participant_id: str, control: controls.Control) -> None:
        if participant_id:
            await self.router.publish(keys.participant_channel(participant_id), control)

    # ---- patients ---------------------------------------------------------------------------

    async def enter(self, c: Consultation) -> Consultation | None:
        """Put the patient in the queue (idempotent) and show them to the clinic: as a new
        arrival, or (already waiting) as connected again. None if they may not wait. The
        patient's socket listens to the queue first, so it counts every move after this."""
        moved = await self._move(lua.ENTER, c, [c.id, now()])
        if moved is None:
            return None
        score, fresh, count = moved
        if score:
            await self._event(EventType.PATIENT_WAITING, c)
            await announce.joined(self.redis, self.router, fresh, float(score), count)
        else:
            await announce.entry(self.redis, self.router, fresh)
        return fresh

    async def details_changed(self, c: Consultation) -> None:
        """What the clinic sees of a consultation changed without a move: the patient's
        socket came or went, the line test has a verdict, the LPS rebooked it."""
        await announce.changed(self.redis, self.router, c)

    async def connection_changed(self, participant_ids: list[str]) -> None:
        """These patients' sockets came back or were lost without their socket saying so
        (a presence that lapsed is renewed; an instance was found dead): their clinics see
        them connected or not as their presence now stands."""
        for participant_id in participant_ids:
            p = await get_participant(self.redis, participant_id)
            c = await get_consultation(self.redis, p.consultation_id) if p else None
            if c is not None and c.status == Status.WAITING:
                await announce.entry(self.redis, self.router, c)

    async def leave(
        self, c: Consultation, reason: LeaveReason, told: controls.Removed | None = None
    ) -> bool:
        """Out of the queue, back to booked; `told` goes to the patient's screen. False if
        they were not waiting."""
        moved = await self._move(lua.LEAVE, c, [c.id])
        if moved is None:
            return False
        score, fresh, count = moved
        await self._event(EventType.PATIENT_LEFT, c, reason=reason)
        if told is not None:
            await self._tell(c.patient_participant, told)
        await announce.left(self.redis, self.router, fresh, float(score), count, reason)
        return True

    async def admit(
        self,
        c: Consultation,
        gp_user_id: str,
        gp_seat: str,
        take_seat: Callable[[Consultation], Awaitable[None]],
    ) -> Consultation | None:
        """One waiting patient into a call; only one admit of a patient can succeed.
        `take_seat` puts the GP in the call before the patient is told, so the patient's
        screen finds the GP there. Each admit is one call attempt for the success rate
        (server/callquality/success.py). None if the patient was not waiting."""
        admitted_at = now()
        moved = await self._move(lua.ADMIT, c, [c.id, admitted_at, gp_user_id, gp_seat])
        if moved is None:
            return None
        score, fresh, count = moved
        await take_seat(fresh)
        await self._tell(fresh.patient_participant, controls.Admitted())
        # The bookkeeping after the patient is told: it is not on the way to the call.
        await start_attempt(self.redis, c.id, c.clinic_id, admitted_at)
        await self._event(EventType.CALL_STARTED, c, practitioner_id=gp_user_id)
        await announce.left(self.redis, self.router, fresh, float(score), count, "admitted")
        return fresh

    async def hold(self, c: Consultation) -> Consultation | None:
        """The patient in a call back to the queue, at the front; their screen is told.
        None if the consultation was not in a call."""
        more = (keys.call_members(c.id), keys.WAITING_LAST_SEEN)
        moved = await self._move(lua.HOLD, c, [c.id, now()], *more)
        if moved is None:
            return None
        score, fresh, count = moved
        await finish_attempt(self.redis, c.id, now())
        await self._event(EventType.PATIENT_HELD, c)
        await self._tell(fresh.patient_participant, controls.Held())
        await announce.joined(self.redis, self.router, fresh, float(score), count)
        return fresh

    async def transfer(self, c: Consultation, to_practitioner_id: str) -> bool:
        """A waiting patient to a colleague's list. False if they are not waiting."""
        moved = await self._move(lua.TRANSFER, c, [to_practitioner_id])
        if moved is None:
            return False
        await self._event(EventType.PATIENT_TRANSFERRED, c, to_practitioner_id=to_practitioner_id)
        await announce.entry(self.redis, self.router, moved.fresh)
        return True

    async def cancel(self, c: Consultation, vendor_id: str) -> CancelOutcome:
        """Cancelled by the LPS: a waiting patient is told and leaves the queue. In a call
        or over, nothing changes. One step, so an admit racing this either wins (and the
        cancel is refused) or loses (and the admit finds nobody waiting)."""
        result = await self._run(lua.CANCEL, c, [c.id])
        status = str(result[0]) if result else Status.ENDED
        if status != "cancelled" or len(result) == 1:
            return {"cancelled": CancelOutcome.ALREADY, "in_call": CancelOutcome.IN_CALL}.get(
                status, CancelOutcome.ENDED
            )
        score, fresh, count = str(result[1]), _consultation(result[2]), int(result[3])
        if score:
            await self._event(EventType.PATIENT_LEFT, c, reason="cancelled")
            await self._tell(c.patient_participant, controls.Removed())
            await announce.left(self.redis, self.router, fresh, float(score), count, "cancelled")
        await self._event(EventType.CONSULTATION_CANCELLED, c, vendor_id=vendor_id)
        await announce.entry(self.redis, self.router, fresh)
        return CancelOutcome.CANCELLED

    async def hold_sweeps(self, seconds: float) -> None:
        """Redis is back after an outage: nobody is swept for `seconds` (queue.hold_sweeps)."""
        await queue.hold_sweeps(self.redis, seconds)

    async def sweep(self, grace_seconds: int) -> int:
        """Take out waiting patients whose browsers have been gone longer than the grace.
        Any instance may run this; the leave is atomic, so running it twice is harmless."""
        removed = 0
        for c in await queue.vanished(self.redis, grace_seconds):
            # Told too: a screen that is somehow still open must not go on showing a place.
            removed += await self.leave(c, LeaveReason.VANISHED, told=controls.Removed())
        return removed

    # ---- the call ---------------------------------------------------------------------------

    async def open_call(
        self, c: Consultation, gp_user_id: str, gp_seat: str
    ) -> Consultation | None:
        """The GP takes the consultation's call, to let a professional in before the
        patient. None if the consultation is over."""
        moved = await self._move(lua.OPEN, c, [now(), gp_user_id, gp_seat])
        if moved is None:
            return None
        started, fresh, _ = moved
        if started:
            await self._event(EventType.CALL_STARTED, c, practitioner_id=gp_user_id)
        await announce.entry(self.redis, self.router, fresh)
        return fresh

    async def end(self, c: Consultation, continued_by_phone: bool = False) -> Consultation | None:
        """End the call and settle its billing code, once. Everyone with a seat hears it:
        those in the call, a patient still waiting, and professionals still in the lobby
        (who leave it); a running note-taker drafts. None if no call was open."""
        ended_at = now()
        result = await self._run(lua.END, c, [ended_at, c.id], keys.call_members(c.id))
        parties = int(result[0])
        if parties < 0:
            return None
        await finish_attempt(self.redis, c.id, ended_at)
        media_at, trouble = await self.redis.hmget(
            keys.consultation(c.id), ["media_at", "video_trouble"]
        )
        code = billing_code(parties, bool(media_at), continued_by_phone, bool(trouble))
        await self.redis.hset(keys.consultation(c.id), "billing_code", code)
        if code and c.practitioner_id:
            await record_held(self.redis, c.practitioner_id, c.id, ended_at)
        started_at = c.started_at if c.started_at is not None else ended_at
        duration = int(ended_at - started_at)
        await self._event(
            EventType.CALL_ENDED, c, billing_code=code, duration_seconds=duration, parties=parties
        )
        done = replace(c, status=Status.ENDED, ended_at=ended_at, billing_code=code)
        if c.started_at is not None:
            await record_duration(self.redis, c.clinic_id, ended_at - c.started_at)
        guests = [i.participant_id for i in await consultation_invitations(self.redis, c.id)]
        for guest in guests:
            await self.lobby_leave(c.clinic_id, guest, "ended")
        told = controls.Ended(consultation_id=c.id, billing_code=code)
        members = [str(m) for m in result[3:]]
        for seat in {*members, *guests, done.patient_participant, done.gp_participant}:
            await self._tell(seat, told)
        if score := str(result[1]):
            await announce.left(
                self.redis, self.router, done, float(score), int(result[2]), "ended"
            )
        else:
            await announce.entry(self.redis, self.router, done)
        await notetaker.call_ended(self.redis, self.router, done)
        return done

    # ---- invited professionals --------------------------------------------------------------

    async def lobby_enter(self, p: Participant, c: Consultation) -> None:
        since = await lobby.enter(self.redis, c.clinic_id, p.id)
        await announce.lobby_joined(self.router, p, c, since)

    async def lobby_leave(self, clinic_id: str, participant_id: str, reason: str) -> bool:
        """Out of the lobby; True for the one caller that took them out (admit races)."""
        if not await lobby.leave(self.redis, clinic_id, participant_id):
            return False
        await announce.lobby_left(self.router, clinic_id, participant_id, reason)
        return True

    async def let_in(self, guest: Participant) -> None:
        """An invited professional, out of the lobby, into the call."""
        await set_admitted(self.redis, guest.id, True)
        await self._tell(guest.id, controls.Admitted())

    async def remove(self, c: Consultation, p: Participant) -> None:
        """Take an invited professional or the patient out without ending the call; the
        link they came by stops working. Their own socket leaves the call and tells the
        others (or, if they are not connected, there is nobody to tell)."""
        if p.role == SeatRole.STAFF:
            invitation = await invitation_for_participant(self.redis, c.id, p.id)
            if invitation is not None:
                await revoke_invitation(self.redis, invitation)
            await set_admitted(self.redis, p.id, False)
            await self.lobby_leave(c.clinic_id, p.id, "removed")
        else:
            await revoke_link(self.redis, c)
            await self.leave(c, LeaveReason.REMOVED)
        await self._event(EventType.PARTICIPANT_REMOVED, c, participant_id=p.id, role=p.role)
        await self._tell(p.id, controls.Removed())
