"""Media relayed by a real coturn, with the ICE servers and credentials the app hands out.

Two aiortc peers may use relay candidates only (`iceTransportPolicy: relay`), so frames
arrive only if coturn accepted the app's TURN REST credentials and relayed them: over UDP,
over TCP, and over TLS to the certificate's host name.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.rtcconfiguration import RTCIceTransportPolicy

from server.auth.turn import ice_servers
from server.settings import Settings
from tests.support.turnserver import TurnServer

FRAMES = 10
CANDIDATE = re.compile(r"a=candidate:\S+ \d+ \S+ \d+ (\S+) (\d+) typ (\S+)")


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TurnServer]:
    server = TurnServer(Path(tmp_path_factory.mktemp("coturn")))
    server.start()
    yield server
    server.stop()


def relay_only(settings: Settings, user: str) -> RTCPeerConnection:
    servers = [RTCIceServer(**server) for server in ice_servers(settings, user)]  # type: ignore[arg-type]
    return RTCPeerConnection(
        RTCConfiguration(iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy.RELAY)
    )


def candidates(description: RTCSessionDescription) -> list[tuple[str, int, str]]:
    return [(ip, int(port), kind) for ip, port, kind in CANDIDATE.findall(description.sdp)]


async def call(settings: Settings) -> tuple[list[tuple[str, int, str]], int]:
    """A GP's peer sends video to a patient's; returns the offer's candidates and the
    number of frames the patient's side decoded."""
    gp, patient = relay_only(settings, "gp-1"), relay_only(settings, "patient-1")
    try:
        gp.addTrack(VideoStreamTrack())
        arrived: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        patient.on("track", arrived.set_result)
        await gp.setLocalDescription(await gp.createOffer())
        offer = gp.localDescription
        await patient.setRemoteDescription(offer)
        await patient.setLocalDescription(await patient.createAnswer())
        await gp.setRemoteDescription(patient.localDescription)
        track = await asyncio.wait_for(arrived, 30)
        decoded = 0
        for _ in range(FRAMES):
            frame = await asyncio.wait_for(track.recv(), 60)  # type: ignore[attr-defined]
            decoded += frame.width > 0
        return candidates(offer), decoded
    finally:
        await gp.close()
        await patient.close()


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
async def test_media_flows_through_coturn(
    coturn: TurnServer, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Trust exactly the lab's self-signed certificate, as production trusts a real CA.
    monkeypatch.setenv("SSL_CERT_FILE", str(coturn.certificate))
    url = dict(zip(["udp", "tcp", "tls"], coturn.urls(), strict=True))[transport]
    settings = Settings(turn_urls=(url,), turn_secret=coturn.secret)

    offered, decoded = await call(settings)

    assert decoded == FRAMES
    low, high = coturn.relay_ports
    assert offered
    assert all(kind == "relay" for _, _, kind in offered)
    assert all(ip == coturn.listen_ip and low <= port <= high for ip, port, _ in offered)


async def test_coturn_refuses_credentials_made_with_another_secret(coturn: TurnServer) -> None:
    settings = Settings(turn_urls=coturn.urls()[:1], turn_secret="not the shared secret")
    peer = relay_only(settings, "patient-1")
    try:
        peer.addTransceiver("video")
        await peer.setLocalDescription(await peer.createOffer())
        assert candidates(peer.localDescription) == []
    finally:
        await peer.close()


async def test_tls_relay_checks_the_certificate(coturn: TurnServer) -> None:
    """Without trusting the lab certificate, TURN over TLS gets no relay: the check is real."""
    settings = Settings(turn_urls=coturn.urls()[2:], turn_secret=coturn.secret)
    peer = relay_only(settings, "patient-1")
    try:
        peer.addTransceiver("video")
        await peer.setLocalDescription(await peer.createOffer())
        assert candidates(peer.localDescription) == []
    finally:
        await peer.close()
