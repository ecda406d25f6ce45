"""The protocol's frame: what every signalling message, either way, carries.

One JSON object per WebSocket text frame, each with `"v": 1` and a `type`; `ref` lets a
client match an error reply to what it sent.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

VERSION: Final = 1

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Token = Annotated[str, Field(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: Literal[1] = VERSION
    ref: Annotated[str, Field(max_length=64)] | None = None  # echoed in an error reply
