"""Every Redis key and channel the app uses, in one place: `keys.X` (the economy's keys are
written in `moneykeys` and re-exported here).

Hashes hold aggregates; sorted sets hold orderings; `*_channel` names are pub/sub channels.
Secrets (join links, sessions, API keys) are only ever stored under their SHA-256 hash.
"""

from server.store.keyprefix import PREFIX
from server.store.moneykeys import *  # noqa: F403 (re-exported: every key is keys.X)

EVENTS = f"{PREFIX}:events"  # stream: every domain change, read by consumer groups
WAITING_LAST_SEEN = f"{PREFIX}:waiting:last_seen"  # zset participant id -> last heartbeat (unix s)
# Until when (unix s) no waiting patient may be judged absent: an instance found Redis back
# after failing to reach it, and live sockets first re-assert their place (queue.vanished).
SWEEP_HELD_UNTIL = f"{PREFIX}:sweep_held_until"
# Counter bumped before a WAIT, so the WAIT covers every earlier write, from any connection
# (server.store.durability).
REPLICATION_FENCE = f"{PREFIX}:replication_fence"

# Set of the instances that said they are alive and were not yet found dead (instances.py).
INSTANCES = f"{PREFIX}:instances"
# Until when (unix s) no instance may be judged dead: Redis was unreachable, and every live
# instance first gets the time to say it is alive again.
BURIALS_HELD_UNTIL = f"{PREFIX}:burials_held_until"


def instance_alive(instance_id: str) -> str:
    """Exists while the instance runs: a few seconds' TTL, refreshed every second or so."""
    return f"{PREFIX}:instance:{instance_id}:alive"


def instance_patients(instance_id: str) -> str:
    """Sorted set of the waiting patients whose socket the instance holds, by last beat."""
    return f"{PREFIX}:instance:{instance_id}:patients"


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


def clinic_queue_count(clinic_id: str) -> str:
    """Counter of the moves of the clinic's queue, bumped by each in the same Lua step: a
    place read with it ignores the deltas it already contains."""
    return f"{PREFIX}:clinic:{clinic_id}:queue_count"


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


def consultation_notetaker(consultation_id: str) -> str:
    """Hash: the note-taker's state in this consultation (offered, consented, listening...),
    its engine and why it stopped. No content."""
    return f"{PREFIX}:consultation:{consultation_id}:notetaker"


def consultation_consent(consultation_id: str) -> str:
    """List of JSON consent records for the note-taker (who, when, which text, how): the
    proof of consent and of its withdrawal, kept as long as the consultation record."""
    return f"{PREFIX}:consultation:{consultation_id}:consent"


def consultation_transcript(consultation_id: str) -> str:
    """List of JSON transcript segments from the note-taker. Purged on withdrawal, deleted
    with the note when the LPS acknowledges it, and expires with the note's retention."""
    return f"{PREFIX}:consultation:{consultation_id}:transcript"


def notetaker_channel(consultation_id: str) -> str:
    """The instance running this consultation's note-taker listens here (end, withdraw)."""
    return f"{PREFIX}:ch:notetaker:{consultation_id}"


def consultation_note(consultation_id: str) -> str:
    """JSON of the consultation's note (draft or approved), or, once the LPS acknowledged
    it, only when that was. Expires with the note's retention."""
    return f"{PREFIX}:consultation:{consultation_id}:note"


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
    """Exists while the participant has a live socket on some instance (TTL, refreshed); its
    value is that instance's id, so the patients of an instance found dead are known."""
    return f"{PREFIX}:presence:{participant_id}"


def user(user_id: str) -> str:
    return f"{PREFIX}:user:{user_id}"


def username(name: str) -> str:
    return f"{PREFIX}:username:{name.lower()}"


def dropin_address(address_hash: str, window: int) -> str:
    """Drop-in joins from one client address group (hashed) in a 10-minute window."""
    return f"{PREFIX}:dropin:address:{address_hash}:{window}"


