"""kill -9 and SIGTERM of each of two instances, with patients waiting on both and a GP on
each: no place is lost, no GP's list holds a phantom (a patient shown connected who is
gone, or listed after leaving) after one presence round, and every patient's screen shows
their true place. Real processes, as in test_instance_crash.py."""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import pytest

from server.signalling.presencekeeper import BEAT_SECONDS
from server.waitingroom.queue import waiting_ids
from tests.support.polling import until
from tests.support.sockets import GpView, PatientSocket, populate
from tests.support.stack import Stack


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
@pytest.mark.parametrize("victim", [0, 1])
async def test_an_instance_stopping_loses_no_place_and_leaves_no_phantom(
    two_instances: Stack, victim: int, sig: signal.Signals
) -> None:
    stack = two_instances
    urls = stack.urls
    survivor = 1 - victim
    async with stack.client() as redis:
        clinic = await populate(redis, 1, 8)
    b = clinic.patients
    # Booked in this order; the first six stay, spread over both instances.
    staying = [PatientSocket(x, urls[i % 2], also=[urls[1 - i % 2]]) for i, x in enumerate(b[:6])]
    vanisher = PatientSocket(b[6], urls[victim], also=[urls[survivor]])  # gone with it
    closer = PatientSocket(b[7], urls[survivor])  # leaves while it happens
    gps = [GpView(), GpView()]
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(p.run(session)) for p in [*staying, vanisher, closer]]
        tasks += [
            asyncio.create_task(gp.keep(session, [urls[i], urls[1 - i]], clinic))
            for i, gp in enumerate(gps)
        ]
        everyone = dict.fromkeys((x.consultation_id for x in b), True)
        assert await until(lambda: all(gp.connected == everyone for gp in gps), 30)

        vanisher.vanish()
        await asyncio.to_thread(stack.kill, victim, sig)
        await closer.leave()

        order = [x.consultation_id for x in b[:7]]  # the vanisher keeps a place for the grace
        truth_view = {**dict.fromkeys(order[:6], True), order[6]: False}
        no_phantom = await until(
            lambda: (
                all(gp.connected.get(order[6]) is not True for gp in gps)
                and all(b[7].consultation_id not in gp.connected for gp in gps)
            ),
            BEAT_SECONDS,
        )
        healed = await until(
            lambda: (
                all(gp.connected == truth_view for gp in gps)
                and [p.position for p in staying] == [1, 2, 3, 4, 5, 6]
            ),
            30,
        )
        async with stack.client() as redis:
            truth = await waiting_ids(redis, clinic.id)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    assert truth == order, "a place was lost, or the patient who left still waits"
    assert no_phantom, f"a GP's list still showed someone gone: {[g.connected for g in gps]}"
    assert healed, f"GP lists {[g.connected for g in gps]}; screens {[p.position for p in staying]}"
