"""The note-taker running for one consultation on this instance: the engine, the audio tap
that feeds it, and where the engine's events go.

One engine serves the whole consultation; taps may come and go under it (the GP's page
reloads, or a professional joins and the page re-offers with a third track), so the
transcript carries on. The session ends when:
- the call ends (any instance says so on the consultation's note-taker channel): the engine
  drafts from what it heard;
- nobody has tapped for `TAP_GRACE_SECONDS`: the same;
- consent is withdrawn: the engine is cancelled, the tap closed and anything stored purged;
- the engine fails: the GP is told, and the call goes on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.appkeys import NOTETAKERS, REDIS, ROUTER, SETTINGS
from server.clock import now
from server.media.echo import check_offer
from server.media.iceconfig import rtc_configuration
from server.notetaker import control, engines
from server.notetaker.protocol import (
    DraftReady,
    Engine,
    EngineFailed,
    EngineInfo,
    EngineUnavailable,
    SessionContext,
    TranscriptFinal,
    TranscriptPartial,
)
from server.settings import Settings
from server.signalling import messages as m
from server.signalling.controls import Delivery, NoteTakerFinish, NoteTakerWithdraw
from server.signalling.notetakermessages import NoteTakerTranscript
from server.signalling.router import Router
from server.store import keys, notes, pilotevidence
from server.store import notetaker as store
from server.store.connection import Redis
from server.store.consultations import Consultation, get_consultation

if TYPE_CHECKING:
    from server.media.tap import AudioTap

log = logging.getLogger(__name__)

TAP_GRACE_SECONDS = 60.0
SHUTDOWN_DRAFT_SECONDS = 10.0


class TapsBusy(Exception):
    """This instance taps as many consultations as it may."""


class LiveNoteTaker:
    def __init__(
        self,
        redis: Redis,
        router: Router,
        settings: Settings,
        c: Consultation,
        engine: Engine,
        on_done: Callable[[LiveNoteTaker], None],
    ) -> None:
        self.c = c
        self.engine = engine
        self.info: EngineInfo = type(engine).info
        self._redis = redis
        self._router = router
        self._settings = settings
        self._on_done = on_done
        self._origin = asyncio.get_running_loop().time()
        self._tap: AudioTap | None = None
        self._stopping = False
        self._ending: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._pump: asyncio.Task[None] | None = None
        self._grace: asyncio.TimerHandle | None = None

    async def start(self, speakers: tuple[str, ...]) -> None:
        language = engines.language(self._settings, self.info)
        await self.engine.start(SessionContext(self.c.id, language, speakers))
        self._pump = asyncio.create_task(self._run_pump())
        await self._router.subscribe(keys.notetaker_channel(self.c.id), self)

    async def attach(self, offer_sdp: str, speakers: dict[str, str]) -> str:
        """A tap from the GP's page; it replaces any earlier one."""
        from server.media.tap import AudioTap  # and so aiortc: not at start (media/echo.py)

        tap = AudioTap(
            rtc_configuration(self._settings, "notetaker"), speakers, self._feed, self._origin
        )
        try:
            answer = await tap.answer(offer_sdp)
        except BaseException:
            await tap.close()
            raise
        old, self._tap = self._tap, tap
        if self._grace is not None:
            self._grace.cancel()
        if old is not None:
            await self._close_tap(old)
        self._spawn(self._watch(tap))
        return answer

    def deliver(self, message: Delivery) -> None:
        if isinstance(message, NoteTakerFinish):
            self._spawn(self.finish())
        elif isinstance(message, NoteTakerWithdraw):
            self._spawn(self.withdraw())

    async def finish(self) -> None:
        """Draft from what was heard (once; a withdrawal meanwhile wins)."""
        await self._end(cancel=False)

    async def withdraw(self) -> None:
        await self._end(cancel=True)

    async def _end(self, cancel: bool) -> None:
        if cancel:
            self._stopping = True  # no more audio into the engine, from this moment
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._shut(cancel))
        await asyncio.shield(self._ending)

    async def _shut(self, cancel: bool) -> None:
        try:
            if not cancel and await store.set_state(
                self._redis,
                self.c.id,
                store.Phase.DRAFTING,
                only_from=frozenset({store.Phase.LISTENING}),
            ):
                await control.announce(self._redis, self._router, self._settings, self.c)
            if self._tap is not None:
                await self._close_tap(self._tap)
            self._stopping = True
            if cancel or not await self._still_capturing():
                await self.engine.cancel()
            else:
                try:
                    await self.engine.stop()
                except Exception as exc:  # a broken engine must not leave "drafting" forever
                    log.exception("the note-taker engine failed to finish")
                    await self.engine.cancel()
                    await self._mark_failed(f"the engine failed to finish: {exc}")
            if self._pump is not None:
                await self._pump
            if cancel:
                await notes.purge_draft(self._redis, self.c.id)  # anything that slipped in
        finally:
            await self._router.unsubscribe(keys.notetaker_channel(self.c.id), self)
            self._on_done(self)

    async def _still_capturing(self) -> bool:
        state = await store.get_state(self._redis, self.c.id)
        return state is not None and state.state in store.CAPTURING

    async def _feed(self, speaker: str, pcm: bytes, at: float) -> None:
        if not self._stopping:
            await self.engine.feed(speaker, pcm, at)

    async def _watch(self, tap: AudioTap) -> None:
        """A tap that ends on its own (the page went away) leaves a grace period for a new
        one before the session drafts what it has."""
        await tap.wait_ended()
        if self._tap is tap and self._ending is None:
            await self._close_tap(tap)
            self._tap = None
            loop = asyncio.get_running_loop()
            self._grace = loop.call_later(TAP_GRACE_SECONDS, lambda: self._spawn(self.finish()))

    async def _close_tap(self, tap: AudioTap) -> None:
        await tap.close()
        if tap.stats.seconds:
            await pilotevidence.add_audio(self._redis, self.c.id, tap.stats.seconds)
            tap.stats.speakers.clear()  # counted once, however often closed

    async def _run_pump(self) -> None:
        gp = keys.participant_channel(self.c.gp_participant)
        async for event in self.engine.events():
            try:
                if isinstance(event, TranscriptPartial | TranscriptFinal):
                    await self._transcript(event, gp)
                elif isinstance(event, DraftReady):
                    await self._draft(event)
                elif isinstance(event, EngineFailed):
                    await self._failed(event.reason)
            except Exception:
                log.exception("note-taker event %s failed", type(event).__name__)

    async def _transcript(self, event: TranscriptPartial | TranscriptFinal, gp: str) -> None:
        if isinstance(event, TranscriptFinal):
            segment = store.Segment(
                event.segment_id, event.speaker, event.start, event.end, event.text,
                event.confidence,
            )  # fmt: skip
            kept = await store.append_segment(
                self._redis, self.c.id, segment, self._settings.note_retention_seconds
            )
            if not kept:
                return
        elif self._stopping:
            return
        message = NoteTakerTranscript(
            consultation_id=self.c.id,
            speaker=event.speaker,
            start=event.start,
            end=event.end,
            text=event.text,
            final=isinstance(event, TranscriptFinal),
            segment_id=event.segment_id if isinstance(event, TranscriptFinal) else None,
        )
        await self._router.publish(gp, m.dump(message))

    async def _draft(self, event: DraftReady) -> None:
        if not await self._still_capturing():
            return  # withdrawn meanwhile: the draft is dropped unseen
        c = await get_consultation(self._redis, self.c.id) or self.c
        sections = [notes.Section(s.key, s.title, s.text, s.spans) for s in event.sections]
        previous = await notes.get_note(self._redis, c.id)
        if isinstance(previous, notes.Note) and previous.status == notes.DRAFT:
            sections = merge_sections(previous.sections, sections)
        await notes.save_draft(
            self._redis, c, sections, engine=f"{self.info.name} {self.info.version}",
            ttl_seconds=self._settings.note_retention_seconds,
        )  # fmt: skip
        if await store.set_state(self._redis, c.id, store.Phase.DRAFTED, only_from=store.CAPTURING):
            await pilotevidence.record_draft(self._redis, c.id, c.ended_at, now())
            await control.announce(self._redis, self._router, self._settings, c)

    async def _failed(self, reason: str) -> None:
        await self._mark_failed(reason)
        # The session is over: the tap closes and this instance forgets it, so a new offer
        # starts a new engine instead of feeding this dead one while saying it listens.
        self._spawn(self._end(cancel=True))

    async def _mark_failed(self, reason: str) -> None:
        log.warning("note-taker engine failed in %s: %s", self.c.id, reason)
        self._stopping = True
        if await store.set_state(
            self._redis, self.c.id, store.Phase.FAILED, only_from=store.CAPTURING, reason=reason
        ):
            await control.announce(self._redis, self._router, self._settings, self.c)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def merge_sections(
    earlier: tuple[notes.Section, ...], later: list[notes.Section]
) -> list[notes.Section]:
    """Two drafts of one consultation (an engine session restarted on another instance):
    each section keeps the earlier text, then the later, in the earlier's order."""
    merged = {s.key: s for s in earlier}
    for s in later:
        old = merged.get(s.key)
        if old is None:
            merged[s.key] = s
        elif s.text:
            text = f"{old.text}\n{s.text}" if old.text else s.text
            merged[s.key] = notes.Section(s.key, old.title, text, (*old.spans, *s.spans))
    return list(merged.values())


