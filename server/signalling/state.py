"""Where a signalling socket stands, and the moves allowed between those states.

As aiortc does with `signalingState`: the states are an enum, and every change goes
through one check against this table, so a control arriving late (an `admitted` after the
patient left, say) can be recognised and ignored rather than half-applied.
"""

from __future__ import annotations

from enum import StrEnum


class SessionState(StrEnum):
    NEW = "new"  # no hello yet
    IDLE = "idle"  # a GP's console with no call; anyone whose seat was given up
    WAITING = "waiting"  # a patient in the queue
    LOBBY = "lobby"  # an invited professional waiting to be let in
    IN_CALL = "in_call"
    CLOSED = "closed"  # superseded by a newer tab, or the socket is gone


_ALLOWED: dict[SessionState, frozenset[SessionState]] = {
    SessionState.NEW: frozenset(
        {
            SessionState.IDLE,
            SessionState.WAITING,
            SessionState.LOBBY,
            SessionState.IN_CALL,
            SessionState.CLOSED,
        }
    ),
    SessionState.IDLE: frozenset({SessionState.IN_CALL, SessionState.CLOSED}),
    SessionState.WAITING: frozenset({SessionState.IN_CALL, SessionState.IDLE, SessionState.CLOSED}),
    SessionState.LOBBY: frozenset({SessionState.IN_CALL, SessionState.IDLE, SessionState.CLOSED}),
    SessionState.IN_CALL: frozenset({SessionState.WAITING, SessionState.IDLE, SessionState.CLOSED}),
    SessionState.CLOSED: frozenset(),
}


class InvalidStateTransition(Exception):
    pass


def may_move(current: SessionState, to: SessionState) -> bool:
    """Staying put is always allowed (a GP admitting a second party into the same call)."""
    return to == current or to in _ALLOWED[current]


def check_move(current: SessionState, to: SessionState) -> SessionState:
    if not may_move(current, to):
        raise InvalidStateTransition(f"{current} -> {to}")
    return to
