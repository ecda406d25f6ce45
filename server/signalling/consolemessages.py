"""What a clinic's consoles see: the whole picture once, then a delta per change.

Built by server/signalling/clinicstate.py and sent on the clinic's channel.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from server.signalling.protocol import Message


class SentMessage(BaseModel):
    """The newest message the clinic sent a waiting patient, as the GPs' card shows it."""

    text: str
    at: float


class QueueEntry(BaseModel):
    consultation_id: str
    patient_name: str
    kind: Literal["scheduled", "drop_in"]
    scheduled_start: float | None
    waiting_since: float | None
    connected: bool
    practitioner_id: str  # the GP whose queue this is; "" when unassigned
    precall_verdict: str  # "" until the patient has run the line test
    last_message: SentMessage | None = None


class DayEntry(BaseModel):
    consultation_id: str
    patient_name: str
    kind: Literal["scheduled", "drop_in"]
    scheduled_start: float | None
    status: str
    billing_code: str


class LobbyEntry(BaseModel):
    """An invited professional waiting to be let into a consultation."""

    participant_id: str
    consultation_id: str
    display_name: str
    title: str
    organisation: str
    since: float
    patient_name: str
    scheduled_start: float | None


class ClinicState(Message):
    """GP: the clinic's waiting queue, waiting professionals and today's consultations."""

    type: Literal["clinic.state"] = "clinic.state"
    waiting: list[QueueEntry]
    lobby: list[LobbyEntry]
    today: list[DayEntry]
    server_time: float


class LobbyEntryChanged(Message):
    """GP: an invited professional is waiting for a consultation."""

    type: Literal["lobby.entry"] = "lobby.entry"
    entry: LobbyEntry


class LobbyEntryRemoved(Message):
    """GP: a professional stopped waiting (admitted, left, removed)."""

    type: Literal["lobby.removed"] = "lobby.removed"
    participant_id: str
    reason: str


class QueueEntryChanged(Message):
    """GP: a waiting entry appeared or changed."""

    type: Literal["queue.entry"] = "queue.entry"
    entry: QueueEntry


class QueueEntryRemoved(Message):
    """GP: an entry left the queue (admitted, left, removed, vanished)."""

    type: Literal["queue.removed"] = "queue.removed"
    consultation_id: str
    reason: str


class DayEntryChanged(Message):
    """GP: one of today's consultations changed status."""

    type: Literal["day.entry"] = "day.entry"
    entry: DayEntry