def dropin_clinic(clinic_id: str, window: int) -> str:
    """Drop-in joins to one clinic in a 10-minute window (server.waitingroom.dropinlimit)."""
    return f"{PREFIX}:dropin:clinic:{clinic_id}:{window}"


def login_address(address_hash: str) -> str:
    """Hash {failures, last}: failed logins from one client address group (hashed), any
    name; lapses 15 minutes after the last (server.auth.loginattempts)."""
    return f"{PREFIX}:login:address:{address_hash}"


def login_name_last(name: str) -> str:
    """When the name (lower case) last failed to log in, unix seconds."""
    return f"{PREFIX}:login:name:{name.lower()}:last"


def login_name_addresses(name: str) -> str:
    """Set of the (hashed) address groups that failed on the name lately."""
    return f"{PREFIX}:login:name:{name.lower()}:addresses"


def login_known_addresses(name: str) -> str:
    """Set of the (hashed) address groups the name logged in from in the last 30 days."""
    return f"{PREFIX}:login:name:{name.lower()}:known"


def session(token_hash: str) -> str:
    return f"{PREFIX}:session:{token_hash}"


def vendor(vendor_id: str) -> str:
    return f"{PREFIX}:vendor:{vendor_id}"


def vendor_clinics(vendor_id: str) -> str:
    """Set: every clinic whose `clinic_lps_vendor` history has ever named the vendor. An
    index only: which of them the vendor serves is what that history says for today."""
    return f"{PREFIX}:vendor:{vendor_id}:clinics"


def vendor_keys(vendor_id: str) -> str:
    """Hash of the vendor's API keys: key id -> JSON {hash, label, created_at}."""
    return f"{PREFIX}:vendor:{vendor_id}:keys"


def api_key(token_hash: str) -> str:
    return f"{PREFIX}:apikey:{token_hash}"


VENDORS = f"{PREFIX}:vendors"  # set of every vendor id made since it existed (for pickers)


def gp_consultations_held(gp_id: str) -> str:
    """Sorted set: consultation id -> when its call ended with a billing code, for the GP.
    The pilot evidence's denominator (ids and times only)."""
    return f"{PREFIX}:gp:{gp_id}:consultations_held"


CLINICS = f"{PREFIX}:clinics"  # set of every clinic id, for the directory's search
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


def organisation_api_keys(organisation_id: str) -> str:
    """Sorted set of the hashes of the organisation's API keys, by creation time."""
    return f"{PREFIX}:organisation:{organisation_id}:keys"


def user_channel(user_id: str) -> str:
    """The sockets a professional opened while logged in: told when their login ends."""
    return f"{PREFIX}:ch:user:{user_id}"


def user_sessions(user_id: str) -> str:
    """Set of the hashes of the user's sessions, so they can all be ended at once."""
    return f"{PREFIX}:user:{user_id}:sessions"


def invitation(invitation_id: str) -> str:
    return f"{PREFIX}:invitation:{invitation_id}"


def invitation_by_token(token_hash: str) -> str:
    return f"{PREFIX}:invitation_by_token:{token_hash}"


def consultation_invitations(consultation_id: str) -> str:
    """Set of the consultation's invitation ids."""
    return f"{PREFIX}:consultation:{consultation_id}:invitations"


def clinic_lobby(clinic_id: str) -> str:
    """Sorted set of invited professionals' participant ids waiting to be let in, by arrival."""
    return f"{PREFIX}:clinic:{clinic_id}:lobby"


def idempotency(vendor_id: str, key_hash: str) -> str:
    """A vendor's Idempotency-Key (hashed): the request's fingerprint and the stored answer."""
    return f"{PREFIX}:idempotency:{vendor_id}:{key_hash}"


def api_rate(key_owner: str, minute: int) -> str:
    """Requests counted in one minute for one API key owner."""
    return f"{PREFIX}:ratelimit:{key_owner}:{minute}"


# Where the CPR hash's key was once kept, beside the hashes; now outside Redis
# (server.auth.cprkey). Only `almenvideo forget-old-cpr-hashes` still touches it: to delete it.
LEGACY_CPR_PEPPER = f"{PREFIX}:secret:cpr_pepper"


