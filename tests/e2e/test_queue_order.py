"""What a waiting patient is told as scheduled and drop-in patients interleave.

A patient booked for later who comes early is told their time, not "you are next": a
drop-in arriving before it goes first. From the appointment time on they are shown a place,
and the place and the wait agree. The test makes a clinic of its own, so the queue is only
these two patients.
"""

from __future__ import annotations

import re
import secrets
import time

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, expect

from server.consultations.links import issue_link
from server.store.clinics import create_clinic, issue_dropin_link
from server.store.consultations import Kind, create_consultation
from server.waitingroom.hours import WEEKDAYS
from tests.support.browser import media_context, patient_join
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

EARLY_BY = 20  # seconds before the booked patient's appointment


async def clinic_links(stack: Stack) -> tuple[str, str]:
    """A clinic open for drop-ins all day: a link booked EARLY_BY seconds from now, and the
    drop-in link."""
    client = aioredis.from_url(stack.redis.url, decode_responses=True)
    try:
        suffix = secrets.token_hex(4)
        clinic = await create_clinic(
            client, "Lægehuset Kø", f"6{int(suffix, 16) % 100000:05d}", "+45 70 55 66 77",
            {day: [("00:00", "24:00")] for day in WEEKDAYS},
        )  # fmt: skip
        c = await create_consultation(
            client, clinic.id, Kind.SCHEDULED, scheduled_start=time.time() + EARLY_BY
        )
        link, _ = await issue_link(client, c)
        dropin = await issue_dropin_link(client, clinic.id)
    finally:
        await client.aclose()
    return f"{stack.urls[0]}/j/{link}", f"{stack.urls[0]}/d/{dropin}"


async def test_an_early_booked_patient_is_told_the_time_and_a_drop_in_goes_first(
    browser: Browser, stack: Stack
) -> None:
    booked_url, dropin_url = await clinic_links(stack)
    booked_context = await media_context(browser, stack.urls[0])
    dropin_context = await media_context(browser, stack.urls[0])
    booked, dropin = await booked_context.new_page(), await dropin_context.new_page()

    await patient_join(booked, booked_url, "Bodil Booket")
    place, wait = booked.get_by_test_id("queue-position"), booked.get_by_test_id("queue-eta")
    await expect(place).to_have_text(re.compile(r"^Din tid er kl\. \d\d[.:]\d\d\.$"))
    await expect(wait).to_contain_text("omkring det tidspunkt")

    await patient_join(dropin, dropin_url, "Dennis Drop-in")
    await expect(dropin.get_by_test_id("queue-position")).to_have_text("Du er den næste i køen.")
    await expect(dropin.get_by_test_id("queue-eta")).to_have_text("Forventet ventetid: kort.")
    # The booked patient was never told "next", so nothing they were told went backwards.
    await expect(place).to_contain_text("Din tid er kl.")

    # The appointment time comes: now a place, behind the drop-in, and a wait of minutes.
    await expect(place).to_have_text("Du er nummer 2 i køen.", timeout=EARLY_BY * 1000 + 30_000)
    await expect(wait).to_have_text(re.compile(r"^Forventet ventetid: ca\. \d+ min\.$"))

    for page in (booked, dropin):
        await page.get_by_test_id("leave").click()
        await expect(page.get_by_test_id("end")).to_be_visible()
    await booked_context.close()
    await dropin_context.close()
