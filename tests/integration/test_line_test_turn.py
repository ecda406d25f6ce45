"""The line test uses the call's STUN and TURN servers on both ends, with a real coturn:
behind a UDP-blocked firewall the call works through TURN, so the line test must too."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from aiortc.rtcicetransport import connection_kwargs

from server.auth.turn import turn_credentials
from server.media.iceconfig import rtc_configuration
from server.settings import Settings
from server.store.connection import Redis
from tests.integration.helpers import Client, book, origin
from tests.integration.test_precall import GREY, GreyVideo, first_frame, mean_luma
from tests.support.turnserver import TurnServer

RELAY = re.compile(r"a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ relay")


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TurnServer]:
    server = TurnServer(Path(tmp_path_factory.mktemp("coturn")))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, coturn: TurnServer) -> Settings:
    """The app hands out a STUN URL and TURN over UDP and TCP at the real coturn."""
    return dataclasses.replace(
        settings,
        stun_urls=(f"stun:{coturn.listen_ip}:{coturn.port}",),
        turn_urls=coturn.urls()[:2],
        turn_secret=coturn.secret,
    )


def test_the_servers_peers_get_every_url_with_credentials(
    settings: Settings, coturn: TurnServer
) -> None:
    configuration = rtc_configuration(settings, "echo")
    assert [s.urls for s in configuration.iceServers or []] == [
        list(settings.stun_urls), list(settings.turn_urls),
    ]  # fmt: skip
    used = connection_kwargs(configuration.iceServers or [])
    assert used["stun_server"] == used["turn_server"] == (coturn.listen_ip, coturn.port)
    username, password = used["turn_username"], used["turn_password"]
    expiry, user = username.split(":")
    assert user == "echo"
    assert turn_credentials(settings.turn_secret, user, 0, now=int(expiry))[1] == password


async def test_the_browser_gets_the_calls_ice_servers_from_our_origin_only(
    client: Client, redis: Redis, settings: Settings
) -> None:
    b = await book(redis)
    refused = await client.post(
        f"/j/{b.link}/ice-servers", headers={"Origin": "https://evil.example"}
    )
    assert refused.status == 403
    response = await client.post(f"/j/{b.link}/ice-servers", headers={"Origin": origin(client)})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    stun, turn = (await response.json())["ice_servers"]
    assert stun == {"urls": list(settings.stun_urls)}
    assert turn["urls"] == list(settings.turn_urls) and turn["username"] and turn["credential"]
    gone = await client.post("/j/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/ice-servers")
    assert gone.status == 404


async def test_a_relay_only_line_test_reaches_the_echo_through_coturn(
    client: Client, redis: Redis, coturn: TurnServer
) -> None:
    """The patient's side may use TURN only (as behind a UDP-blocked firewall); the echo
    answers with a relay candidate of its own, and the patient's picture comes back."""
    b = await book(redis)
    given = await client.post(f"/j/{b.link}/ice-servers", headers={"Origin": origin(client)})
    servers = [RTCIceServer(**s) for s in (await given.json())["ice_servers"]]
    pc = RTCPeerConnection(
        RTCConfiguration(iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy.RELAY)
    )
    try:
        echoed: list[object] = []
        pc.on("track", lambda track: echoed.append(track) if track.kind == "video" else None)
        pc.addTrack(GreyVideo())
        await pc.setLocalDescription(await pc.createOffer())
        assert RELAY.search(pc.localDescription.sdp), "the patient's side got no relay"
        offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
        response = await client.post(
            f"/j/{b.link}/echo", json=offer, headers={"Origin": origin(client)}
        )
        assert response.status == 200, await response.text()
        answer = await response.json()
        low, high = coturn.relay_ports
        relays = [(ip, int(port)) for ip, port in RELAY.findall(answer["sdp"])]
        assert relays and all(ip == coturn.listen_ip and low <= p <= high for ip, p in relays)
        await pc.setRemoteDescription(RTCSessionDescription(**answer))
        assert echoed
        await first_frame(echoed[0], lambda f: abs(mean_luma(f) - GREY) < 20)  # type: ignore[arg-type]
    finally:
        await pc.close()