def demo() -> str:
    """Ids of the objects `almenvideo demo-setup` made, so it can run again idempotently."""
    return f"{PREFIX}:demo"


# Set of vendor ids with a webhook that receives: registered, and not disabled by a 410.
WEBHOOK_VENDORS = f"{PREFIX}:webhook_vendors"


def webhook(vendor_id: str) -> str:
    """Hash: url, secret, updated_at; previous_secret and previous_until while a rotated
    secret still signs too; disabled_at and disabled_reason after the endpoint answered 410.
    The secrets are stored as is, not hashed, because the platform must sign with them."""
    return f"{PREFIX}:vendor:{vendor_id}:webhook"


def webhook_due(vendor_id: str) -> str:
    """Sorted set: the vendor's pending deliveries (event id) -> when next to try (unix s)."""
    return f"{PREFIX}:vendor:{vendor_id}:webhook:due"


def webhook_messages(vendor_id: str) -> str:
    """Hash: event id -> JSON of a pending delivery (the exact body, attempts, first try)."""
    return f"{PREFIX}:vendor:{vendor_id}:webhook:messages"


def webhook_dead_letters(vendor_id: str) -> str:
    """List: deliveries given up on, newest first (JSON), capped."""
    return f"{PREFIX}:vendor:{vendor_id}:webhook:dead"


def embed_token(token_hash: str) -> str:
    """JSON of an unused embed-session token (vendor, consultation, GP); 60 s TTL, and taken
    with GETDEL on first use, so it works once."""
    return f"{PREFIX}:embed:{token_hash}"


def embed_issued(token_hash: str) -> str:
    """The vendor id an embed token was issued to, kept a day after it is spent or expired,
    so its 410 page can still be shown inside that vendor's frame."""
    return f"{PREFIX}:embed:{token_hash}:issued"


def embed_session(session_hash: str) -> str:
    """JSON {vendor_id, consultation_id} of a GP session opened by an embed token; lives as
    long as the session. It names the vendor whose origins may frame that session's pages."""
    return f"{PREFIX}:session:{session_hash}:embed"


def pilot_notetaker(consultation_id: str) -> str:
    """Hash: one consultation's evidence for the note-taker pilot (ids, times, counts, engine
    names; never a patient's name or a word of the note). No TTL: it outlives the note."""
    return f"{PREFIX}:pilot:notetaker:{consultation_id}"


def pilot_notetaker_offered() -> str:
    """Sorted set of the note-taker pilot's consultation ids, by when it was first offered."""
    return f"{PREFIX}:pilot:notetaker_offered"


CALL_ATTEMPTS = f"{PREFIX}:call_attempts"  # zset: call attempt id -> admitted at (unix s)


def call_attempt(attempt_id: str) -> str:
    """Hash: one call attempt (an admit) for the success rate: ids, times, and each side's
    latest `call.report` as JSON. No names or free text. Expires after the retention."""
    return f"{PREFIX}:call_attempt:{attempt_id}"


def consultation_attempt(consultation_id: str) -> str:
    """The id of the consultation's latest call attempt, where its browsers' reports go."""
    return f"{PREFIX}:consultation:{consultation_id}:attempt"


# Retention (server.retention): what ends a clinic's data, and the job's lock.
CLINIC_CANCELLATIONS = f"{PREFIX}:retention:cancellations"  # hash: clinic id -> JSON record
CLINIC_LAST_ACCESS = f"{PREFIX}:retention:last_access"  # hash: clinic id -> unix s of last use
CLINIC_INACTIVITY_WARNINGS = f"{PREFIX}:retention:warned"  # hash: clinic id -> warned at (unix s)
PILOT_NOTETAKER_ENDED = f"{PREFIX}:retention:pilot_notetaker_ended"  # ISO day the pilot ended
RETENTION_LOCK = f"{PREFIX}:retention:lock"  # held (with a TTL) by the one job running
