"""The configured engine: its options from the settings, whether it can run, its language."""

from __future__ import annotations

from typing import Any

from server.notetaker import registry
from server.notetaker.protocol import Engine, EngineInfo
from server.settings import Settings


def options(settings: Settings) -> dict[str, Any]:
    """What the shipped engines need; a third-party engine is created with none."""
    name = settings.notetaker_engine
    if name == "http":
        return {"url": settings.notetaker_http_url, "token": settings.notetaker_http_token}
    if name == "faster-whisper":
        return {"model_dir": settings.notetaker_model_dir or None}
    return {}


def availability(settings: Settings) -> registry.Availability:
    return registry.availability(settings.notetaker_engine, **options(settings))


def create(settings: Settings) -> Engine:
    return registry.create(settings.notetaker_engine, **options(settings))


def language(settings: Settings, info: EngineInfo) -> str:
    """The configured language if the engine has it (or does not say), else its first."""
    wanted = settings.notetaker_language
    return wanted if not info.languages or wanted in info.languages else info.languages[0]
