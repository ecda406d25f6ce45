"""Instructions between instances: typed, parsed once where they arrive.

The router carries two kinds of message on a channel: protocol messages for a browser
(they have a `type` and are forwarded as they are) and controls for whoever listens (they
have a `ctl`). A control is one of the models below, never an ad-hoc dict; the router
parses it on arrival and hands the same object to every local listener.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Control(BaseModel):
    model_config = ConfigDict(frozen=True)


class QueueMoved(_Control):
    """A consultation joined or left a clinic's queue (see clinicstate: O(1) per patient), as
    the queue's `count`th move."""

    ctl: Literal["queue"] = "queue"
    op: Literal["join", "leave"]
    score: float
    id: str
    pace: float
    count: int


class Supersede(_Control):
    """A newer socket took this participant's seat; every other socket on it lets go."""

    ctl: Literal["supersede"] = "supersede"
    keep: str


class Admitted(_Control):
    """The GP let this participant in (a patient from the queue, a professional from the lobby)."""

    ctl: Literal["admitted"] = "admitted"


class Held(_Control):
    """The GP put this patient back in the queue, at the front."""

    ctl: Literal["held"] = "held"


class Removed(_Control):
    """Sent away by the clinic (with the GP's words, if any) or cancelled by the LPS."""

    ctl: Literal["removed"] = "removed"
    text: str = ""


class Ended(_Control):
    ctl: Literal["ended"] = "ended"
    consultation_id: str
    billing_code: str


class NoteTakerFinish(_Control):
    """The call ended: the instance running the note-taker drafts from what it heard."""

    ctl: Literal["notetaker.finish"] = "notetaker.finish"


class NoteTakerWithdraw(_Control):
    """Consent was withdrawn: the instance running the note-taker stops and forgets."""

    ctl: Literal["notetaker.withdraw"] = "notetaker.withdraw"


class Resync(_Control):
    """This instance's pub/sub was lost and is back: whatever was published meanwhile never
    arrived, so each listener reads the truth again. Made by the router, never published."""

    ctl: Literal["resync"] = "resync"


class SessionEnded(_Control):
    """A professional's login lost its authority (logout, password reset, account removed
    or changed): every socket opened with it closes at once, on every instance. `session`
    is the hash of the one session that ended, or None for all of the user's."""

    ctl: Literal["session.ended"] = "session.ended"
    session: str | None = None


Control = Annotated[
    QueueMoved
    | Supersede
    | Admitted
    | Held
    | Removed
    | Ended
    | NoteTakerFinish
    | NoteTakerWithdraw
    | Resync
    | SessionEnded,
    Field(discriminator="ctl"),
]
_adapter: TypeAdapter[Control] = TypeAdapter(Control)


@dataclass(frozen=True, slots=True)
class Frame:
    """A browser message encoded once, where it was made, and sent as it is: a relayed
    signal is neither parsed nor encoded again on its way (server/signalling/relay.py)."""

    text: str


# What a channel carries: a control, a browser message (a dumped protocol message), or a
# browser message already encoded.
Delivery = Control | dict[str, Any] | Frame


def parse(data: dict[str, Any]) -> Delivery:
    """A control if the payload is one (`ctl`), otherwise the browser message as it is."""
    return _adapter.validate_python(data) if "ctl" in data else data


def wire(message: Control | dict[str, Any]) -> dict[str, Any]:
    return message.model_dump(mode="json") if isinstance(message, BaseModel) else message
