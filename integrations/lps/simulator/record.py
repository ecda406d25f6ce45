"""What the simulated practice system remembers: the patient links it was given (to send by
SMS), the webhooks it received, and the notes it filed in its patient record."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

MAX_EVENTS = 200
MAX_SEEN_IDS = 5000


@dataclass(frozen=True)
class ReceivedEvent:
    id: str  # the webhook-id: the same on every retry of one event
    type: str
    timestamp: str
    data: dict[str, Any]


@dataclass(frozen=True)
class FiledNote:
    consultation_id: str
    text: str
    approved_at: str | None
    filed_at: float
    acknowledged: bool


@dataclass
class Record:
    patient_links: dict[str, str] = field(default_factory=dict)  # consultation id -> URL
    events: deque[ReceivedEvent] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    rejected_webhooks: int = 0
    notes: dict[str, FiledNote] = field(default_factory=dict)  # consultation id -> note
    webhook_secret: str | None = None
    webhook_status: str = ""  # why webhooks are not set up, when they are not
    _seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def first_delivery(self, webhook_id: str) -> bool:
        """True the first time this webhook-id arrives; delivery is at least once."""
        if webhook_id in self._seen:
            return False
        self._seen[webhook_id] = None
        if len(self._seen) > MAX_SEEN_IDS:
            self._seen.popitem(last=False)
        return True