class LiveNoteTakers:
    """The note-takers running on this instance, at most `limit` at a time."""

    def __init__(self, redis: Redis, router: Router, settings: Settings) -> None:
        self._redis = redis
        self._router = router
        self._settings = settings
        self._live: dict[str, LiveNoteTaker] = {}

    def __len__(self) -> int:
        return len(self._live)

    def get(self, consultation_id: str) -> LiveNoteTaker | None:
        return self._live.get(consultation_id)

    async def tap(self, c: Consultation, offer_sdp: str, speakers: dict[str, str]) -> str:
        """Answer a tap offer, starting the consultation's engine if it is not running here.

        Raises BadOffer, TapsBusy, or EngineUnavailable (the state then says failed)."""
        check_offer(offer_sdp)
        live = self._live.get(c.id)
        if live is None:
            if len(self._live) >= self._settings.notetaker_max_taps:
                raise TapsBusy()
            try:
                live = await self._start(c, tuple(dict.fromkeys(speakers.values())))
            except EngineUnavailable as exc:
                await store.set_state(
                    self._redis, c.id, store.Phase.FAILED, reason=str(exc),
                    only_from=frozenset({store.Phase.CONSENTED}),
                )  # fmt: skip
                await control.announce(self._redis, self._router, self._settings, c)
                raise
        answer = await live.attach(offer_sdp, speakers)
        if await store.set_state(
            self._redis, c.id, store.Phase.LISTENING, only_from=frozenset({store.Phase.CONSENTED})
        ):
            await control.announce(self._redis, self._router, self._settings, c)
        return answer

    async def _start(self, c: Consultation, speakers: tuple[str, ...]) -> LiveNoteTaker:
        engine = engines.create(self._settings)
        live = LiveNoteTaker(
            self._redis, self._router, self._settings, c, engine,
            self._forget,
        )  # fmt: skip
        self._live[c.id] = live
        try:
            await live.start(speakers)
        except BaseException:
            self._live.pop(c.id, None)
            await engine.cancel()
            raise
        return live

    def _forget(self, done: LiveNoteTaker) -> None:
        """A session that ended leaves; a newer one for the same consultation stays."""
        if self._live.get(done.c.id) is done:
            del self._live[done.c.id]

    async def close_all(self) -> None:
        """On shutdown: each running note-taker drafts what it heard, if it can in time."""
        live = list(self._live.values())
        if live:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(n.finish() for n in live), return_exceptions=True),
                    SHUTDOWN_DRAFT_SECONDS,
                )


async def notetakers_ctx(app: web.Application) -> AsyncIterator[None]:
    app[NOTETAKERS] = LiveNoteTakers(app[REDIS], app[ROUTER], app[SETTINGS])
    yield
    await app[NOTETAKERS].close_all()
