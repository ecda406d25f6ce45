"""The line test over real HTTP: a real aiortc peer in the test talks to the app's echo peer."""

from __future__ import annotations

import asyncio
import math
import time
from array import array
from collections.abc import AsyncIterator, Callable
from fractions import Fraction
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from av import AudioFrame, VideoFrame

from server.app import create_app
from server.appkeys import ECHO_PEERS
from server.consultations.links import issue_link
from server.demo import ALL_DAY
from server.media.echo import LIFETIME_SECONDS, MAX_PEERS, EchoPeers
from server.settings import Settings
from server.store.clinics import create_clinic, issue_dropin_link
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation, update_consultation
from server.store.events import read_events
from tests.integration.helpers import Client, book, origin

UNKNOWN = "Zq3v8Yc1m0pWn4rTx7bLk2dHs9gFj6aE"
MEDIA_TIMEOUT = 15.0
POLL_SECONDS = 0.05
GREY = 200  # the luma of every frame the test sends
TONE_AMPLITUDE = 8000

GOOD_FIGURES = {
    "connected": True,
    "camera_ok": True,
    "mic_ok": True,
    "rtt_ms": 12.5,
    "loss_pct": 0.0,
    "bitrate_kbps": 1800.0,
}


class GreyVideo(VideoStreamTrack):
    """Frames of one flat grey, so the echo can be told apart from any other picture."""

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=320, height=240, format="yuv420p")
        for plane, value in zip(frame.planes, (GREY, 128, 128), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        return frame


class Tone(AudioStreamTrack):
    """A 500 Hz tone: ten whole periods in each 20 ms frame at 48 kHz."""

    _period = array(
        "h", (int(TONE_AMPLITUDE * math.sin(2 * math.pi * 10 * i / 960)) for i in range(960))
    ).tobytes()

    def __init__(self) -> None:
        super().__init__()
        self._pts = 0

    async def recv(self) -> AudioFrame:
        await asyncio.sleep(0.02)
        frame = AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(self._period)
        frame.sample_rate = 48000
        frame.pts, frame.time_base = self._pts, Fraction(1, 48000)
        self._pts += 960
        return frame


def mean_luma(frame: VideoFrame) -> float:
    plane = frame.planes[0]
    data = bytes(plane)
    rows = [
        data[y * plane.line_size : y * plane.line_size + frame.width] for y in range(frame.height)
    ]
    return sum(sum(row) for row in rows) / (frame.width * frame.height)


def audio_peak(frame: AudioFrame) -> int:
    samples = array("h", bytes(frame.planes[0]))
    return max(abs(s) for s in samples)


async def first_frame(track: MediaStreamTrack, matches: Callable[[Any], bool]) -> Any:
    """The first frame coming back on `track` that `matches`; fails after MEDIA_TIMEOUT."""

    async def read() -> Any:
        while True:
            frame = await track.recv()
            if matches(frame):
                return frame

    return await asyncio.wait_for(read(), MEDIA_TIMEOUT)


async def offer_from(pc: RTCPeerConnection) -> dict[str, str]:
    await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers before returning
    return {"sdp": pc.localDescription.sdp, "type": "offer"}


def client_peer(*tracks: MediaStreamTrack) -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    for track in tracks:
        pc.addTrack(track)
    return pc


@pytest.fixture
async def peers() -> AsyncIterator[list[RTCPeerConnection]]:
    """Client peers made by a test, closed when it ends."""
    made: list[RTCPeerConnection] = []
    yield made
    await asyncio.gather(*(pc.close() for pc in made))


async def until(condition: Callable[[], bool], seconds: float = MEDIA_TIMEOUT) -> None:
    """Wait for `condition`, checking often; fails if it does not hold within `seconds`."""
    for _ in range(int(seconds / POLL_SECONDS)):
        if condition():
            return
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError("the condition did not come true in time")


async def test_the_echo_sends_the_patients_own_media_back(
    client: Client, redis: Redis, peers: list[RTCPeerConnection]
) -> None:
    b = await book(redis)
    pc = client_peer(GreyVideo(), Tone())
    peers.append(pc)
    echoed: dict[str, MediaStreamTrack] = {}
    pc.on("track", lambda track: echoed.setdefault(track.kind, track))

    response = await client.post(
        f"/j/{b.link}/echo", json=await offer_from(pc), headers={"Origin": origin(client)}
    )
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["type"] == "answer"
    assert "a=candidate" in answer["sdp"]  # complete: no trickle needed
    await pc.setRemoteDescription(RTCSessionDescription(**answer))

    assert set(echoed) == {"audio", "video"}
    video = await first_frame(echoed["video"], lambda f: abs(mean_luma(f) - GREY) < 20)
    assert (video.width, video.height) == (320, 240)
    await first_frame(echoed["audio"], lambda f: audio_peak(f) > TONE_AMPLITUDE // 4)

    echo_peers = client.app[ECHO_PEERS]
    assert len(echo_peers) == 1
    await pc.close()  # the browser leaves: the echo ends with it
    await until(lambda: len(echo_peers) == 0)


async def test_the_echo_sends_data_channel_messages_back(
    client: Client, redis: Redis, peers: list[RTCPeerConnection]
) -> None:
    """The browser's bitrate probe: bytes pushed through a data channel come back."""
    b = await book(redis)
    pc = client_peer(Tone())
    peers.append(pc)
    channel = pc.createDataChannel("line-test")
    opened = asyncio.Event()
    channel.on("open", opened.set)
    received: asyncio.Queue[bytes] = asyncio.Queue()
    channel.on("message", received.put_nowait)

    response = await client.post(f"/j/{b.link}/echo", json=await offer_from(pc))
    assert response.status == 200, await response.text()
    await pc.setRemoteDescription(RTCSessionDescription(**await response.json()))
    await asyncio.wait_for(opened.wait(), MEDIA_TIMEOUT)

    chunks = [bytes([n]) * 16384 for n in range(8)]
    for chunk in chunks:
        channel.send(chunk)
    echoed = [await asyncio.wait_for(received.get(), MEDIA_TIMEOUT) for _ in chunks]
    assert echoed == chunks


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"sdp": "this is not a session description", "type": "offer"}, "bad_sdp"),
        ({"sdp": "v=0\r\nm=audio\r\n", "type": "offer"}, "bad_sdp"),
        ({"sdp": "v=0", "type": "answer"}, "invalid_offer"),
        ({"sdp": 42, "type": "offer"}, "invalid_offer"),
        ({"offer": "v=0"}, "invalid_offer"),
        ([], "invalid_offer"),
    ],
)
async def test_a_bad_offer_is_a_400_with_a_stable_code(
    client: Client, redis: Redis, body: Any, code: str
) -> None:
    b = await book(redis)
    response = await client.post(f"/j/{b.link}/echo", json=body)
    assert response.status == 400
    assert (await response.json())["code"] == code
    assert len(client.app[ECHO_PEERS]) == 0


