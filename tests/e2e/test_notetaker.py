"""The AI note-taker end to end: real Chromium, real speech, the real pocketsphinx engine.

The patient's browser speaks English sentences made with espeak-ng (Chromium's fake
microphone plays the WAV); the GP offers the note-taker, the patient consents on their own
screen, the GP's page taps the call, and the transcript attributed to the patient holds the
words spoken. The GP approves the draft and the LPS simulator files it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.conftest import Lps
from tests.e2e.test_accessibility import PHONE, axe_violations
from tests.e2e.test_call import assert_media_flows
from tests.support.browser import (
    end_consultation,
    gp_login,
    is_topmost,
    launch,
    media_context,
    patient_join,
    remote_media,
)
from tests.support.stack import Stack

# Words pocketsphinx's small US-English model hears reliably from espeak-ng's voice.
SENTENCES = ("yes.", "good morning doctor.", "I have pain.")
HEARD = re.compile(r"\b(yes|good|morning|doctor|have|pain)\b")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Stack(Path(tmp_path_factory.mktemp("notetaker")), instances=1)
    deployment.start()
    yield deployment
    deployment.stop()


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sentences with a second of silence after each (so each is an utterance)."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is missing: run ./scripts/test, which installs it"
    directory = tmp_path_factory.mktemp("speech")
    frames, params = b"", None
    for n, sentence in enumerate(SENTENCES):
        part = directory / f"{n}.wav"
        subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(part), sentence], check=True)
        with wave.open(str(part)) as source:
            params = source.getparams()
            frames += source.readframes(source.getnframes())
            frames += bytes(params.framerate * params.sampwidth)  # one second of silence
    assert params is not None
    out = directory / "patient.wav"
    with wave.open(str(out), "wb") as target:
        target.setparams(params)
        target.writeframes(frames)
    return out


@pytest.fixture
async def speaking_browser(speech: Path) -> AsyncIterator[Browser]:
    """A second Chromium whose microphone says the sentences (one fake file per browser)."""
    async with async_playwright() as playwright:
        chromium = await launch(playwright, f"--use-file-for-fake-audio-capture={speech}")
        yield chromium
        await chromium.close()


async def _book(host: Page, lps: Lps, name: str) -> tuple[str, str]:
    await host.goto(f"{lps.url}/")
    await host.get_by_test_id("patient-name").fill(name)
    await host.get_by_test_id("book").click()
    await host.wait_for_url(re.compile(r"/consultations/\w+$"))
    return host.url.rsplit("/", 1)[1], await host.get_by_test_id("patient-link").input_value()


@pytest.mark.e2e
async def test_the_patient_consents_the_transcript_hears_them_and_the_lps_files_the_note(
    browser: Browser, speaking_browser: Browser, stack: Stack, demo: dict[str, Any], lps: Lps
) -> None:
    base = stack.urls[0]
    gp_context = await media_context(browser, base)
    host = await gp_context.new_page()
    consultation_id, patient_url = await _book(host, lps, "Karen Jensen")

    gp = await gp_context.new_page()
    await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])
    # A phone-sized patient screen; bypass_csp only lets the test inject axe-core.
    patient_context = await speaking_browser.new_context(viewport=PHONE, bypass_csp=True)
    await patient_context.grant_permissions(["camera", "microphone"], origin=base)
    patient = await patient_context.new_page()
    await patient_join(patient, patient_url, "Karen Jensen")
    entry = gp.locator(".queue-entry", has_text="Karen Jensen")
    await entry.get_by_test_id("admit").click()
    assert_media_flows(await remote_media(gp))

    # The GP offers; the patient reads the versioned text on their own screen and consents.
    await gp.get_by_test_id("notetaker-offer").click()
    consent = patient.get_by_test_id("notetaker-consent")
    await expect(consent).to_be_visible()
    await expect(patient.get_by_test_id("notetaker-consent-text")).to_contain_text("frivilligt")
    # The question is the first thing on the patient's screen: a modal over the call.
    assert await is_topmost(patient, "notetaker-accept")
    assert not await is_topmost(patient, "hangup")
    assert await axe_violations(patient) == []
    await patient.get_by_test_id("notetaker-accept").click()
    await expect(consent).to_be_hidden()

    # Both screens say it is listening, and the GP's page names the demonstration engine.
    for page in (gp, patient):
        await expect(page.get_by_test_id("notetaker")).to_have_attribute("data-state", "listening")
        await expect(page.get_by_test_id("notetaker-stop")).to_be_visible()
    # In Danish, from the engine's facts (no English label in the Danish UI).
    demo_engine = "Kun en demonstration, ikke til klinisk brug. Forstår engelsk."
    await expect(gp.get_by_test_id("notetaker-engine")).to_have_text(demo_engine)
    await expect(gp.get_by_test_id("notetaker-engine-facts")).to_have_text(demo_engine)

    said = gp.locator(
        '[data-testid="notetaker-transcript"] li[data-speaker="patient"][data-segment]'
    )
    await expect(said.filter(has_text=HEARD).first).to_be_visible(timeout=45_000)
    assert_media_flows(await remote_media(patient))  # the call carries on while tapped

    await end_consultation(gp)
    await expect(patient.get_by_test_id("notetaker")).to_be_hidden()
    await gp.get_by_test_id("open-draft").click(timeout=30_000)
    await expect(gp.get_by_test_id("ai-tag")).to_be_visible()
    draft = await gp.get_by_test_id("section-transcript.patient").input_value()
    assert HEARD.search(draft), draft
    await gp.get_by_test_id("section-assessment").fill("Mild pain, no red flags.")
    await gp.get_by_test_id("approve").click()
    await expect(gp.get_by_test_id("note-done")).to_be_visible()

    # The LPS heard `note.approved`, fetched the note, filed and acknowledged it.
    await host.goto(f"{lps.url}/consultations/{consultation_id}")
    filed = host.get_by_test_id("note-text")
    for _ in range(40):
        if await filed.count():
            break
        await host.wait_for_timeout(500)
        await host.reload()
    await expect(filed).to_contain_text("Mild pain, no red flags.")
    filed_text = await filed.inner_text()
    assert HEARD.search(filed_text)
    # The record is Danish: the sections are filed under Danish titles.
    assert "Vurdering" in filed_text and "Udskrift: patienten" in filed_text, filed_text
    assert "Reason for contact" not in filed_text and "Transcript" not in filed_text
    await expect(host.get_by_test_id("note-state")).to_contain_text("kvitteret")
    await gp_context.close()
    await patient_context.close()


@pytest.mark.e2e
async def test_a_hold_stops_the_listening_bar_and_the_ended_screen_offers_nothing_old(
    browser: Browser, stack: Stack, demo: dict[str, Any]
) -> None:
    base = stack.urls[0]
    gp_context = await media_context(browser, base)
    gp = await gp_context.new_page()
    await gp_login(gp, base, demo["gp"]["username"], demo["gp"]["password"])
    patient_context = await media_context(browser, base)
    patient = await patient_context.new_page()
    await patient_join(patient, await stack.new_patient_url(base, demo["clinic_id"]), "Holger Hold")
    entry = gp.locator(".queue-entry", has_text="Holger Hold")
    await entry.get_by_test_id("admit").click()
    await gp.get_by_test_id("notetaker-offer").click()
    await patient.get_by_test_id("notetaker-accept").click()
    for page in (gp, patient):
        await expect(page.get_by_test_id("notetaker")).to_have_attribute("data-state", "listening")

    # On hold nothing is in a call, so no screen says the note-taker listens.
    await gp.get_by_test_id("hold").click()
    await expect(patient.get_by_test_id("held-note")).to_be_visible()
    for page in (gp, patient):
        await expect(page.get_by_test_id("notetaker")).to_be_hidden()
    await expect(entry.get_by_test_id("admit")).to_be_enabled()
    await expect(entry).not_to_contain_text("Forbindelsen er tabt")

    # Let in again, it listens again; at the end only the draft shows, nothing to offer.
    await entry.get_by_test_id("admit").click()
    for page in (gp, patient):
        await expect(page.get_by_test_id("notetaker")).to_have_attribute("data-state", "listening")
    await end_consultation(gp)
    await expect(gp.get_by_test_id("billing-code")).to_be_visible()
    await expect(gp.get_by_test_id("notetaker-offer")).to_be_hidden()
    await expect(gp.get_by_test_id("notetaker")).to_have_attribute(
        "data-state", re.compile("drafting|drafted|failed")
    )
    await expect(patient.get_by_test_id("notetaker")).to_be_hidden()
    await gp_context.close()
    await patient_context.close()
