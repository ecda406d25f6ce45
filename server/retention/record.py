"""What a row of the retention table says (`Record`), the words it uses, and the periods the
retention job enforces (the rows describe them; Redis TTLs enforce the short ones)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DAY = 24 * 3600

# A cancelled clinic's data stays this long after the cancellation date, so the clinic can
# still fetch notes and the cancellation can be withdrawn; then it is deleted.
CANCELLATION_NOTICE_SECONDS = 30 * DAY
# A clinic with no login and no API use for this long is handled as cancelled (PLSP rule).
INACTIVITY_SECONDS = 365 * DAY
# ...after being warned this long before (on the admin page, and to the clinic's GPs).
INACTIVITY_WARNING_SECONDS = 30 * DAY
# Pilot evidence is pseudonymised when the pilot ends, and deleted this long after.
PILOT_EVALUATION_SECONDS = 183 * DAY
# A deleted clinic's bookkeeping (capacities, LPS vendor, its cancellation record) is kept
# this many whole years after the end of the year it was deleted in (bogføringsloven).
BOOKKEEPING_YEARS = 5
# Audit entries (who read or changed what) are kept five years, then trimmed.
AUDIT_SECONDS = 5 * 365 * DAY


class Personal(StrEnum):
    """How the record relates to a person."""

    NO = "no"
    PSEUDONYMOUS = "pseudonymous"  # ids or hashes only; a person only through other records
    YES = "yes"  # names a professional or a patient
    HEALTH = "health"  # patient data of a special category (GDPR art. 9)


class Scope(StrEnum):
    """Whose data it is, which decides what a clinic's deletion removes."""

    CLINIC = "clinic"  # deleted with the clinic (server.retention.clinics)
    KEPT = "kept"  # law or economy requires it: stays when a clinic is deleted
    PLATFORM = "platform"  # not a clinic's: the platform's own configuration or machinery


@dataclass(frozen=True)
class Record:
    family: str  # the name in server.store.keys
    holds: str
    personal: Personal
    why: str
    keep: str  # how long
    ends: str  # what ends it
    scope: Scope


P, C, K = Scope.PLATFORM, Scope.CLINIC, Scope.KEPT
NO, PSEUDO, YES, HEALTH = Personal.NO, Personal.PSEUDONYMOUS, Personal.YES, Personal.HEALTH
CONSULTATION = "14 days"
CONSULTATION_ENDS = "Redis TTL from creation; clinic deletion"