async def test_a_body_that_is_not_json_is_malformed(client: Client, redis: Redis) -> None:
    b = await book(redis)
    response = await client.post(f"/j/{b.link}/echo", data=b"v=0 {")
    assert response.status == 400
    assert (await response.json())["code"] == "malformed"


async def test_an_offer_without_candidates_or_media_is_refused(
    client: Client, redis: Redis, peers: list[RTCPeerConnection]
) -> None:
    b = await book(redis)
    pc = client_peer(Tone())
    peers.append(pc)
    offer = await offer_from(pc)
    no_candidates = "\r\n".join(
        line for line in offer["sdp"].split("\r\n") if not line.startswith("a=candidate")
    )
    response = await client.post(f"/j/{b.link}/echo", json={**offer, "sdp": no_candidates})
    assert (response.status, (await response.json())["code"]) == (400, "no_candidates")

    data_only = client_peer()
    peers.append(data_only)
    data_only.createDataChannel("probe")
    response = await client.post(f"/j/{b.link}/echo", json=await offer_from(data_only))
    assert (response.status, (await response.json())["code"]) == (400, "no_media")


async def test_echo_needs_a_working_link(
    client: Client, redis: Redis, peers: list[RTCPeerConnection]
) -> None:
    pc = client_peer(Tone())
    peers.append(pc)
    offer = await offer_from(pc)

    response = await client.post(f"/j/{UNKNOWN}/echo", json=offer)
    assert (response.status, (await response.json())["code"]) == (404, "link_unknown")
    response = await client.post("/j/short/echo", json=offer)
    assert (response.status, (await response.json())["code"]) == (404, "link_unknown")

    b = await book(redis)
    await issue_link(redis, b.consultation)
    response = await client.post(f"/j/{b.link}/echo", json=offer)
    assert (response.status, (await response.json())["code"]) == (410, "link_revoked")

    cancelled = await book(redis)
    await update_consultation(redis, cancelled.consultation, status=Status.CANCELLED)
    response = await client.post(f"/j/{cancelled.link}/echo", json=offer)
    assert (response.status, (await response.json())["code"]) == (410, "link_cancelled")

    early = await book(redis, minutes_from_now=3 * 24 * 60)
    response = await client.post(f"/j/{early.link}/echo", json=offer)
    assert (response.status, (await response.json())["code"]) == (403, "link_not_yet")
    assert len(client.app[ECHO_PEERS]) == 0


