"""Engines are plugins: any distribution can add one under the `almenvideo.notetakers` group.

An entry point names an engine class. The class carries `info` and a classmethod
`unavailable_reason(**options)` so the registry can say *why* an engine cannot run here
without constructing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, Protocol, cast

from server.notetaker.protocol import Engine, EngineInfo, EngineUnavailable

GROUP = "almenvideo.notetakers"


class EngineFactory(Protocol):
    info: ClassVar[EngineInfo]

    @classmethod
    def unavailable_reason(cls, **options: Any) -> str | None: ...

    def __call__(self, **options: Any) -> Engine: ...


@dataclass(frozen=True)
class Availability:
    name: str
    info: EngineInfo | None
    reason: str | None

    @property
    def available(self) -> bool:
        return self.reason is None


def names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def availability(name: str, **options: Any) -> Availability:
    try:
        factory = _load(name)
    except EngineUnavailable as exc:
        return Availability(name, None, str(exc))
    return Availability(name, factory.info, factory.unavailable_reason(**options))


def create(name: str, **options: Any) -> Engine:
    factory = _load(name)
    reason = factory.unavailable_reason(**options)
    if reason is not None:
        raise EngineUnavailable(f"{name}: {reason}")
    return factory(**options)


def _load(name: str) -> EngineFactory:
    found: list[EntryPoint] = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        raise EngineUnavailable(f"no note-taker engine named {name!r} (known: {names()})")
    try:
        return cast(EngineFactory, found[0].load())
    except ImportError as exc:
        raise EngineUnavailable(
            f"{name}: {exc}; install the 'notetaker' extra: pip install 'almenvideo[notetaker]'"
        ) from exc
