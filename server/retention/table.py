"""The retention table: every kind of record the platform keeps, as data.

One row per key family in `server.store.keys`; `tests/unit/test_retention_table.py` fails
when a family has no row, and `docs/retention.md` is generated from these rows
(`almenvideo retention doc`). The periods the job enforces are the constants below; the
rows describe them, and Redis TTLs enforce the short ones.
"""

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

TABLE: tuple[Record, ...] = (
    # Patients and consultations
    Record(
        "consultation",
        "one consultation: times, status, billing code, the patient's typed name, phone,"
        " LPS patient reference, keyed CPR hash",
        HEALTH,
        "run the waiting room and the call; tell the GP the billing code",
        CONSULTATION,
        CONSULTATION_ENDS,
        C,
    ),
    Record(
        "consultation_by_external",
        "the LPS booking id -> consultation id",
        PSEUDO,
        "let the LPS find its booking again",
        CONSULTATION,
        CONSULTATION_ENDS,
        C,
    ),
    Record(
        "clinic_day",
        "the clinic's consultation ids on one day",
        PSEUDO,
        "the GP's day list",
        CONSULTATION,
        CONSULTATION_ENDS,
        C,
    ),
    Record(
        "clinic_queue",
        "waiting consultation ids in order",
        PSEUDO,
        "the queue",
        "while waiting",
        "admit, leave or sweep; clinic deletion",
        C,
    ),
    Record(
        "clinic_queue_count",
        "a counter of queue moves",
        NO,
        "consistent queue places",
        "while the clinic exists",
        "clinic deletion",
        C,
    ),
    Record(
        "consultation_messages",
        "messages the clinic sent the waiting patient",
        HEALTH,
        "tell the patient about delays",
        CONSULTATION,
        CONSULTATION_ENDS,
        C,
    ),
    Record(
        "consultation_notetaker",
        "the note-taker's state and engine; no content",
        PSEUDO,
        "run the note-taker and its consent gate",
        CONSULTATION,
        CONSULTATION_ENDS,
        C,
    ),
    Record(
        "consultation_consent",
        "the note-taker consent records: who, when, which text, how",
        YES,
        "proof of consent and of its withdrawal (GDPR art. 7)",
        CONSULTATION,
        CONSULTATION_ENDS,
        C,
    ),
    Record(
        "consultation_transcript",
        "the note-taker's transcript segments",
        HEALTH,
        "draft the note",
        "7 days at most",
        "consent withdrawn; LPS acknowledges the note; TTL; clinic deletion",
        C,
    ),
    Record(
        "consultation_note",
        "the drafted or approved note, then only when the LPS acknowledged it",
        HEALTH,
        "hand the note to the LPS",
        "7 days at most (ALMENVIDEO_NOTE_RETENTION_DAYS)",
        "LPS acknowledges it; TTL; clinic deletion",
        C,
    ),
    Record(
        "call_members",
        "participant ids in the call",
        PSEUDO,
        "route the call",
        CONSULTATION,
        CONSULTATION_ENDS,
        C,
    ),
    Record(
        "consultation_invitations",
        "the consultation's invitation ids",
        PSEUDO,
        "cross-sector calls",
        CONSULTATION,
        CONSULTATION_ENDS,
        C,
    ),
    Record(
        "invitation",
        "an invited professional: name, organisation, phone",
        YES,
        "let another professional join",
        CONSULTATION,
        CONSULTATION_ENDS,
        C,
    ),
    Record(
        "invitation_by_token",
        "an invitation link's token hash -> invitation id",
        PSEUDO,
        "open the invitation link",
        CONSULTATION,
        CONSULTATION_ENDS,
        C,
    ),
    Record(
        "join_link",
        "a patient link's token hash -> consultation",
        PSEUDO,
        "open the patient's link",
        "until the link's window closes",
        "TTL; revoked; clinic deletion",
        C,
    ),
    Record(
        "dropin_link",
        "a drop-in link's token hash -> clinic",
        NO,
        "the clinic's open video hour",
        "while the clinic exists",
        "re-issued; clinic deletion",
        C,
    ),
    Record(
        "participant",
        "one participant: role, display name, resume token hash",
        YES,
        "resume a dropped connection",
        CONSULTATION,
        CONSULTATION_ENDS,
        C,
    ),
    Record(
        "presence",
        "a participant has a live socket",
        PSEUDO,
        "find vanished patients",
        "25 seconds",
        "TTL",
        C,
    ),
    Record(
        "WAITING_LAST_SEEN",
        "participant id -> last heartbeat",
        PSEUDO,
        "find vanished patients",
        "while waiting",
        "sweep",
        P,
    ),
    Record(
        "clinic_lobby",
        "invited professionals waiting to be let in",
        PSEUDO,
        "the GP lets them in",
        "while waiting",
        "admit or leave; clinic deletion",
        C,
    ),
    Record(
        "consultation_attempt",
        "the consultation's latest call attempt id",
        PSEUDO,
        "file the browsers' call reports",
        "14 weeks",
        "TTL",
        C,
    ),
    Record(
        "call_attempt",
        "one admit: ids, times, each side's technical call report",
        PSEUDO,
        "the call success rate",
        "14 weeks",
        "TTL; clinic deletion",
        C,
    ),
    Record(
        "CALL_ATTEMPTS",
        "call attempt ids by time",
        PSEUDO,
        "the call success rate",
        "14 weeks",
        "trimmed on write; clinic deletion",
        P,
    ),
    # Clinics and their people
    Record(
        "clinic",
        "the clinic's directory entry: name, ydernummer, phones, address, hours",
        YES,
        "the waiting room and the directory for professionals",
        "while the clinic is a customer",
        "clinic deletion",
        C,
    ),
    Record(
        "clinic_by_ydernummer",
        "ydernummer -> clinic id",
        NO,
        "find the clinic",
        "while the clinic is a customer",
        "clinic deletion",
        C,
    ),
    Record(
        "CLINICS",
        "every clinic id",
        NO,
        "the directory's search",
        "while the clinic is a customer",
        "clinic deletion",
        P,
    ),
    Record(
        "clinic_absences",
        "the clinic's holidays and absences, with substitutes",
        YES,
        "tell professionals who covers",
        "while the clinic is a customer",
        "the clinic deletes it; clinic deletion",
        C,
    ),
    Record(
        "clinic_durations",
        "recent call lengths in seconds",
        NO,
        "the patients' wait estimate",
        "the latest 50",
        "trimmed on write; clinic deletion",
        C,
    ),
    Record(
        "clinic_gps_online",
        "GP ids by when their console was last open",
        PSEUDO,
        "is a GP in",
        "while the clinic is a customer",
        "clinic deletion",
        C,
    ),
    Record(
        "clinic_users",
        "the clinic's user ids",
        PSEUDO,
        "accounts per clinic",
        "while the clinic is a customer",
        "clinic deletion",
        C,
    ),
    Record(
        "clinic_capacities",
        "number of GP capacities from a date",
        NO,
        "the PLSP subscription invoice",
        "5 years after the financial year (bogføringsloven); of a deleted clinic, 5 years"
        " after the end of the year it was deleted in",
        "kept on clinic deletion; then the retention job",
        K,
    ),
    Record(
        "clinic_lps_vendor",
        "which LPS vendor invoices the clinic, from a date",
        NO,
        "the PLSP subscription invoice",
        "5 years after the financial year (bogføringsloven); of a deleted clinic, 5 years"
        " after the end of the year it was deleted in",
        "kept on clinic deletion; then the retention job",
        K,
    ),
    Record(
        "clinic_channel",
        "pub/sub channel; stores nothing",
        NO,
        "live updates",
        "nothing stored",
        "-",
        P,
    ),
    Record(
        "queue_channel",
        "pub/sub channel; stores nothing",
        NO,
        "live updates",
        "nothing stored",
        "-",
        P,
    ),
    Record(
        "participant_channel",
        "pub/sub channel; stores nothing",
        NO,
        "live updates",
        "nothing stored",
        "-",
        P,
    ),
    Record(
        "notetaker_channel",
        "pub/sub channel; stores nothing",
        NO,
        "live updates",
        "nothing stored",
        "-",
        P,
    ),
    Record(
        "user_channel",
        "pub/sub channel; stores nothing",
        NO,
        "live updates",
        "nothing stored",
        "-",
        P,
    ),
    Record(
        "user",
        "a professional's account: name, role, clinic or organisation, password hash",
        YES,
        "log in",
        "while the account exists",
        "deleted by an admin; clinic deletion",
        C,
    ),
    Record(
        "username",
        "user name -> user id",
        YES,
        "log in",
        "while the account exists",
        "account or clinic deletion",
        C,
    ),
    Record(
        "session",
        "a login session's token hash -> user id",
        PSEUDO,
        "stay logged in",
        "12 hours",
        "TTL; logout; account or clinic deletion",
        C,
    ),
    Record(
        "user_sessions",
        "the user's session hashes",
        PSEUDO,
        "end every session at once",
        "12 hours",
        "TTL; account or clinic deletion",
        C,
    ),
    Record(
        "embed_session",
        "an LPS-launched session's vendor and consultation",
        PSEUDO,
        "scope the embedded view",
        "as the session",
        "TTL",
        C,
    ),
    Record(
        "embed_token",
        "an unused LPS launch token",
        PSEUDO,
        "single-use launch",
        "60 seconds",
        "TTL; first use",
        C,
    ),
    Record(
        "embed_issued",
        "the vendor a launch token was issued to",
        NO,
        "show its expiry page in the vendor's frame",
        "1 day",
        "TTL",
        P,
    ),
    Record(
        "login_address",
        "failed logins from a hashed address group",
        PSEUDO,
        "stop password guessing",
        "15 minutes",
        "TTL",
        P,
    ),
    Record(
        "login_name_last",
        "when a user name last failed to log in",
        YES,
        "stop password guessing",
        "15 minutes",
        "TTL",
        P,
    ),
    Record(
        "login_name_addresses",
        "hashed address groups that failed on a name",
        PSEUDO,
        "stop password guessing",
        "15 minutes",
        "TTL",
        P,
    ),
    Record(
        "login_known_addresses",
        "hashed address groups a name logged in from",
        PSEUDO,
        "spot a login from somewhere new",
        "30 days",
        "TTL; clinic deletion",
        C,
    ),
    Record(
        "dropin_address",
        "drop-in joins from a hashed address group",
        PSEUDO,
        "limit drop-in floods",
        "11 minutes",
        "TTL",
        P,
    ),
    Record(
        "dropin_clinic",
        "drop-in joins to a clinic",
        NO,
        "limit drop-in floods",
        "11 minutes",
        "TTL",
        P,
    ),
    # Municipalities
    Record(
        "organisation",
        "a municipality: name, code",
        NO,
        "cross-sector calls",
        "while it is a customer",
        "deleted by an admin",
        P,
    ),
    Record(
        "organisation_by_code",
        "municipality code -> organisation",
        NO,
        "find it",
        "while it is a customer",
        "deleted by an admin",
        P,
    ),
    Record(
        "ORGANISATIONS",
        "every organisation id",
        NO,
        "admin lists",
        "while it is a customer",
        "deleted by an admin",
        P,
    ),
    Record(
        "organisation_users",
        "the organisation's staff ids",
        PSEUDO,
        "accounts per organisation",
        "while the accounts exist",
        "account deletion",
        P,
    ),
    Record(
        "organisation_api_key",
        "an organisation API key's hash -> organisation",
        NO,
        "directory API",
        "until revoked",
        "revoked",
        P,
    ),
    Record(
        "organisation_api_keys",
        "the organisation's API key hashes",
        NO,
        "list and revoke keys",
        "until revoked",
        "revoked",
        P,
    ),
    # LPS vendors and webhooks
    Record(
        "vendor",
        "an LPS vendor: name, clinics it serves, origins",
        NO,
        "the API and the embedded view",
        "while it is a customer",
        "deleted by an operator",
        P,
    ),
    Record(
        "vendor_keys",
        "the vendor's API keys (hashes, labels)",
        NO,
        "authenticate the vendor",
        "until revoked",
        "revoked",
        P,
    ),
    Record(
        "api_key",
        "an API key's hash -> vendor",
        NO,
        "authenticate the vendor",
        "until revoked",
        "revoked",
        P,
    ),
    Record(
        "VENDORS",
        "every vendor id",
        NO,
        "pickers",
        "while it is a customer",
        "deleted by an operator",
        P,
    ),
    Record(
        "WEBHOOK_VENDORS",
        "vendors with a live webhook",
        NO,
        "deliver events",
        "while registered",
        "410 or re-registration",
        P,
    ),
    Record(
        "webhook",
        "the vendor's webhook URL and signing secrets",
        NO,
        "sign and deliver events",
        "while registered",
        "re-registration",
        P,
    ),
    Record(
        "webhook_due",
        "pending deliveries: event id -> next try",
        PSEUDO,
        "retry delivery",
        "until delivered or given up",
        "delivery",
        P,
    ),
    Record(
        "webhook_messages",
        "pending delivery bodies (ids, times, status; no CPR, no names)",
        PSEUDO,
        "retry delivery",
        "until delivered or given up",
        "delivery",
        P,
    ),
    Record(
        "webhook_dead_letters",
        "deliveries given up on (same bodies)",
        PSEUDO,
        "let the vendor replay",
        "the latest 1000",
        "capped on write",
        P,
    ),
    Record(
        "idempotency",
        "a vendor's idempotency key (hashed) and its answer",
        PSEUDO,
        "no double bookings",
        "24 hours",
        "TTL",
        P,
    ),
    Record(
        "api_rate", "requests per key owner per minute", NO, "rate limiting", "2 minutes", "TTL", P
    ),
    # Streams
    Record(
        "EVENTS",
        "domain events: ids, times, status changes; no CPR, no names",
        PSEUDO,
        "webhooks, honoraria, metrics",
        "the latest 1,000,000",
        "capped on write",
        P,
    ),
    Record(
        "AUDIT",
        "who (user id) read or changed what (ids), when",
        PSEUDO,
        "answer who saw a patient's data (GDPR art. 15, 32)",
        "5 years",
        "retention job; kept on clinic deletion (the user ids no longer resolve to names)",
        K,
    ),
    # Economy
    Record(
        "SUBSCRIPTION_PRICES",
        "subscription price per capacity from a date",
        NO,
        "invoices",
        "for ever",
        "-",
        K,
    ),
    Record(
        "BUDGET_LINES", "the road map's budget lines", NO, "budget follow-up", "for ever", "-", K
    ),
    Record(
        "budget_spendings",
        "spendings per budget line (øre)",
        NO,
        "budget follow-up",
        "5 years after the financial year (bogføringsloven)",
        "-",
        K,
    ),
    Record(
        "HONORARIA_PROGRAMMES",
        "pilot honorarium programmes and rules",
        NO,
        "pay honoraria",
        "for ever",
        "-",
        K,
    ),
    Record(
        "HONORARIA_LEDGER",
        "accruals, reversals and payouts per GP id (øre)",
        PSEUDO,
        "pay honoraria; bookkeeping",
        "5 years after the financial year (bogføringsloven)",
        "kept on clinic deletion (the GP id no longer resolves to a name)",
        K,
    ),
    Record(
        "HONORARIA_EARNINGS",
        "which earnings were already accrued",
        PSEUDO,
        "accrue once",
        "as the ledger",
        "-",
        K,
    ),
    Record(
        "honoraria_enrolments",
        "GP ids enrolled in a programme, with dates",
        PSEUDO,
        "pay honoraria",
        "as the ledger",
        "-",
        K,
    ),
    # Pilot evidence
    Record(
        "pilot_notetaker",
        "one consultation's note-taker evidence: ids, times, counts, engine, the GP's name",
        YES,
        "evaluate the note-taker pilot",
        "pseudonymised when the pilot ends; deleted 6 months later",
        "retention job",
        K,
    ),
    Record(
        "pilot_notetaker_offered",
        "pilot consultation ids by time",
        PSEUDO,
        "evaluate the note-taker pilot",
        "as pilot_notetaker",
        "retention job",
        K,
    ),
    Record(
        "PILOT_NOTETAKER_ENDED",
        "the day the note-taker pilot ended",
        NO,
        "start its pseudonymisation and evaluation period",
        "until the evidence is deleted",
        "retention job",
        P,
    ),
    # Retention itself
    Record(
        "CLINIC_CANCELLATIONS",
        "a clinic's cancellation: date, reason, who recorded it; after deletion its name"
        " and ydernummer",
        NO,
        "delete on schedule; invoice the last quarter",
        "5 years after the end of the year the clinic was deleted in (bogføringsloven)",
        "retention job",
        K,
    ),
    Record(
        "CLINIC_LAST_ACCESS",
        "when the clinic last logged in or used the API",
        NO,
        "the 12-month inactivity rule",
        "while the clinic exists",
        "clinic deletion",
        C,
    ),
    Record(
        "CLINIC_INACTIVITY_WARNINGS",
        "when a silent clinic was warned",
        NO,
        "the 12-month inactivity rule",
        "until it is used again or deleted",
        "access; clinic deletion",
        C,
    ),
    Record(
        "RETENTION_LOCK",
        "which instance runs the retention job",
        NO,
        "one job at a time",
        "10 minutes",
        "TTL; the job ends",
        P,
    ),
    # Platform
    Record(
        "REPLICATION_FENCE",
        "a counter bumped after each durable write, for WAIT",
        NO,
        "confirm that money and consent writes reached a replica",
        "for good (one number)",
        "never: it holds no data",
        P,
    ),
    Record(
        "SWEEP_HELD_UNTIL",
        "until when no waiting patient may be judged absent",
        NO,
        "survive a Redis outage",
        "a minute",
        "TTL",
        P,
    ),
    Record(
        "LEGACY_CPR_PEPPER",
        "an old CPR hash key (no longer written)",
        NO,
        "only so it can be deleted",
        "-",
        "almenvideo forget-old-cpr-hashes",
        P,
    ),
    Record(
        "demo",
        "ids of the demo's objects",
        NO,
        "re-run demo-setup",
        "while the demo exists",
        "-",
        P,
    ),
)


def by_family() -> dict[str, Record]:
    return {r.family: r for r in TABLE}
