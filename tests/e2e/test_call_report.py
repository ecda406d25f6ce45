"""A real call in Chromium is counted: its attempt says media was reached, and how, and
the side that ends the call sends its last report before the call is gone."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from server.callquality.success import Outcome, judge
from server.clock import now
from server.store.callattempts import current_attempt, get_attempt
from tests.support.browser import (
    end_consultation,
    gp_login,
    media_context,
    patient_join,
    remote_media,
)
from tests.support.stack import Stack

CANDIDATE_TYPES = {"host", "srflx", "prflx", "relay"}


@pytest.mark.e2e
async def test_a_real_call_is_recorded_as_reaching_media(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    base = stack.urls[0]
    url = await stack.new_patient_url(base, demo["clinic_id"])
    consultation_id = await stack.consultation_id(url)
    gp_context = await media_context(browser, base)
    patient_context = await media_context(browser, base)
    gp = await gp_context.new_page()
    patient = await patient_context.new_page()
    await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])
    await patient_join(patient, url, "Karen Jensen")
    entry = gp.locator(".queue-entry", has_text="Karen Jensen")
    await expect(entry).to_be_visible()
    await entry.get_by_test_id("admit").click()
    assert (await remote_media(gp))["framesAfter"] > 0
    assert (await remote_media(patient))["framesAfter"] > 0

    async with stack.client() as redis:
        for _ in range(100):  # each browser reports within half a second of its first frame
            attempt_id = await current_attempt(redis, consultation_id)
            attempt = attempt_id and await get_attempt(redis, attempt_id)
            if attempt and all(side and side.media_at for side in attempt.sides()):
                break
            await asyncio.sleep(0.1)
        assert attempt, "no call attempt was recorded"
        stored = await redis.hgetall(f"av:call_attempt:{attempt.id}")
    verdict = judge(attempt, now())
    assert verdict.outcome is Outcome.SUCCEEDED, attempt
    assert verdict.setup_ms is not None and verdict.setup_ms > 0
    for side in (attempt.gp, attempt.patient):
        assert side is not None
        assert side.local_candidate in CANDIDATE_TYPES
        assert side.remote_candidate in CANDIDATE_TYPES
        assert side.transport in {"udp", "tcp", "tls"}
        assert side.failure is None
    assert "Karen" not in str(stored)

    await end_consultation(gp)
    async with stack.client() as redis:
        for _ in range(50):  # the report goes first, then the end
            gp_report = json.loads(await redis.hget(f"av:call_attempt:{attempt.id}", "gp") or "{}")
            ended_at = await redis.hget(f"av:call_attempt:{attempt.id}", "ended_at")
            if gp_report.get("phase") == "final" and ended_at is not None:
                break
            await asyncio.sleep(0.1)
    assert gp_report.get("phase") == "final", gp_report
    assert gp_report["inbound_kbps"] > 0 and gp_report["rtt_ms"] is not None
    assert ended_at is not None, "the call was not ended after the last report"
    await gp_context.close()
    await patient_context.close()
