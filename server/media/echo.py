"""The line test's echo peer: the server answers a patient's offer and sends their media back.

Each echo is a real aiortc peer connection, because only real media through the patient's
own network shows what a call will do (round trip, loss, the bitrate the path carries).

Decisions:
- Non-trickle, like WHIP: the browser sends its offer after ICE gathering, and the answer
  already carries all of our candidates, so one HTTP round trip sets the echo up and no
  signalling socket is needed before the patient has joined.
- Each echo lives at most `LIFETIME_SECONDS`; it also ends as soon as the browser closes
  its side (aiortc closes itself when DTLS is closed) or ICE/DTLS fails.
- At most `MAX_PEERS` echoes run on one instance at a time: each one decodes and re-encodes
  video, so more would starve the signalling of the same process. A slot is held from the
  moment an offer arrives, so concurrent offers cannot slip past the cap.
- Data channel messages are echoed too: the browser measures the achievable bitrate by
  pushing a burst through one (see web/static/js/precall.js). Each echo sends back at most
  `DATA_BUDGET_BYTES`, so a client cannot turn it into a free relay for 30 s.
- Video is relayed unbuffered (the newest frame wins), so a busy encoder drops frames
  instead of adding delay that would make the patient's line look slower than it is;
  audio is relayed buffered, since dropped audio frames would sound like a bad line.
- The echo gathers only the candidates of this machine's interfaces, plus a server-reflexive
  one when a STUN server is configured; no STUN server is built in, so nothing reaches
  outside unless the operator says so. Patients must be able to reach this instance's UDP
  ports, as they must for any media the server takes part in.
- aiortc (with PyAV) is imported with the first peer, not with this module: it costs more
  to import than the rest of the server's start-up (bench/cold_start.py), and most
  instances run no peer for a while after they start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from server.appkeys import ECHO_PEERS, SETTINGS
from server.media.iceconfig import rtc_configuration

if TYPE_CHECKING:
    from aiortc import MediaStreamTrack, RTCConfiguration, RTCDataChannel

log = logging.getLogger(__name__)

MAX_PEERS = 4
LIFETIME_SECONDS = 30.0
MAX_SDP_CHARS = 64 * 1024
DATA_BUDGET_BYTES = 8 * 1024 * 1024


class EchoBusy(Exception):
    """Every echo slot of this instance is taken; one frees within `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"all echo peers busy, retry after {retry_after} s")
        self.retry_after = retry_after


class BadOffer(Exception):
    """The offer cannot start an echo; `code` says why, for the JSON error."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def check_offer(sdp: str) -> None:
    """Refuse offers an echo cannot use, before any peer connection is made for them."""
    if len(sdp) > MAX_SDP_CHARS or not sdp.startswith("v=0"):
        raise BadOffer("bad_sdp", "the offer is not a session description")
    from aiortc.sdp import SessionDescription

    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as error:  # aiortc's parser asserts, indexes and converts as it goes
        raise BadOffer("bad_sdp", "the offer cannot be parsed") from error
    media = [m for m in parsed.media if m.kind in ("audio", "video")]
    if not media:
        raise BadOffer("no_media", "the offer has no audio or video to echo")
    # aiortc trusts mids and BUNDLE groups; an inconsistent pair leaves it with transceivers
    # that have no transport, which then fail on close. Browsers never send such offers.
    kinds = {m.kind for m in parsed.media}
    mids = [str(m.rtp.muxId) for m in parsed.media]
    bundled = {str(item) for group in parsed.group for item in group.items}
    if not kinds <= {"audio", "video", "application"} or "" in mids:
        raise BadOffer("bad_sdp", "the offer has a media section a browser would not send")
    if len(set(mids)) != len(mids) or not bundled <= set(mids):
        raise BadOffer("bad_sdp", "the offer's media sections and groups do not match")
    if not any(m.ice_candidates for m in parsed.media):
        raise BadOffer("no_candidates", "send the offer after ICE gathering has completed")


class EchoPeer:
    """One browser's echo: every track it sends comes back to it on the same connection."""

    def __init__(self, configuration: RTCConfiguration, lifetime: float) -> None:
        from aiortc import RTCPeerConnection
        from aiortc.contrib.media import MediaRelay

        self.pc = RTCPeerConnection(configuration)
        self.expires_at = asyncio.get_running_loop().time() + lifetime
        self._lifetime = lifetime
        self._relay = MediaRelay()
        self._ended = asyncio.Event()
        self._closing: asyncio.Future[None] | None = None
        self.pc.on("track", self._echo)
        self.pc.on("datachannel", self._echo_data)
        self.pc.on("connectionstatechange", self._state_changed)

    def _echo(self, track: MediaStreamTrack) -> None:
        self.pc.addTrack(self._relay.subscribe(track, buffered=track.kind == "audio"))

    def _echo_data(self, channel: RTCDataChannel) -> None:
        budget = DATA_BUDGET_BYTES

        def echo(message: bytes | str) -> None:
            nonlocal budget
            budget -= len(message)
            if budget >= 0:
                channel.send(message)

        channel.on("message", echo)

    def _state_changed(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self._ended.set()

    async def answer(self, offer_sdp: str) -> str:
        from aiortc import RTCSessionDescription

        await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        # aiortc's setLocalDescription waits for ICE gathering: the answer is complete.
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    async def run(self) -> None:
        """Until the browser leaves, the lifetime is up, or close() is called."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ended.wait(), self._lifetime)
        await self.close()

    async def close(self) -> None:
        """Close once, however many callers ask, and even if a caller is cancelled: a second
        RTCPeerConnection.close() after a failed first one would wait forever."""
        self._ended.set()
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        try:
            await self.pc.close()
        except Exception:
            log.exception("closing an echo peer failed")


def _host_candidates_only() -> RTCConfiguration:
    from aiortc import RTCConfiguration

    return RTCConfiguration()


class EchoPeers:
    """The echo peers live on this instance: the cap, their lifetimes, and closing them all."""

    def __init__(
        self,
        limit: int = MAX_PEERS,
        lifetime: float = LIFETIME_SECONDS,
        configuration: Callable[[], RTCConfiguration] | None = None,
    ) -> None:
        self.limit = limit
        self.lifetime = lifetime
        # Made per echo: TURN credentials in it expire. The default is host candidates only.
        self._configuration = configuration or _host_candidates_only
        self._peers: set[EchoPeer] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._peers)

    def retry_after(self) -> int:
        """Whole seconds until the oldest echo has to end (at least 1)."""
        now = asyncio.get_running_loop().time()
        soonest = min((p.expires_at for p in self._peers), default=now)
        return max(1, math.ceil(soonest - now))

    async def answer(self, offer_sdp: str) -> str:
        """Start an echo for this offer and return the complete answer SDP.

        Raises BadOffer for an offer aiortc cannot use and EchoBusy when the cap is reached.
        """
        check_offer(offer_sdp)
        if len(self._peers) >= self.limit:
            raise EchoBusy(self.retry_after())
        peer = EchoPeer(self._configuration(), self.lifetime)
        self._peers.add(peer)
        try:
            answer = await peer.answer(offer_sdp)
        except Exception as error:
            await self._forget(peer)
            # aiortc reports unusable offers with several exception types (ValueError,
            # InvalidAccessError, InternalError, ...): to the caller they all mean "bad offer".
            log.info("echo offer refused: %r", error)
            raise BadOffer("bad_sdp", "the offer cannot be answered") from error
        except BaseException:
            await self._forget(peer)
            raise
        task = asyncio.create_task(self._run(peer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return answer

    async def _run(self, peer: EchoPeer) -> None:
        try:
            await peer.run()
        finally:
            self._peers.discard(peer)

    async def _forget(self, peer: EchoPeer) -> None:
        try:
            await peer.close()
        finally:
            self._peers.discard(peer)

    async def close_all(self) -> None:
        """On shutdown: end every echo now, so no peer connection outlives the app."""
        await asyncio.gather(*(peer.close() for peer in list(self._peers)))
        await asyncio.gather(*list(self._tasks))
        self._peers.clear()


async def echo_peers_ctx(app: web.Application) -> AsyncIterator[None]:
    """The instance's echo peers, closed on shutdown."""
    settings = app[SETTINGS]
    peers = EchoPeers(configuration=lambda: rtc_configuration(settings, "echo"))
    app[ECHO_PEERS] = peers
    yield
    await peers.close_all()
