"""Two app instances on one Redis: any instance serves anyone, and calls span instances."""

from __future__ import annotations

import asyncio

from pytest_aiohttp import AiohttpClient

from server.app import create_app
from server.settings import Settings
from server.store import instances, keys
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation
from tests.integration.helpers import (
    book,
    browser,
    gp_hello,
    join,
    login,
    media_flowed,
    patient_hello,
    receive_type,
    send,
)


async def test_call_across_two_instances(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    a = await aiohttp_client(create_app(settings.with_(instance_id="instance-a")))
    b = await aiohttp_client(create_app(settings.with_(instance_id="instance-b")))
    assert (await (await a.get("/healthz")).json())["instance"] == "instance-a"
    assert (await (await b.get("/healthz")).json())["instance"] == "instance-b"

    booking = await book(redis)
    resume = await join(b, booking.link)
    async with (
        b.ws_connect("/ws") as patient,
        browser(a) as gp_session,
    ):
        welcome = await patient_hello(patient, booking.link, resume)
        patient_id = welcome["participant_id"]
        assert (await receive_type(patient, "waiting"))["position"] == 1

        await login(gp_session, booking.gp.username)
        async with gp_session.ws_connect("/ws") as gp:
            state = await gp_hello(gp)
            assert [e["consultation_id"] for e in state["waiting"]] == [booking.consultation.id]

            await send(gp, "admit", consultation_id=booking.consultation.id)
            gp_id = (await receive_type(gp, "call.joined"))["participant_id"]
            joined = await receive_type(patient, "call.joined")
            assert [p["participant_id"] for p in joined["peers"]] == [gp_id]
            assert (await receive_type(gp, "peer.joined"))["peer"]["participant_id"] == patient_id

            offer = {"type": "offer", "sdp": "v=0\r\n"}
            await send(gp, "signal", to=patient_id, description=offer)
            relayed = await receive_type(patient, "signal")
            assert (relayed["from"], relayed["description"]) == (gp_id, offer)

            answer = {"type": "answer", "sdp": "v=0\r\n"}
            await send(patient, "signal", to=gp_id, description=answer)
            back = await receive_type(gp, "signal")
            assert (back["from"], back["description"]) == (patient_id, answer)

            await media_flowed(gp, patient_id)
            await send(gp, "end", consultation_id=booking.consultation.id)
            assert (await receive_type(patient, "call.ended"))["billing_code"] == "0125"
            assert (await receive_type(gp, "call.ended"))["billing_code"] == "0125"

    c = await get_consultation(redis, booking.consultation.id)
    assert c is not None
    assert c.status == Status.ENDED


async def test_a_second_tab_on_another_instance_supersedes_the_first(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    a = await aiohttp_client(create_app(settings.with_(instance_id="instance-a")))
    b = await aiohttp_client(create_app(settings.with_(instance_id="instance-b")))
    booking = await book(redis)
    resume = await join(a, booking.link)
    async with a.ws_connect("/ws") as first, b.ws_connect("/ws") as second:
        await patient_hello(first, booking.link, resume)
        await patient_hello(second, booking.link, resume)
        await receive_type(first, "superseded")
        await send(second, "leave")
        await receive_type(second, "left")


async def test_an_instance_taken_for_dead_shows_its_patients_connected_again(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    """Another instance buried this one (it paused too long to renew its liveness key):
    its patients lost their presence and their GP saw "connection lost". Once it finds its
    key lapsed it renews their presence, and the GP sees them connected again."""
    a = await aiohttp_client(create_app(settings.with_(instance_id="instance-a")))
    b = await aiohttp_client(create_app(settings.with_(instance_id="instance-b")))
    booking = await book(redis)
    resume = await join(b, booking.link)
    async with b.ws_connect("/ws") as patient, browser(a) as gp_session:
        welcome = await patient_hello(patient, booking.link, resume)
        await login(gp_session, booking.gp.username)
        async with gp_session.ws_connect("/ws") as gp:
            state = await gp_hello(gp)
            assert [e["connected"] for e in state["waiting"]] == [True]

            buried = None
            while buried is None:  # between two of b's beats
                await redis.delete(keys.instance_alive("instance-b"))
                buried = await instances.bury(redis, "instance-b")
            assert buried == [welcome["participant_id"]]
            assert not await redis.exists(keys.presence(welcome["participant_id"]))

            entry = await asyncio.wait_for(receive_type(gp, "queue.entry"), 15)
            assert entry["entry"]["connected"] is True
            assert await redis.get(keys.presence(welcome["participant_id"])) == "instance-b"
