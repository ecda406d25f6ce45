"""When a patient's join link works.

A scheduled consultation's link opens 24 hours before the appointment (so the patient can
test their line in advance) and closes 4 hours after its planned end. A drop-in
consultation's link lives for 12 hours from creation. Revoked links and cancelled
consultations never work again. A link's record is kept a week past its window, so an old
link answers "expired" or "revoked" rather than "unknown".
"""

from __future__ import annotations

from enum import StrEnum

from server.store.consultations import Consultation, Status

OPENS_BEFORE = 24 * 3600
CLOSES_AFTER_END = 4 * 3600
DROP_IN_LIFETIME = 12 * 3600
KEEP_AFTER_CLOSE = 7 * 24 * 3600


class LinkState(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_YET = "not_yet"
    CANCELLED = "cancelled"
    ENDED = "ended"


def link_window(c: Consultation) -> tuple[float, float]:
    if c.scheduled_start is None:
        return c.created_at, c.created_at + DROP_IN_LIFETIME
    end = c.scheduled_start + c.duration_minutes * 60
    return c.scheduled_start - OPENS_BEFORE, end + CLOSES_AFTER_END


def link_ttl(c: Consultation, at: float) -> int:
    """Seconds from `at` to keep the record of a link to `c`: a week past its window, and
    never less than a minute (a link issued or rescheduled late still answers for a while)."""
    _, closes = link_window(c)
    return max(60, int(closes - at + KEEP_AFTER_CLOSE))


def link_state(c: Consultation | None, link_hash: str, revoked: bool, at: float) -> LinkState:
    if c is None:
        return LinkState.UNKNOWN
    if revoked or c.link_hash != link_hash:
        return LinkState.REVOKED
    return window_state(c, at)


def window_state(c: Consultation, at: float) -> LinkState:
    """Whether any link to the consultation (the patient's, an invitation) works at `at`."""
    if c.status == Status.CANCELLED:
        return LinkState.CANCELLED
    if c.status == Status.ENDED:
        return LinkState.ENDED
    opens, closes = link_window(c)
    if at < opens:
        return LinkState.NOT_YET
    if at > closes:
        return LinkState.EXPIRED
    return LinkState.OK
