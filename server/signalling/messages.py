"""Signalling protocol v1: every message a browser and the server exchange, as schemas.

One JSON object per WebSocket text frame, each with `"v": 1` and a `type`. The same models
validate input and generate the protocol document (`almenvideo schema signalling`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from server import safejson
from server.signalling.callreports import CallReport
from server.signalling.consolemessages import (
    ClinicState,
    DayEntryChanged,
    LobbyEntryChanged,
    LobbyEntryRemoved,
    QueueEntryChanged,
    QueueEntryRemoved,
)
from server.signalling.mediamessages import (
    CallJoined,
    MediaState,
    PeerJoined,
    PeerLeft,
    PeerMediaState,
    RelayedSignal,
    Signal,
)
from server.signalling.notetakermessages import (
    NoteTakerConsent,
    NoteTakerOffer,
    NoteTakerStatus,
    NoteTakerStop,
    NoteTakerTranscript,
)
from server.signalling.protocol import VERSION, Id, Message, Token

# ---- browser -> server ----------------------------------------------------------------------


class Hello(Message):
    """First message on every socket. Patients present their link and resume token; an
    invited professional presents the invitation's token; GPs send neither. Professionals
    are known by their session cookie."""

    type: Literal["hello"]
    link: Token | None = None
    resume: Token | None = None
    invitation: Token | None = None


class Admit(Message):
    """GP: admit one waiting patient into a call with this socket; or, with
    `participant_id`, an invited professional waiting for that consultation (the call
    starts with them if the patient is not in it yet)."""

    type: Literal["admit"]
    consultation_id: Id
    participant_id: Id | None = None


class Rejoin(Message):
    """GP: take this socket back into a call they are already holding (after a reload)."""

    type: Literal["rejoin"]
    consultation_id: Id


class Leave(Message):
    """Patient: leave the waiting room or the call."""

    type: Literal["leave"]


class End(Message):
    """GP: end the consultation for everyone."""

    type: Literal["end"]
    consultation_id: Id
    continued_by_phone: bool = False


Text = Annotated[str, Field(min_length=1, max_length=500)]


class SendMessage(Message):
    """GP: a short message shown on a waiting patient's screen."""

    type: Literal["message"]
    consultation_id: Id
    text: Text


class Transfer(Message):
    """GP: move a waiting patient to a colleague's queue (same clinic)."""

    type: Literal["transfer"]
    consultation_id: Id
    to_user: Id


class Hold(Message):
    """GP: put the patient in this call back in the queue, at the front."""

    type: Literal["hold"]
    consultation_id: Id


class Remove(Message):
    """GP: take a waiting patient out of the queue, with a message they will see."""

    type: Literal["remove"]
    consultation_id: Id
    text: Annotated[str, Field(max_length=500)] = ""


class RemoveParticipant(Message):
    """GP: take one participant (an invited professional, or the patient) out of the
    consultation without ending the call. Their link stops working."""

    type: Literal["remove.participant"]
    consultation_id: Id
    participant_id: Id


class Chat(Message):
    """A text message to everyone in the call. Relayed, never stored."""

    type: Literal["chat"]
    text: Text


ClientMessage = Annotated[
    Hello
    | Admit
    | Rejoin
    | Signal
    | MediaState
    | Leave
    | End
    | SendMessage
    | Transfer
    | Hold
    | Remove
    | RemoveParticipant
    | Chat
    | CallReport
    | NoteTakerOffer
    | NoteTakerConsent
    | NoteTakerStop,
    Field(discriminator="type"),
]
# The `type` of every client message, derived from the union above.
CLIENT_TYPES = frozenset(
    get_args(model.model_fields["type"].annotation)[0]
    for model in get_args(get_args(ClientMessage)[0])
)
_client_adapter: TypeAdapter[Any] = TypeAdapter(ClientMessage)


# ---- server -> browser ----------------------------------------------------------------------


class Error(Message):
    """A message could not be honoured. The connection stays open. With `retry_after_ms`
    (code `overloaded`) the server was too busy to take it: send the same again after that
    long, backing off (server/signalling/relay.py)."""

    type: Literal["error"] = "error"
    code: str
    message: str
    retry_after_ms: int | None = None


class ClinicNote(BaseModel):
    text: str
    at: float


