"""The peer connections' messages: descriptions and ICE candidates relayed between the
browsers in a call, who the peers are, and each side's media state (muted, camera off,
audio only). Part of signalling protocol v1 (server/signalling/messages.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.signalling.protocol import Id, Message


class SessionDescription(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["offer", "answer"]
    sdp: Annotated[str, Field(max_length=60_000)]


class IceCandidate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidate: Annotated[str, Field(max_length=2_000)]
    sdpMid: Annotated[str, Field(max_length=64)] | None = None
    sdpMLineIndex: Annotated[int, Field(ge=0, le=64)] | None = None
    usernameFragment: Annotated[str, Field(max_length=256)] | None = None


class Signal(Message):
    """Relay a description or an ICE candidate to another participant in the same call."""

    type: Literal["signal"]
    to: Id
    description: SessionDescription | None = None
    candidate: IceCandidate | None = None


AudioOnly = Literal["bandwidth", "chosen"]


class MediaState(Message):
    """Tell the others in the call that this side muted or turned its camera off, and
    whether the call is audio only: because a line cannot carry video (`bandwidth`, found
    by a browser) or because the GP chose it (`chosen`). Every side mirrors that state."""

    type: Literal["media.state"]
    audio: bool
    video: bool
    audio_only: AudioOnly | None = None


class Peer(BaseModel):
    participant_id: str
    role: str
    display_name: str
    title: str | None = None  # an invited professional's job title and organisation
    organisation: str | None = None


class CallJoined(Message):
    """You are in the call. Open a peer connection to each peer listed."""

    type: Literal["call.joined"] = "call.joined"
    consultation_id: str
    participant_id: str
    peers: list[Peer]
    ice_servers: list[dict[str, Any]]


class PeerJoined(Message):
    """Someone (re)connected in your call: replace any peer connection you had with them."""

    type: Literal["peer.joined"] = "peer.joined"
    peer: Peer


class PeerLeft(Message):
    type: Literal["peer.left"] = "peer.left"
    participant_id: str
    reason: str


class RelayedSignal(Message):
    type: Literal["signal"] = "signal"
    from_: str = Field(serialization_alias="from")
    description: SessionDescription | None = None
    candidate: IceCandidate | None = None


class PeerMediaState(Message):
    type: Literal["media.state"] = "media.state"
    participant_id: str
    audio: bool
    video: bool
    audio_only: AudioOnly | None = None