async def test_a_foreign_origin_is_refused(client: Client, redis: Redis) -> None:
    b = await book(redis)
    for path, body in ((f"/j/{b.link}/echo", {}), (f"/j/{b.link}/precall", GOOD_FIGURES)):
        response = await client.post(path, json=body, headers={"Origin": "https://evil.example"})
        assert (response.status, (await response.json())["code"]) == (403, "bad_origin")
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None and c.precall_verdict == ""


async def test_beyond_the_cap_the_echo_is_busy(
    client: Client, redis: Redis, peers: list[RTCPeerConnection]
) -> None:
    b = await book(redis)
    for _ in range(MAX_PEERS):
        pc = client_peer(Tone())
        peers.append(pc)
        response = await client.post(f"/j/{b.link}/echo", json=await offer_from(pc))
        assert response.status == 200, await response.text()
        await pc.setRemoteDescription(RTCSessionDescription(**await response.json()))

    one_too_many = client_peer(Tone())
    peers.append(one_too_many)
    response = await client.post(f"/j/{b.link}/echo", json=await offer_from(one_too_many))
    assert response.status == 503
    body = await response.json()
    assert body["code"] == "echo_busy"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= LIFETIME_SECONDS
    assert body["retry_after"] == retry_after
    assert len(client.app[ECHO_PEERS]) == MAX_PEERS

    # One browser leaves: its slot is free again. (Once connected, so the echo can hear the
    # goodbye; a peer that never connected is only reaped at the end of its lifetime.)
    await until(lambda: peers[0].connectionState == "connected")
    await peers[0].close()
    await until(lambda: len(client.app[ECHO_PEERS]) < MAX_PEERS)
    response = await client.post(f"/j/{b.link}/echo", json=await offer_from(one_too_many))
    assert response.status == 200


async def test_an_echo_ends_itself_when_its_time_is_up(peers: list[RTCPeerConnection]) -> None:
    echo = EchoPeers(lifetime=1.0)
    pc = client_peer(Tone())
    peers.append(pc)
    answer = await echo.answer((await offer_from(pc))["sdp"])
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    assert len(echo) == 1
    await until(lambda: len(echo) == 0)
    await until(lambda: pc.connectionState in ("closed", "failed"))
    await echo.close_all()