class Welcome(Message):
    type: Literal["welcome"] = "welcome"
    role: Literal["patient", "gp", "staff"]
    connection_id: str
    participant_id: str | None = None
    state: Literal["waiting", "in_call", "ended", "idle"]
    active_call: str | None = None  # GP: a call this user holds and can rejoin
    # Patient: what the waiting screen needs besides the place in the queue.
    clinic_phone: str | None = None
    wait_limit_minutes: int | None = None
    waiting_since: float | None = None
    scheduled_start: float | None = None
    messages: list[ClinicNote] | None = None


class Waiting(Message):
    """Patient: your place in the queue (1 = next) and the expected wait; or, while a booked
    patient's appointment is still ahead, that time (`appointment_at`), and the place is not
    shown (drop-ins arriving before it go first)."""

    type: Literal["waiting"] = "waiting"
    position: int
    eta_minutes: int
    appointment_at: float | None = None


def waiting_message(
    position: int, eta_minutes: int, appointment_at: float | None
) -> dict[str, Any]:
    """`Waiting`, built without the model: it is sent to every patient behind each admit."""
    message = {"v": VERSION, "type": "waiting", "position": position, "eta_minutes": eta_minutes}
    if appointment_at is not None:
        message["appointment_at"] = appointment_at
    return message


class ClinicMessage(Message):
    """Patient: a message from the clinic, for the waiting screen."""

    type: Literal["clinic.message"] = "clinic.message"
    text: str
    at: float


class Held(Message):
    """Patient: the doctor put you back in the queue, at the front; the call is paused."""

    type: Literal["held"] = "held"


class Removed(Message):
    """Patient or invited professional: the clinic took you out of the queue or the call."""

    type: Literal["removed"] = "removed"
    text: str


class ChatMessage(Message):
    type: Literal["chat"] = "chat"
    from_: str = Field(serialization_alias="from")
    display_name: str
    text: str
    at: float


class Left(Message):
    """Patient: you have left; nothing more will arrive."""

    type: Literal["left"] = "left"


class CallEnded(Message):
    type: Literal["call.ended"] = "call.ended"
    consultation_id: str
    billing_code: str


class Superseded(Message):
    """This tab was replaced by a newer one for the same participant; it will be closed."""

    type: Literal["superseded"] = "superseded"


ServerMessage = (
    Error
    | Welcome
    | ClinicState
    | LobbyEntryChanged
    | LobbyEntryRemoved
    | QueueEntryChanged
    | QueueEntryRemoved
    | DayEntryChanged
    | Waiting
    | ClinicMessage
    | Held
    | Removed
    | ChatMessage
    | CallJoined
    | PeerJoined
    | PeerLeft
    | RelayedSignal
    | PeerMediaState
    | Left
    | CallEnded
    | Superseded
    | NoteTakerStatus
    | NoteTakerTranscript
)


class ProtocolError(Exception):
    def __init__(
        self, code: str, message: str, ref: str | None = None, retry_after_ms: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref
        self.retry_after_ms = retry_after_ms


def parse_client_message(raw: str) -> Any:
    """Parse one frame, or raise ProtocolError with a stable code."""
    try:
        data = safejson.loads(raw)
    except safejson.BadJSON as exc:
        raise ProtocolError("malformed", str(exc)) from None
    if not isinstance(data, dict):
        raise ProtocolError("malformed", "a message is a JSON object")
    ref = data.get("ref")
    ref = ref if isinstance(ref, str) and len(ref) <= 64 else None  # fits the Error reply
    if type(data.get("v")) is not int or data["v"] != VERSION:
        raise ProtocolError("unsupported_version", f"this server speaks v{VERSION}", ref)
    if not isinstance(data.get("type"), str) or data["type"] not in CLIENT_TYPES:
        raise ProtocolError("unknown_type", "unknown message type", ref)
    try:
        return _client_adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:])
        raise ProtocolError("invalid_message", f"{where}: {first['msg']}", ref) from exc


def dump(message: BaseModel) -> dict[str, Any]:
    return message.model_dump(mode="json", by_alias=True, exclude_none=True)


def json_schema() -> dict[str, Any]:
    """The protocol as one JSON Schema document: client and server messages."""
    server_adapter: TypeAdapter[Any] = TypeAdapter(ServerMessage)
    return {
        "title": "almenvideo signalling protocol",
        "version": VERSION,
        "client_to_server": _client_adapter.json_schema(),
        "server_to_client": server_adapter.json_schema(mode="serialization"),
    }
