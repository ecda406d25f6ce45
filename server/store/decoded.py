"""Redis replies typed as our client returns them: decoded to str.

redis-py types every reply as `bytes | str`, since only the connection knows whether it
decodes; ours always does (`decode_responses=True` in `connection.py`). Each function here
says so once, for the type checker, and returns its argument unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import cast, overload

from redis.typing import EncodableT, FieldT

# A stream entry: its id and its fields. XREADGROUP and XAUTOCLAIM give None for the
# fields of an entry deleted since it was delivered.
Entry = tuple[str, dict[str, str]]
PendingEntry = tuple[str, dict[str, str] | None]


@overload
def text(reply: bytes | str) -> str: ...
@overload
def text(reply: bytes | str | None) -> str | None: ...
def text(reply: bytes | str | None) -> str | None:
    """GET, HGET, GETDEL."""
    return cast("str | None", reply)


def fields(reply: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    """HGETALL."""
    return cast("dict[str, str]", reply)


def members(reply: Iterable[bytes | str]) -> set[str]:
    """SMEMBERS."""
    return cast("set[str]", reply)


def strings(reply: Sequence[object]) -> list[str]:
    """LRANGE, HVALS, and ZRANGE without scores."""
    return cast("list[str]", reply)


def scored(reply: Sequence[object]) -> list[tuple[str, float]]:
    """ZRANGE WITHSCORES."""
    return cast("list[tuple[str, float]]", reply)


def entries(reply: Sequence[object] | None) -> list[Entry]:
    """XRANGE, XREVRANGE: a range of a stream is never None, at worst empty."""
    return cast("list[Entry]", reply)


def streams(reply: object) -> list[tuple[str, list[PendingEntry]]] | None:
    """XREADGROUP: each stream read (a two-item list), with its entries; None if the block
    timed out."""
    return cast("list[tuple[str, list[PendingEntry]]] | None", reply)


def writable(mapping: Mapping[str, EncodableT]) -> dict[FieldT, EncodableT]:
    """Fields for HSET or XADD. redis-py wants them keyed by its whole key union, which a
    mapping keyed by str is not to a type checker (a mapping's key type is invariant)."""
    return cast("dict[FieldT, EncodableT]", mapping)