async def test_shutdown_closes_every_echo(
    settings: Settings, redis: Redis, peers: list[RTCPeerConnection]
) -> None:
    b = await book(redis)
    async with TestClient(TestServer(create_app(settings))) as own:
        echo_peers = own.app[ECHO_PEERS]
        pc = client_peer(Tone())
        peers.append(pc)
        response = await own.post(f"/j/{b.link}/echo", json=await offer_from(pc))
        assert response.status == 200
        await pc.setRemoteDescription(RTCSessionDescription(**await response.json()))
        live = list(echo_peers._peers)
        assert len(live) == 1
    assert len(echo_peers) == 0
    assert live[0].pc.connectionState == "closed"


async def test_precall_stores_the_verdict_on_the_consultation(client: Client, redis: Redis) -> None:
    b = await book(redis)
    before = time.time()
    response = await client.post(
        f"/j/{b.link}/precall", json=GOOD_FIGURES, headers={"Origin": origin(client)}
    )
    assert response.status == 200, await response.text()
    assert await response.json() == {"verdict": "good", "advice": ["precall.advice_good"]}
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None
    assert c.precall_verdict == "good"
    assert c.precall_at is not None and before <= c.precall_at <= time.time()

    response = await client.post(
        f"/j/{b.link}/precall", json={**GOOD_FIGURES, "loss_pct": 30.0, "camera_ok": False}
    )
    assert await response.json() == {
        "verdict": "will_not_work",
        "advice": ["precall.advice_no_camera", "precall.advice_loss", "precall.advice_phone"],
    }
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None and c.precall_verdict == "will_not_work"

    tested = [data for _, kind, data in await read_events(redis) if kind == "precall.tested"]
    assert tested[-1] == {
        "consultation_id": b.consultation.id,
        "clinic_id": b.clinic.id,
        "verdict": "will_not_work",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"connected": "yes"}, "connected"),
        ({"loss_pct": 101}, "loss_pct"),
        ({"rtt_ms": -1}, "rtt_ms"),
        ({"bitrate_kbps": "fast"}, "bitrate_kbps"),
        ({"verdict": "good"}, "verdict"),
    ],
)
async def test_precall_refuses_bad_figures(
    client: Client, redis: Redis, changes: dict[str, Any], field: str
) -> None:
    b = await book(redis)
    response = await client.post(f"/j/{b.link}/precall", json={**GOOD_FIGURES, **changes})
    assert response.status == 400
    body = await response.json()
    assert body["code"] == "invalid_figures"
    assert field in body["fields"]
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None and (c.precall_verdict, c.precall_at) == ("", None)


async def test_precall_needs_a_working_link(client: Client, redis: Redis) -> None:
    response = await client.post(f"/j/{UNKNOWN}/precall", json=GOOD_FIGURES)
    assert (response.status, (await response.json())["code"]) == (404, "link_unknown")
    b = await book(redis)
    await issue_link(redis, b.consultation)
    response = await client.post(f"/j/{b.link}/precall", json=GOOD_FIGURES)
    assert (response.status, (await response.json())["code"]) == (410, "link_revoked")


async def test_the_patient_page_offers_the_line_test(client: Client, redis: Redis) -> None:
    b = await book(redis)
    body = await (await client.get(f"/j/{b.link}")).text()
    assert 'data-testid="precall-start"' in body
    assert 'data-testid="precall-verdict"' in body
    assert "Test din forbindelse" in body


async def test_the_shared_drop_in_page_has_no_line_test(client: Client, redis: Redis) -> None:
    """Before joining, a drop-in visitor has no consultation to keep a verdict on."""
    clinic = await create_clinic(redis, "Lægehuset Åbyhøj", "200001", "+45 1", ALL_DAY)
    token = await issue_dropin_link(redis, clinic.id)
    body = await (await client.get(f"/d/{token}")).text()
    assert 'data-testid="precall-start"' not in body
