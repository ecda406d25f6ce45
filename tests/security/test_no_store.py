"""Issue 15, sessions and authority: the note review page lacked `Cache-Control: no-store`.
Every answer with patient data must forbid caches to keep it; only static files may."""

from __future__ import annotations

from server.pages.patient import TERMS_VERSION
from server.store.connection import Redis
from server.store.notes import Section, save_draft
from tests.integration.helpers import Client, book, browser, login, origin
from tests.unit.factories import make_scheduled

SECTIONS = (Section("reason", "Kontaktårsag", "Hoste."), Section("plan", "Plan", "Røntgen."))


async def test_the_note_review_page_is_never_stored(client: Client, redis: Redis) -> None:
    booking = await book(redis)
    await save_draft(redis, booking.consultation, SECTIONS, engine="pocketsphinx")
    async with browser(client) as gp:
        await login(gp, booking.gp.username)
        page = await gp.get(f"/console/consultations/{booking.consultation.id}/note")
        assert page.status == 200
        assert "Røntgen" in await page.text()
        assert page.headers["Cache-Control"] == "no-store"
        posted = await gp.post(
            f"/console/consultations/{booking.consultation.id}/note",
            data={"action": "approve", "section:reason": "", "section:plan": ""},
            headers={"Origin": origin(client)},
            allow_redirects=False,
        )
        assert posted.status == 422  # an emptied note is shown again, with its text
        assert posted.headers["Cache-Control"] == "no-store"


async def test_every_page_with_patient_data_is_never_stored(client: Client, redis: Redis) -> None:
    booking = await book(redis)
    other = await make_scheduled(redis, booking.clinic, minutes_from_now=30)
    async with browser(client) as gp:
        await login(gp, booking.gp.username)
        answers = [
            await gp.get("/console"),
            await gp.get(f"/console?consultation={other.id}"),
            await gp.get(f"/j/{booking.link}"),
            await gp.get("/nowhere"),
            await gp.get("/login"),
        ]
    for response in answers:
        assert response.headers.get("Cache-Control") == "no-store", response.url
    joined = await client.post(
        f"/j/{booking.link}/join", json={"name": "Else Ny", "accepted_terms": TERMS_VERSION}
    )
    assert joined.status == 200  # it carries the patient's resume token
    assert joined.headers.get("Cache-Control") == "no-store"


async def test_static_files_may_still_be_cached(client: Client, redis: Redis) -> None:
    response = await client.get("/static/js/signalling.js")
    assert response.status == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
