"""What people do with the note-taker: the GP offers it, the patient answers, anyone stops it.

Each action changes the stored state atomically, records the consent log and the pilot's
evidence, and tells every seat of the consultation (patient, GP, invited professionals) the
new state, so both screens always show whether the note-taker is listening. A stop is a
withdrawal of consent, whoever asks: the audio stops at once (the instance running the tap is
told) and the draft and transcript are purged.
"""

from __future__ import annotations

from server.clock import local_day, now
from server.notetaker import engines
from server.notetaker.consent import CURRENT
from server.notetaker.protocol import EngineInfo
from server.settings import Settings
from server.signalling import messages as m
from server.signalling.controls import NoteTakerFinish, NoteTakerWithdraw
from server.signalling.notetakermessages import NoteTakerStatus
from server.signalling.router import Router
from server.store import keys, notes, pilotevidence
from server.store import notetaker as store
from server.store.clinics import get_clinic
from server.store.connection import Redis
from server.store.consultations import Consultation, Status, get_consultation
from server.store.durability import NotReplicated
from server.store.honoraria import gp_enrolments
from server.store.invitations import consultation_invitations
from server.store.participants import Participant
from server.store.users import User

CONSENT_HOW = "patient's own screen, consent dialog"


class Refused(Exception):
    """The action is not possible now; `code` is stable (signalling error codes)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def offered_engine(redis: Redis, settings: Settings, gp: User) -> EngineInfo | None:
    """The engine this GP may offer, or None when they are not in the pilot or the
    configured engine cannot run here. In the pilot: enrolled today in a pilot programme
    that pays for consultations (those are the note-taker's reviewed drafts), or in a
    clinic the operators put in the pilot (a trial without honoraria)."""
    found = engines.availability(settings)
    if not found.available:
        return None
    clinic = await get_clinic(redis, gp.clinic_id)
    if clinic is not None and clinic.notetaker_pilot:
        return found.info
    return found.info if await _enrolled_today(redis, gp.id) else None


async def _enrolled_today(redis: Redis, gp_id: str) -> bool:
    today = local_day(now())
    return any(
        programme.runs_on(today)
        and enrolment.covers(today)
        and (rules := programme.rules_on(today)) is not None
        and rules.per_consultation_ore > 0
        for programme, enrolment in await gp_enrolments(redis, gp_id)
    )


async def offer(
    redis: Redis, router: Router, settings: Settings, c: Consultation, gp: User
) -> None:
    if c.status == Status.ENDED:
        raise Refused("consultation_ended", "this consultation has ended")
    info = await offered_engine(redis, settings, gp)
    if info is None:
        reason = engines.availability(settings).reason or "your clinic is not in the pilot"
        raise Refused("notetaker_unavailable", f"the note-taker cannot be offered: {reason}")
    moved = await store.set_state(
        redis, c.id, store.Phase.OFFERED, only_from=store.OFFERABLE,
        engine=info.name, engine_version=info.version, reason="", consent_version="",
    )  # fmt: skip
    if not moved:
        raise Refused("notetaker_busy", "the note-taker is already offered or running")
    await pilotevidence.record_offered(
        redis, c, gp.id, gp.display_name, info.name, info.version, now()
    )
    await announce(redis, router, settings, c)


async def answer(
    redis: Redis,
    router: Router,
    settings: Settings,
    c: Consultation,
    patient: Participant,
    given: bool,
    text_version: str,
    language: str,
) -> None:
    if patient.id != c.patient_participant:
        raise Refused("forbidden", "only the patient answers")
    if text_version != CURRENT.version:
        raise Refused("stale_consent_text", "the consent text has changed; read it again")
    state = store.Phase.CONSENTED if given else store.Phase.DECLINED
    fields = {"consent_version": text_version} if given else {}
    if not await store.set_state(
        redis, c.id, state, only_from=frozenset({store.Phase.OFFERED}), **fields
    ):
        raise Refused("not_offered", "the note-taker is not offered")
    record = store.ConsentRecord(
        "given" if given else "declined", patient.id, "patient", now(), text_version, language,
        CONSENT_HOW,
    )  # fmt: skip
    try:
        await store.add_consent(redis, c.id, record)
    except NotReplicated:
        # Not confirmed, so it does not count: the offer stands and may be answered again.
        await store.set_state(redis, c.id, store.Phase.OFFERED, only_from=frozenset({state}))
        raise
    await pilotevidence.record_consent(redis, c.id, record.answer, record.at)
    await announce(redis, router, settings, c)


async def withdraw(
    redis: Redis, router: Router, settings: Settings, c: Consultation, by: Participant
) -> None:
    current = await store.get_state(redis, c.id)
    moved = await store.set_state(
        redis, c.id, store.Phase.WITHDRAWN, only_from=store.WITHDRAWABLE, reason=by.role
    )
    if not moved or current is None:
        raise Refused("not_running", "the note-taker is not running")
    await router.publish(keys.notetaker_channel(c.id), NoteTakerWithdraw())
    await notes.purge_draft(redis, c.id)
    if current.state != store.Phase.OFFERED:  # an offer not yet answered had no consent to withdraw
        how = f"{by.role}'s stop button"
        record = store.ConsentRecord(
            "withdrawn", by.id, by.role, now(), current.consent_version, "", how
        )
        await store.add_consent(redis, c.id, record)
        await pilotevidence.record_consent(redis, c.id, "withdrawn", record.at)
    await announce(redis, router, settings, c)


async def call_ended(redis: Redis, router: Router, c: Consultation) -> None:
    """The call is over: a running note-taker drafts from what it heard; one that was
    offered or consented but never listened is simply over."""
    await router.publish(keys.notetaker_channel(c.id), NoteTakerFinish())
    await store.set_state(
        redis,
        c.id,
        store.Phase.OFF,
        reason="ended",
        only_from=frozenset({store.Phase.OFFERED, store.Phase.CONSENTED}),
    )


async def status(redis: Redis, settings: Settings, c: Consultation) -> NoteTakerStatus | None:
    state = await store.get_state(redis, c.id)
    if state is None:
        return None
    info = engines.availability(settings).info
    return NoteTakerStatus(
        consultation_id=c.id,
        state=state.state or "off",
        engine_label=info.label if info else state.engine,
        clinical_use=info.clinical_use if info else True,
        engine_languages=info.languages if info else (),
        reason=state.reason,
        consent_version=CURRENT.version,
        consent_text={"da": CURRENT.da, "en": CURRENT.en},
    )


async def announce(redis: Redis, router: Router, settings: Settings, c: Consultation) -> None:
    """To every seat while the call lasts; once it is over (the seats are given up), to the
    clinic's consoles instead, where the GP who held the call is shown the draft."""
    message = await status(redis, settings, c)
    if message is None:
        return
    body = m.dump(message)
    current = await get_consultation(redis, c.id)
    if current is not None and current.status == Status.ENDED:
        await router.publish(keys.clinic_channel(c.clinic_id), body)
        return
    for seat in await seats(redis, c):
        await router.publish(keys.participant_channel(seat), body)


async def seats(redis: Redis, c: Consultation) -> set[str]:
    guests = {i.participant_id for i in await consultation_invitations(redis, c.id)}
    return {c.patient_participant, c.gp_participant, *guests} - {""}
