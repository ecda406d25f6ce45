"""An instance crashes (kill -9) with patients waiting on it: the GP on the other instance
sees the one who does not come back as "connection lost" within a presence round, not when
their presence runs out; those who reconnect to the survivor are connected again, in the
places they had. Real processes: two app instances over one redis-server, patients and a GP
as WebSocket clients that reconnect as the pages (behind a load balancer) do."""

from __future__ import annotations

import asyncio

import aiohttp

from server.signalling.presencekeeper import BEAT_SECONDS
from server.waitingroom.queue import waiting_ids
from tests.support.polling import until
from tests.support.sockets import GpView, PatientSocket, populate
from tests.support.stack import Stack


async def test_a_crashed_instances_patients_are_shown_lost_at_once(two_instances: Stack) -> None:
    stack = two_instances
    survivor, doomed = stack.urls
    async with stack.client() as redis:
        clinic = await populate(redis, 1, 5)
    b = clinic.patients
    patients = [
        PatientSocket(b[0], survivor),
        PatientSocket(b[1], doomed, also=[survivor]),
        PatientSocket(b[2], survivor),
        PatientSocket(b[3], doomed, also=[survivor]),
    ]
    leaver = PatientSocket(b[4], doomed, also=[survivor])
    gp = GpView()
    everyone = {p.consultation_id for p in b}
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(p.run(session)) for p in [*patients, leaver]]
        tasks.append(asyncio.create_task(gp.run(session, survivor, clinic)))
        await asyncio.wait_for(asyncio.gather(*(p.waiting.wait() for p in [*patients, leaver])), 30)
        assert await until(lambda: gp.connected == dict.fromkeys(everyone, True), 20)

        leaver.vanish()  # their phone dies with the instance: nobody comes back for them
        await asyncio.to_thread(stack.kill, 1)
        gone = leaver.booked.consultation_id
        shown_lost = await until(lambda: gp.connected.get(gone) is False, BEAT_SECONDS)

        staying = [p.booked.consultation_id for p in patients]
        healed = await until(
            lambda: (
                gp.connected == {**dict.fromkeys(staying, True), gone: False}
                and [p.position for p in patients] == [1, 2, 3, 4]
            ),
            30,
        )
        async with stack.client() as redis:
            truth = await waiting_ids(redis, clinic.id)
        for task in tasks:
            task.cancel()

    assert shown_lost, "the GP saw the departed patient as connected for a presence round"
    assert truth == [*staying, gone], "a place was lost (the leaver keeps theirs for the grace)"
    assert healed, f"GP sees {gp.connected}; screens show {[p.position for p in patients]}"
    assert all(p.connects == 2 for p in patients if p.booked in (b[1], b[3]))
