"""The AI note-taker end to end over real sockets: the GP offers it on the signalling socket,
the patient consents on theirs, a real aiortc peer (the GP's browser) taps the call's audio
over real WebRTC, and the engine is either the vendor simulator on a real port (the `http`
engine) or the offline pocketsphinx engine. Redis is real; so is every file check."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestServer
from aiortc import RTCPeerConnection, RTCSessionDescription

from integrations.notetaker.simulator import create_simulator_app
from server.app import create_app
from server.appkeys import NOTETAKERS, REDIS
from server.clock import local_day, now
from server.consultations import call as calls
from server.notetaker.consent import CURRENT
from server.notetaker.control import CONSENT_HOW
from server.pilots.programmes import Enrolment
from server.settings import Settings
from server.store import keys, notes
from server.store import notetaker as store
from server.store.clinics import save_clinic
from server.store.connection import Redis
from server.store.honoraria import create_programme, save_enrolment
from server.store.pilotevidence import evidence_rows
from tests.integration.helpers import (
    Booking,
    Client,
    book,
    browser,
    gp_hello,
    join,
    login,
    make_gp,
    media_flowed,
    patient_hello,
    receive_type,
    send,
)
from tests.support.audiopeer import tap_peer
from tests.support.redisdump import stored_text

TOKEN = "vendor-secret-7f3a"
WAIT = 10.0  # the longest any single expected event may take
TAPPED_SECONDS = 2.0
HEARD = re.compile(r"^heard (\d+) ms of (gp|patient) audio$")
SPEAKERS = ("gp", "patient")
AUDIO_SUFFIXES = {".wav", ".pcm", ".raw", ".opus", ".ogg", ".webm", ".mp3"}
# What audio files begin with: RIFF (WAV), Ogg (Opus/Vorbis), EBML (WebM), ID3 (MP3).
AUDIO_MAGIC = (b"RIFF", b"OggS", b"\x1a\x45\xdf\xa3", b"ID3")

MakeClient = Callable[..., Awaitable[Client]]
Serve = Callable[..., Awaitable[TestServer]]


# ---- sockets, peers and the call ------------------------------------------------------------


class Inbox:
    """Everything a socket receives, kept in order, so a test can wait for one message
    without losing the others arriving around it (transcripts stream in all the time)."""

    def __init__(self, ws: ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for frame in self.ws:
            if frame.type != WSMsgType.TEXT:
                break
            async with self._arrived:
                self.messages.append(frame.json())
                self._arrived.notify_all()

    def mark(self) -> int:
        return len(self.messages)

    async def wait_for(
        self, match: Callable[[dict[str, Any]], bool], since: int = 0, within: float = WAIT
    ) -> dict[str, Any]:
        """The first message at or after `since` that matches; fails after `within` s."""

        def found() -> dict[str, Any] | None:
            return next((msg for msg in self.messages[since:] if match(msg)), None)

        async with asyncio.timeout(within), self._arrived:
            while (msg := found()) is None:
                assert not self._reader.done(), f"the socket closed; got {self.messages[since:]}"
                await self._arrived.wait()
            return msg

    async def state(self, state: str, since: int = 0) -> dict[str, Any]:
        return await self.wait_for(
            lambda msg: msg["type"] == "notetaker.state" and msg["state"] == state, since
        )

    async def error(self, since: int) -> dict[str, Any]:
        return await self.wait_for(lambda msg: msg["type"] == "error", since)

    def states(self) -> list[str]:
        """The note-taker states received, a repeat of the same state counted once (the GP
        hears some both on its seat and on its clinic's channel)."""
        states: list[str] = []
        for msg in self.messages:
            if msg["type"] == "notetaker.state" and states[-1:] != [msg["state"]]:
                states.append(msg["state"])
        return states

    def finals(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == "notetaker.transcript" and m["final"]]

    async def close(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


@dataclass(frozen=True)
class Call:
    client: Client
    redis: Redis
    booking: Booking
    gp_browser: ClientSession
    gp: Inbox
    patient: Inbox
    gp_id: str
    patient_id: str

    @property
    def consultation_id(self) -> str:
        return self.booking.consultation.id

    @property
    def tap_path(self) -> str:
        return f"/console/consultations/{self.consultation_id}/notetaker/tap"


@asynccontextmanager
async def in_call(client: Client, redis: Redis, b: Booking) -> AsyncIterator[Call]:
    """The patient joined by link and the GP (logged in, own browser) admitted them."""
    resume = await join(client, b.link)
    async with (
        client.ws_connect("/ws") as patient_ws,
        browser(client) as gp_browser,
    ):
        await login(gp_browser, b.gp.username)
        async with gp_browser.ws_connect("/ws") as gp_ws:
            patient_id = (await patient_hello(patient_ws, b.link, resume))["participant_id"]
            await gp_hello(gp_ws)
            await send(gp_ws, "admit", consultation_id=b.consultation.id)
            gp_id = (await receive_type(gp_ws, "call.joined"))["participant_id"]
            await receive_type(patient_ws, "call.joined")
            gp, patient = Inbox(gp_ws), Inbox(patient_ws)
            try:
                yield Call(client, redis, b, gp_browser, gp, patient, gp_id, patient_id)
            finally:
                await gp.close()
                await patient.close()


@pytest.fixture
async def peers() -> AsyncIterator[list[RTCPeerConnection]]:
    """Tap peers made by a test, closed when it ends."""
    made: list[RTCPeerConnection] = []
    yield made
    await asyncio.gather(*(pc.close() for pc in made))


async def vendor(aiohttp_server: Serve, drop_after_chunks: int | None = None) -> str:
    """The vendor simulator on a real port of its own; returns its WebSocket URL."""
    server = await aiohttp_server(create_simulator_app(TOKEN, drop_after_chunks))
    return str(server.make_url("/v1/stream")).replace("http://", "ws://")


def http_engine(url: str) -> dict[str, object]:
    return {"notetaker_engine": "http", "notetaker_http_url": url, "notetaker_http_token": TOKEN}


async def in_pilot(redis: Redis, b: Booking) -> None:
    await save_clinic(redis, replace(b.clinic, notetaker_pilot=True))


async def booked_in_pilot(redis: Redis) -> Booking:
    b = await book(redis)
    await in_pilot(redis, b)
    return b


StartApp = Callable[..., Awaitable[Client]]


@pytest.fixture
def vendor_app(aiohttp_server: Serve, aiohttp_client: MakeClient, settings: Settings) -> StartApp:
    """Starts the HTTP vendor simulator, then the app whose note-taker engine it is; the
    app's client is made after the vendor's server, so the app closes first, then its vendor."""

    async def start(drop_after_chunks: int | None = None, **engine: object) -> Client:
        url = await vendor(aiohttp_server, drop_after_chunks)
        return await aiohttp_client(create_app(settings.with_(**{**http_engine(url), **engine})))

    return start


async def offer_and_consent(call: Call) -> None:
    mark_gp, mark_patient = call.gp.mark(), call.patient.mark()
    await send(call.gp.ws, "notetaker.offer", consultation_id=call.consultation_id)
    offered = await call.patient.state("offered", mark_patient)
    await call.gp.state("offered", mark_gp)
    assert offered["consent_version"] == CURRENT.version
    assert offered["consent_text"] == {"da": CURRENT.da, "en": CURRENT.en}
    await send(
        call.patient.ws, "notetaker.consent", answer="given",
        text_version=offered["consent_version"], language="da",
    )  # fmt: skip
    await call.gp.state("consented", mark_gp)
    await call.patient.state("consented", mark_patient)


async def start_tap(call: Call, peers: list[RTCPeerConnection]) -> RTCPeerConnection:
    """The GP's browser taps the call: two tone tracks, GP's and patient's."""
    pc, body = await tap_peer(SPEAKERS)
    peers.append(pc)
    mark = call.gp.mark()
    response = await call.gp_browser.post(call.tap_path, json=body)
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["type"] == "answer"
    await pc.setRemoteDescription(RTCSessionDescription(**answer))
    await call.gp.state("listening", mark)
    return pc


async def until(condition: Callable[[], bool], seconds: float = WAIT) -> None:
    """Wait for `condition`, checking often; fails if it does not hold within `seconds`."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition did not come true in time")


def final_of(speaker: str) -> Callable[[dict[str, Any]], bool]:
    def match(msg: dict[str, Any]) -> bool:
        return msg["type"] == "notetaker.transcript" and msg["final"] and msg["speaker"] == speaker

    return match


async def heard_both(call: Call, since: int = 0) -> None:
    """Both speakers' audio reached the engine, which said so in a final transcript."""
    for speaker in SPEAKERS:
        await call.gp.wait_for(final_of(speaker), since)


# ---- 1: the http engine and its vendor, the whole way --------------------------------------


async def test_http_engine_transcribes_and_drafts_from_the_tapped_call(
    vendor_app: StartApp,
    redis: Redis,
    peers: list[RTCPeerConnection],
) -> None:
    client = await vendor_app()
    b = await booked_in_pilot(redis)
    async with in_call(client, redis, b) as call:
        await offer_and_consent(call)
        await start_tap(call, peers)
        await heard_both(call)
        await asyncio.sleep(TAPPED_SECONDS)

        finals = call.gp.finals()
        for final in finals:
            matched = HEARD.match(final["text"])
            assert matched is not None, final
            assert int(matched[1]) > 0 and matched[2] == final["speaker"]
            assert final["consultation_id"] == call.consultation_id
            assert final["segment_id"].startswith(f"{final['speaker']}-")
        assert {f["speaker"] for f in finals} == set(SPEAKERS)
        assert not any(m["type"] == "notetaker.transcript" for m in call.patient.messages)

        mark = call.gp.mark()
        await media_flowed(call.gp.ws, call.patient_id)
        await send(call.gp.ws, "end", consultation_id=call.consultation_id)
        ended = await call.patient.wait_for(lambda msg: msg["type"] == "call.ended")
        assert ended["billing_code"] == "0125"
        await call.gp.state("drafted", mark)
        assert call.gp.states()[-2:] == ["drafting", "drafted"]

    note = await notes.get_note(redis, b.consultation.id)
    assert isinstance(note, notes.Note)
    assert (note.status, note.ai_generated, note.engine) == (notes.DRAFT, True, "http 1")
    sections = {s.key: s for s in note.sections}
    assert set(sections) == {"transcript.gp", "transcript.patient"}
    stored = await store.transcript(redis, b.consultation.id)
    for speaker in SPEAKERS:
        section = sections[f"transcript.{speaker}"]
        said = [s for s in stored if s.speaker == speaker]
        assert section.spans == tuple(s.segment_id for s in said) and section.spans
        total = sum(int(HEARD.match(s.text)[1]) for s in said)  # type: ignore[index]
        assert section.text == f"heard {total} ms of {speaker} audio in total"
        assert total >= 1000  # at least a second of each speaker made it through
    assert len(stored) == len({s.segment_id for s in stored})

    [consent] = await store.consent_log(redis, b.consultation.id)
    assert consent == store.ConsentRecord(
        "given", call.patient_id, "patient", consent.at, CURRENT.version, "da", CONSENT_HOW
    )

    [row] = await evidence_rows(redis)
    assert (row.consultation_id, row.engine, row.consent) == (b.consultation.id, "http", "given")
    assert row.audio_seconds >= 2.0  # both speakers, a second or more each
    assert row.draft_at is not None and row.call_ended_at is not None
    assert row.consent_given_at == consent.at
    assert len(client.app[NOTETAKERS]) == 0


# ---- 2: the vendor goes away; the call does not --------------------------------------------


async def test_a_vendor_dropping_mid_call_fails_the_note_taker_not_the_call(
    vendor_app: StartApp,
    redis: Redis,
    peers: list[RTCPeerConnection],
) -> None:
    client = await vendor_app(drop_after_chunks=5)
    b = await booked_in_pilot(redis)
    async with in_call(client, redis, b) as call:
        await offer_and_consent(call)
        pc = await start_tap(call, peers)

        failed = await call.gp.state("failed")
        assert failed["reason"]
        assert (await call.patient.state("failed"))["reason"] == failed["reason"]
        state = await store.get_state(redis, call.consultation_id)
        assert state is not None and state.state == store.Phase.FAILED
        await until(lambda: pc.connectionState in ("closed", "failed"))  # the tap stopped

        mark_gp, mark_patient = call.gp.mark(), call.patient.mark()
        await send(call.gp.ws, "chat", text="Kan du høre mig?")
        chat = await call.patient.wait_for(lambda msg: msg["type"] == "chat", mark_patient)
        assert (chat["from"], chat["text"]) == (call.gp_id, "Kan du høre mig?")
        candidate = {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"}
        await send(call.patient.ws, "signal", to=call.gp_id, candidate=candidate)
        relayed = await call.gp.wait_for(lambda msg: msg["type"] == "signal", mark_gp)
        assert (relayed["from"], relayed["candidate"]) == (call.patient_id, candidate)
        assert await calls.members(redis, call.consultation_id) == {call.gp_id, call.patient_id}

        await media_flowed(call.gp.ws, call.patient_id)
        await send(call.gp.ws, "end", consultation_id=call.consultation_id)
        for inbox in (call.gp, call.patient):
            ended = await inbox.wait_for(lambda msg: msg["type"] == "call.ended")
            assert ended["billing_code"] == "0125"
        assert not any(msg["type"] == "error" for msg in call.gp.messages + call.patient.messages)

    assert "drafted" not in call.gp.states()
    assert await notes.get_note(redis, b.consultation.id) is None
    await until(lambda: len(client.app[NOTETAKERS]) == 0)


async def test_after_a_vendor_failure_the_gp_may_offer_the_note_taker_again(
    vendor_app: StartApp,
    redis: Redis,
    peers: list[RTCPeerConnection],
) -> None:
    """A failed session is over: a new offer, consent and tap start a new vendor session
    that hears the audio again, rather than one that only says it is listening."""
    client = await vendor_app(drop_after_chunks=5)
    b = await booked_in_pilot(redis)
    async with in_call(client, redis, b) as call:
        await offer_and_consent(call)
        await start_tap(call, peers)
        await call.gp.state("failed")
        await until(lambda: len(client.app[NOTETAKERS]) == 0)  # the failed session is over

        await offer_and_consent(call)
        mark = call.gp.mark()
        await start_tap(call, peers)
        await heard_both(call, mark)  # the vendor's second session gets each speaker's audio
        await call.gp.state("failed", mark)  # until it drops that one too
        await until(lambda: len(client.app[NOTETAKERS]) == 0)


async def test_a_vendor_refusing_the_session_fails_the_tap_with_a_503(
    vendor_app: StartApp,
    redis: Redis,
    peers: list[RTCPeerConnection],
) -> None:
    client = await vendor_app(notetaker_http_token="not-the-vendors-token")
    b = await booked_in_pilot(redis)
    async with in_call(client, redis, b) as call:
        await offer_and_consent(call)
        pc, body = await tap_peer(SPEAKERS)
        peers.append(pc)
        mark = call.gp.mark()
        response = await call.gp_browser.post(call.tap_path, json=body)
        assert (response.status, (await response.json())["code"]) == (503, "engine_unavailable")
        failed = await call.gp.state("failed", mark)
        assert "401" in failed["reason"]
        assert len(client.app[NOTETAKERS]) == 0
        await offer_and_consent(call)  # and the GP may offer it again


# ---- 3: withdrawal ---------------------------------------------------------------------------


async def test_withdrawal_stops_the_tap_and_purges_everything_heard(
    vendor_app: StartApp,
    redis: Redis,
    peers: list[RTCPeerConnection],
) -> None:
    client = await vendor_app()
    b = await booked_in_pilot(redis)
    c_id = b.consultation.id
    async with in_call(client, redis, b) as call:
        await offer_and_consent(call)
        pc = await start_tap(call, peers)
        await heard_both(call)
        await until(lambda: len(call.gp.finals()) >= 4)
        assert len(await store.transcript(redis, c_id)) >= 2
        assert "heard" in await stored_text(redis)  # the probe finds the content while kept
        assert client.app[NOTETAKERS].get(c_id) is not None

        mark_gp, mark_patient = call.gp.mark(), call.patient.mark()
        await send(call.patient.ws, "notetaker.stop")
        for inbox, mark in ((call.gp, mark_gp), (call.patient, mark_patient)):
            withdrawn = await inbox.state("withdrawn", mark)
            assert withdrawn["reason"] == "patient"

        async def nothing_heard_is_stored() -> None:
            assert await redis.exists(keys.consultation_transcript(c_id)) == 0
            assert await redis.exists(keys.consultation_note(c_id)) == 0
            assert await notes.get_note(redis, c_id) is None
            assert "heard" not in await stored_text(redis)

        await nothing_heard_is_stored()
        await until(lambda: pc.connectionState in ("closed", "failed"))
        await until(lambda: client.app[NOTETAKERS].get(c_id) is None)
        await asyncio.sleep(1.0)  # anything still in flight from the tap or the vendor
        await nothing_heard_is_stored()
        state = await store.get_state(redis, c_id)
        assert state is not None and state.state == store.Phase.WITHDRAWN

        await send(call.gp.ws, "end", consultation_id=c_id)  # the call goes on, and ends
        await call.patient.wait_for(lambda msg: msg["type"] == "call.ended")
        await asyncio.sleep(0.5)
        await nothing_heard_is_stored()
        assert call.gp.states()[-1] == "withdrawn"

    given, withdrawal = await store.consent_log(redis, c_id)
    assert given.answer == "given"
    assert withdrawal == store.ConsentRecord(
        "withdrawn", call.patient_id, "patient", withdrawal.at, CURRENT.version, "",
        "patient's stop button",
    )  # fmt: skip
    [row] = await evidence_rows(redis)
    assert (row.consent, row.consent_given_at) == ("withdrawn", given.at)
    assert row.draft_at is None


# ---- 4: refusals ---------------------------------------------------------------------------


async def test_the_note_taker_refuses_what_it_must(
    aiohttp_client: MakeClient,
    settings: Settings,
    redis: Redis,
    peers: list[RTCPeerConnection],
) -> None:
    client = await aiohttp_client(create_app(settings))  # pocketsphinx, the default
    b = await book(redis)
    async with in_call(client, redis, b) as call:
        c_id = call.consultation_id
        mark = call.gp.mark()
        await send(call.gp.ws, "notetaker.offer", consultation_id=c_id, ref="o1")
        refused = await call.gp.error(mark)
        assert (refused["code"], refused["ref"]) == ("notetaker_unavailable", "o1")
        assert await store.get_state(redis, c_id) is None
        assert await evidence_rows(redis) == []  # not in the pilot: no evidence either

        mark = call.patient.mark()
        await send(call.patient.ws, "notetaker.offer", consultation_id=c_id, ref="p1")
        refused = await call.patient.error(mark)
        assert (refused["code"], refused["ref"]) == ("forbidden", "p1")

        pc, body = await tap_peer(SPEAKERS)
        peers.append(pc)
        response = await call.gp_browser.post(call.tap_path, json=body)
        assert (response.status, (await response.json())["code"]) == (409, "no_consent")

        await in_pilot(redis, b)
        mark_gp, mark_patient = call.gp.mark(), call.patient.mark()
        await send(call.gp.ws, "notetaker.offer", consultation_id=c_id)
        await call.patient.state("offered", mark_patient)
        await call.gp.state("offered", mark_gp)
        response = await call.gp_browser.post(call.tap_path, json=body)
        assert (response.status, (await response.json())["code"]) == (409, "no_consent")

        mark = call.patient.mark()
        await send(
            call.patient.ws, "notetaker.consent", answer="given", text_version="2020-01-01",
            language="da", ref="c1",
        )  # fmt: skip
        refused = await call.patient.error(mark)
        assert (refused["code"], refused["ref"]) == ("stale_consent_text", "c1")
        state = await store.get_state(redis, c_id)
        assert state is not None and state.state == store.Phase.OFFERED
        assert await store.consent_log(redis, c_id) == []

        mark = call.gp.mark()
        await send(
            call.gp.ws, "notetaker.consent", answer="given", text_version=CURRENT.version,
            language="da", ref="g1",
        )  # fmt: skip
        assert (await call.gp.error(mark))["code"] == "forbidden"  # only the patient answers

        await send(
            call.patient.ws, "notetaker.consent", answer="given", text_version=CURRENT.version,
            language="da",
        )  # fmt: skip
        await call.gp.state("consented", mark_gp)

        colleague = await make_gp(redis, b.clinic, "Dr. Jens Kirk")
        async with browser(client) as other:
            await login(other, colleague.username)
            response = await other.post(call.tap_path, json=body)
            assert (response.status, (await response.json())["code"]) == (409, "not_your_call")

        for bad, code in (
            (b"v=0 {", "malformed"),
            (b"[]", "invalid_offer"),
            (b'{"sdp": "v=0", "type": "offer"}', "invalid_offer"),
            (b'{"sdp": "v=0", "type": "answer", "speakers": {"0": "gp"}}', "invalid_offer"),
            (b'{"sdp": "v=0", "type": "offer", "speakers": {"0": "doctor"}}', "invalid_offer"),
            (b'{"sdp": "v=0", "type": "offer", "speakers": {}}', "invalid_offer"),
            (b'{"sdp": "nonsense", "type": "offer", "speakers": {"0": "gp"}}', "bad_sdp"),
        ):
            response = await call.gp_browser.post(
                call.tap_path, data=bad, headers={"Content-Type": "application/json"}
            )
            assert response.status == 400, bad
            problem = await response.json()
            assert (problem["status"], problem["code"]) == (400, code), bad

        assert len(client.app[NOTETAKERS]) == 0
        state = await store.get_state(redis, c_id)
        assert state is not None and state.state == store.Phase.CONSENTED


# ---- 5: audio stays in memory ----------------------------------------------------------------

Snapshot = dict[Path, tuple[int, int]]  # path -> (mtime_ns, size)
# The embedded Redis's own files under the data directory (see `server/store/embedded.py`):
# its log, and its append-only file, which is how Redis persists the state the app keeps
# (consent, transcript text, the draft). The AOF's growth is bounded below: no audio in it.
REDIS_FILES = re.compile(
    r"^(redis\.log|appendonlydir/appendonly\.aof(\.manifest|\.\d+\.(incr\.aof|base\.rdb)))$"
)


def files_under(*roots: Path) -> Snapshot:
    found: Snapshot = {}
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                path = Path(folder, name)
                try:
                    st = path.lstat()
                except OSError:
                    continue  # gone meanwhile (someone else's temporary file)
                if path.is_file() and not path.is_symlink():
                    found[path] = (st.st_mtime_ns, st.st_size)
    return found


def changed(before: Snapshot, after: Snapshot) -> set[Path]:
    return {path for path, stamp in after.items() if before.get(path) != stamp}


def aof_size(snapshot: Snapshot, data_dir: Path) -> int:
    return sum(
        size
        for path, (_, size) in snapshot.items()
        if path.parent == data_dir / "appendonlydir" and ".incr." in path.name
    )


def looks_like_audio(path: Path) -> bool:
    if path.suffix.lower() in AUDIO_SUFFIXES:
        return True
    try:
        with path.open("rb") as f:
            return f.read(4).startswith(AUDIO_MAGIC)
    except OSError:
        return False


def files_open_for_writing() -> set[str]:
    """Regular files this process holds open for writing, from /proc/self/fd."""
    found: set[str] = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            flags = next(
                int(line.split()[1], 8)
                for line in Path(f"/proc/self/fdinfo/{fd}").read_text().splitlines()
                if line.startswith("flags:")
            )
        except (OSError, StopIteration):
            continue
        writing = flags & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR)
        path = target.removesuffix(" (deleted)")
        if writing and path.startswith("/") and not path.startswith("/dev/"):
            found.add(target)
    return found


@pytest.fixture
async def opened_for_writing() -> AsyncIterator[set[str]]:
    """Files this process opens for writing while the fixture lives (sampled every 10 ms),
    beyond those it already had open, e.g. pytest's own capture files."""
    baseline = files_open_for_writing()
    seen: set[str] = set()

    async def sample() -> None:
        while True:
            seen.update(files_open_for_writing() - baseline)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(sample())
    yield seen
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_no_audio_file_is_ever_written(
    aiohttp_client: MakeClient,
    settings: Settings,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    peers: list[RTCPeerConnection],
    opened_for_writing: set[str],
) -> None:
    """A whole tapped session with the local pocketsphinx engine writes no file.

    The app runs as in production without REDIS_URL: its own embedded Redis under its own
    data directory. Three checks, from strict to broad:
    - the data directory is this test's alone: after the session, the only new or changed
      files in it are the embedded Redis's log and append-only file (REDIS_FILES), and the
      AOF grew by less than the PCM the tap handled, so no audio went into Redis either;
    - this process opened no file for writing during the session (/proc/self/fd, sampled);
    - the temporary directory and /dev/shm are shared with other processes (other test
      runs in this working tree write there at any time), so a new or changed file there
      only fails the test if it is audio (an audio suffix, or a RIFF/Ogg/WebM/MP3 header),
      and other pytest runs' own folders are left out: the browser tests write WAV speech
      for Chromium's fake microphone into theirs.
    """
    data_dir = tmp_path / "data"
    client = await aiohttp_client(create_app(settings.with_(redis_url=None, data_dir=data_dir)))
    redis = client.app[REDIS]
    b = await booked_in_pilot(redis)
    shared = [Path(tempfile.gettempdir()), Path("/dev/shm")]
    async with in_call(client, redis, b) as call:
        await offer_and_consent(call)
        before = files_under(data_dir, *shared)
        writes_before = set(opened_for_writing)

        await start_tap(call, peers)
        await asyncio.sleep(TAPPED_SECONDS)
        mark = call.gp.mark()
        await send(call.gp.ws, "end", consultation_id=call.consultation_id)
        await call.gp.state("drafted", mark)
        await asyncio.sleep(1.5)  # Redis's everysec fsync, and any late writer

        after = files_under(data_dir, *shared)
        tap_seconds = (await evidence_rows(redis))[0].audio_seconds

    assert tap_seconds >= 2.0
    note = await notes.get_note(redis, b.consultation.id)
    assert isinstance(note, notes.Note) and note.engine.startswith("pocketsphinx")

    written = changed(before, after)
    in_data = {p.relative_to(data_dir).as_posix() for p in written if data_dir in p.parents}
    assert in_data, "Redis persisted the session's state"
    assert {name for name in in_data if not REDIS_FILES.match(name)} == set()
    pcm_bytes = tap_seconds * 32_000  # 16 kHz, 16-bit
    assert aof_size(after, data_dir) - aof_size(before, data_dir) < pcm_bytes / 4

    assert opened_for_writing - writes_before == set()

    ours = tmp_path_factory.getbasetemp().resolve()
    other_runs = {run for run in ours.parent.glob("pytest-*") if run != ours}
    elsewhere = {
        p for p in written if data_dir not in p.parents and not other_runs & set(p.parents)
    }
    assert {p for p in elsewhere if looks_like_audio(p)} == set()


# ---- who may offer it: enrolment in a paying programme, or a clinic in the pilot ------------


@pytest.mark.parametrize(("per_consultation_ore", "offered"), [(30_000, True), (0, False)])
async def test_a_gp_enrolled_in_a_programme_paying_for_consultations_may_offer_it(
    aiohttp_client: MakeClient,
    settings: Settings,
    redis: Redis,
    per_consultation_ore: int,
    offered: bool,
) -> None:
    """The clinic is not in the pilot; the GP's own enrolment today decides."""
    client = await aiohttp_client(create_app(settings))
    b = await book(redis)
    today = local_day(now())
    amounts = {"onboarding": 0, "per_consultation": per_consultation_ore}
    amounts |= {"per_questionnaire": 0, "cap": 0}
    programme = await create_programme(
        redis, "AI-notatassistent", "2020-01-01", "2099-12-31", "pilot_honoraria", amounts, "test"
    )
    await save_enrolment(redis, Enrolment(programme.id, b.gp.id, today, today), "test")
    async with in_call(client, redis, b) as call:
        mark, mark_gp = call.patient.mark(), call.gp.mark()
        await send(call.gp.ws, "notetaker.offer", consultation_id=call.consultation_id)
        if offered:
            await call.patient.state("offered", mark)
        else:
            assert (await call.gp.error(mark_gp))["code"] == "notetaker_unavailable"
