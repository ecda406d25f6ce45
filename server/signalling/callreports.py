"""What a browser tells of its connection in a call: the first frame, an ICE failure, and
a summary every minute (server/callquality keeps them, per call attempt)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from server.signalling.protocol import Id, Message

CandidateType = Literal["host", "srflx", "prflx", "relay"]
Millis = Annotated[int, Field(ge=0, le=3_600_000)]
Kbps = Annotated[int, Field(ge=0, le=100_000)]


class CallReport(Message):
    """Any seat in a call: how this side's connection with `peer` went, read from
    `getStats()`. Sent at the first decoded remote frame (`media`), on an ICE failure
    before it (`failed`), every minute (`update`), and by the side that ends, leaves or
    holds the call just before it does (`final`); the server keeps the latest per seat
    and times the first media itself. Only the GP's connection with the patient and the
    patient's with the GP count towards an attempt. Only enums and bounded numbers: nothing
    in it can carry a name or free text."""

    type: Literal["call.report"]
    peer: Id  # the participant at the other end of this connection
    phase: Literal["media", "failed", "update", "final"]
    media: bool  # a remote video frame (or, without video, audio) has been decoded
    failure: Literal["ice_failed", "permission_denied", "no_local_media"] | None = None
    local_candidate: CandidateType | None = None
    remote_candidate: CandidateType | None = None
    transport: Literal["udp", "tcp", "tls"] | None = None  # a relay's: the TURN leg's
    ice_restarts: Annotated[int, Field(ge=0, le=1_000)] = 0
    media_ms: Millis | None = None  # the browser's own time from joining to first media
    rtt_ms: Annotated[int, Field(ge=0, le=60_000)] | None = None
    loss_per_mille: Annotated[int, Field(ge=0, le=1_000)] | None = None
    inbound_kbps: Kbps | None = None
    outbound_kbps: Kbps | None = None
