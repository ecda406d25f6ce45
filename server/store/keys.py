"""Every Redis key and channel the app uses, in one place.

Hashes hold aggregates; sorted sets hold orderings; `*_channel` names are pub/sub channels.
Secrets (join links, sessions, API keys) are only ever stored under their SHA-256 hash.
"""

PREFIX = "av"

EVENTS = f"{PREFIX}:events"  # stream: every domain change, read by consumer groups
WAITING_LAST_SEEN = f"{PREFIX}:waiting:last_seen"  # zset participant id -> last heartbeat (unix s)


def clinic(clinic_id: str) -> str:
    return f"{PREFIX}:clinic:{clinic_id}"


def clinic_by_ydernummer(ydernummer: str) -> str:
    return f"{PREFIX}:clinic_by_ydernummer:{ydernummer}"


def clinic_day(clinic_id: str, day: str) -> str:
    """Sorted set of the clinic's consultations on a Copenhagen day (YYYY-MM-DD), by start."""
    return f"{PREFIX}:clinic:{clinic_id}:day:{day}"


def clinic_queue(clinic_id: str) -> str:
    """Sorted set of waiting consultation ids, scored by queue order."""
    return f"{PREFIX}:clinic:{clinic_id}:queue"


def clinic_channel(clinic_id: str) -> str:
    """The clinic's professionals: queue and day-list changes."""
    return f"{PREFIX}:ch:clinic:{clinic_id}"


def queue_channel(clinic_id: str) -> str:
    """The clinic's waiting patients: who joined or left the queue, by queue key only."""
    return f"{PREFIX}:ch:queue:{clinic_id}"


def clinic_durations(clinic_id: str) -> str:
    """List of the clinic's recent call lengths in seconds, newest first (for the ETA)."""
    return f"{PREFIX}:clinic:{clinic_id}:durations"


def clinic_gps_online(clinic_id: str) -> str:
    """Sorted set of GP user ids by the last time their console was connected."""
    return f"{PREFIX}:clinic:{clinic_id}:gps_online"


def clinic_absences(clinic_id: str) -> str:
    """Hash of the clinic's absences: absence id -> JSON."""
    return f"{PREFIX}:clinic:{clinic_id}:absences"


def clinic_users(clinic_id: str) -> str:
    """Set of the clinic's professional user ids."""
    return f"{PREFIX}:clinic:{clinic_id}:users"


def consultation_messages(consultation_id: str) -> str:
    """List of JSON messages the clinic sent the waiting patient."""
    return f"{PREFIX}:consultation:{consultation_id}:messages"


def dropin_link(token_hash: str) -> str:
    return f"{PREFIX}:dropin:{token_hash}"


def consultation(consultation_id: str) -> str:
    return f"{PREFIX}:consultation:{consultation_id}"


def consultation_by_external(vendor_id: str, external_id: str) -> str:
    return f"{PREFIX}:consultation_by_external:{vendor_id}:{external_id}"


def call_members(consultation_id: str) -> str:
    """Set of participant ids currently in the call."""
    return f"{PREFIX}:consultation:{consultation_id}:members"


def join_link(token_hash: str) -> str:
    return f"{PREFIX}:link:{token_hash}"


def participant(participant_id: str) -> str:
    return f"{PREFIX}:participant:{participant_id}"


def participant_channel(participant_id: str) -> str:
    return f"{PREFIX}:ch:participant:{participant_id}"


def presence(participant_id: str) -> str:
    """Exists while the participant has a live socket on some instance (TTL, refreshed)."""
    return f"{PREFIX}:presence:{participant_id}"


def user(user_id: str) -> str:
    return f"{PREFIX}:user:{user_id}"


def username(name: str) -> str:
    return f"{PREFIX}:username:{name.lower()}"


def login_failures(name: str) -> str:
    return f"{PREFIX}:login_failures:{name.lower()}"


def session(token_hash: str) -> str:
    return f"{PREFIX}:session:{token_hash}"


def vendor(vendor_id: str) -> str:
    return f"{PREFIX}:vendor:{vendor_id}"


def api_key(token_hash: str) -> str:
    return f"{PREFIX}:apikey:{token_hash}"


ORGANISATIONS = f"{PREFIX}:organisations"  # set of organisation ids
AUDIT = f"{PREFIX}:audit"  # stream: who looked at what (directory look-ups), kept apart from events


def organisation(organisation_id: str) -> str:
    return f"{PREFIX}:organisation:{organisation_id}"


def organisation_by_code(municipality_code: str) -> str:
    return f"{PREFIX}:organisation_by_code:{municipality_code}"


def organisation_users(organisation_id: str) -> str:
    """Set of the organisation's staff user ids."""
    return f"{PREFIX}:organisation:{organisation_id}:users"


def organisation_api_key(token_hash: str) -> str:
    return f"{PREFIX}:orgkey:{token_hash}"


def demo() -> str:
    """Ids of the objects `almenvideo demo-setup` made, so it can run again idempotently."""
    return f"{PREFIX}:demo"
