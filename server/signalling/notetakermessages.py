"""The note-taker's messages: the GP offers, the patient answers, anyone stops; every
screen is told its state, and the GP sees the live transcript."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from server.signalling.protocol import Id, Message


class NoteTakerOffer(Message):
    """GP: offer the AI note-taker to the patient of this consultation (clinics in the
    note-taker pilot only). The patient is asked on their own screen."""

    type: Literal["notetaker.offer"]
    consultation_id: Id


class NoteTakerConsent(Message):
    """Patient: the answer to the note-taker's consent text, naming the version shown."""

    type: Literal["notetaker.consent"]
    answer: Literal["given", "declined"]
    text_version: Annotated[str, Field(min_length=1, max_length=32)]
    language: Literal["da", "en"]


class NoteTakerStop(Message):
    """Anyone in the consultation: stop the note-taker. It is a withdrawal: the audio stops
    at once and everything captured so far is deleted."""

    type: Literal["notetaker.stop"]


class NoteTakerStatus(Message):
    """Everyone in the consultation: the note-taker's state. While it is `listening`, every
    screen shows so. The consent text comes along for the patient's dialog."""

    type: Literal["notetaker.state"] = "notetaker.state"
    consultation_id: str
    state: Literal[
        "off", "offered", "declined", "consented", "listening", "drafting", "drafted",
        "withdrawn", "failed",
    ]  # fmt: skip
    engine_label: str  # the engine's own description, for operators (English)
    clinical_use: bool
    engine_languages: tuple[str, ...] = ()  # what the screens describe the engine by, translated
    reason: str = ""  # why it failed, or who stopped it
    consent_version: str
    consent_text: dict[str, str]  # language -> text


class NoteTakerTranscript(Message):
    """GP: the live transcript. A partial is replaced by the next event of its speaker."""

    type: Literal["notetaker.transcript"] = "notetaker.transcript"
    consultation_id: str
    speaker: str
    start: float
    end: float
    text: str
    final: bool
    segment_id: str | None = None
