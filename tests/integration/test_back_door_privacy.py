"""Patients and the public never see a clinic's back-door number: not on any page, not from any
API, not on the patient's WebSocket, and not as bare digits either.

Every GET route the app has is requested, its path filled with every real value the test
holds (a patient link, a drop-in link, the clinic's ydernummer and ids), so a route added
later is covered without this test knowing about it.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import unquote

from aiohttp import ClientSession, web

from server.clock import now
from server.pages.patient import TERMS_VERSION
from server.settings import Settings
from server.store.absences import HOLIDAY, Substitute, add_absence
from server.store.clinics import create_clinic, issue_dropin_link
from server.store.connection import Redis
from server.store.organisations import create_organisation
from server.store.users import UserRole, create_user
from server.store.vendors import create_vendor
from server.waitingroom.hours import WEEKDAYS
from tests.integration.helpers import (
    GP_PASSWORD,
    Client,
    book,
    browser,
    drain,
    login,
    receive,
    send,
)

BACK_DOOR = "+45 7012 3489"
# The number as people might write it, and its digits once every separator is gone.
WRITTEN = ("+45 7012 3489", "+45 70 12 34 89", "70 12 34 89", "7012 3489", "4570123489")
DIGITS = "70123489"
_SEPARATORS = re.compile(r"[\s.\-()/+\\]|&nbsp;|&#160;")

ALL_DAY = {day: [("00:00", "24:00")] for day in WEEKDAYS}
NORD = Substitute("Lægerne i Nørregade", "+45 33 12 34 56")
DAY = 86400.0


def leaks(text: str) -> list[str]:
    """Where the back-door number shows in `text`, in any of its forms."""
    plain = unquote(text)
    found = [form for form in WRITTEN if form in plain]
    if DIGITS in _SEPARATORS.sub("", plain):
        found.append("digits")
    return found


def get_paths(app: web.Application, values: list[str], static_dir: Path) -> Iterator[str]:
    """Every GET path of the app, with each combination of `values` in its placeholders."""
    for route in app.router.routes():
        if route.method not in ("GET", "*"):
            continue
        info = route.resource.get_info() if route.resource else {}
        if "path" in info:
            yield info["path"]
        elif "formatter" in info:
            formatter = info["formatter"]
            names = [name for _, name, _, _ in string.Formatter().parse(formatter) if name]
            for combo in itertools.product(values, repeat=len(names)):
                yield formatter.format(**dict(zip(names, combo, strict=True)))
        elif "prefix" in info:
            for file in sorted(static_dir.rglob("*")):
                if file.is_file():
                    yield f"{info['prefix']}/{file.relative_to(static_dir).as_posix()}"
        else:
            raise AssertionError(f"a route this test cannot fill: {route}")


async def sweep(session: ClientSession, paths: list[str], who: str) -> dict[str, int]:
    """GET every path; fail on any trace of the number. Returns each path's status."""
    statuses = {}
    for path in paths:
        response = await session.get(path)
        body = (await response.read()).decode("utf-8", "replace")
        seen = leaks(body) + leaks(str(response.headers)) + leaks(str(response.url))
        assert not seen, f"{who} saw the back-door number ({seen}) at {path}"
        statuses[path] = response.status
    return statuses


@asynccontextmanager
async def patient_socket(client: Client, link: str, resume: str) -> AsyncIterator[list[str]]:
    """Everything the patient's WebSocket says after hello, as raw text."""
    async with client.ws_connect("/ws") as ws:
        await send(ws, "hello", link=link, resume=resume)
        first = await receive(ws)
        rest = await drain(ws)
        yield [str(first), *(str(m) for m in rest)]


async def test_patients_and_the_public_never_see_the_back_door_number(
    client: Client, redis: Redis, settings: Settings
) -> None:
    clinic = await create_clinic(
        redis, "Lægehuset Bagdør", "500001", "+45 86 15 00 00", ALL_DAY,
        back_door_phone=BACK_DOOR, address="Bagvej 1, 8000 Aarhus C", opening_hours=ALL_DAY,
    )  # fmt: skip
    b = await book(redis, clinic)
    dropin = await issue_dropin_link(redis, clinic.id)
    t = now()
    later = await add_absence(redis, clinic.id, HOLIDAY, t + 5 * DAY, t + 6 * DAY, NORD, at=t)
    org = await create_organisation(redis, "Aarhus Kommune", "751")
    nurse = await create_user(
        redis, "nurse", GP_PASSWORD, "Mette Berg", UserRole.STAFF, organisation_id=org.id
    )
    vendor = await create_vendor(redis, "Journal A/S", [clinic.id])
    values = [
        b.link, dropin, clinic.ydernummer, clinic.id, b.consultation.id, b.gp.id, later.id,
        org.id, nurse.id, vendor.id,
    ]  # fmt: skip
    paths = list(get_paths(client.app, values, settings.web_dir / "static"))
    assert {f"/j/{b.link}", f"/d/{dropin}", "/ws", "/directory/clinics/500001"} <= set(paths)

    async with browser(client) as patient, browser(client) as public, browser(client) as gp:
        # The patient joins by their link, and a drop-in visitor by the clinic's.
        joined = await patient.post(
            f"/j/{b.link}/join", json={"name": "Karen Jensen", "accepted_terms": TERMS_VERSION}
        )
        assert not leaks(await joined.text())
        resume = (await joined.json())["resume"]
        walk_in = await public.post(
            f"/d/{dropin}/join", json={"name": "Ole Hansen", "accepted_terms": TERMS_VERSION}
        )
        assert walk_in.status == 200 and not leaks(await walk_in.text())
        await login(gp, b.gp.username)
        gp_paths = [p for p in paths if not p.startswith("/clinic/settings")]

        # Once with the clinic open, once with it away (its pages then name the substitute).
        for moment in ("open", "absent"):
            if moment == "absent":
                await add_absence(redis, clinic.id, HOLIDAY, t - 60, t + DAY, NORD, at=t)
            public_seen = await sweep(public, paths, f"the public ({moment})")
            await sweep(patient, paths, f"the patient ({moment})")
            await sweep(gp, gp_paths, f"the GP, on the patients' pages ({moment})")
            async with patient_socket(client, b.link, resume) as messages:
                assert messages, "the patient's socket said nothing"
                for message in messages:
                    assert not leaks(message), f"the patient's socket said {message}"
            # The sweep really reached the patient's pages.
            assert public_seen[f"/j/{b.link}"] == 200
            assert public_seen[f"/d/{dropin}"] == 200

    # The same detector finds the number where professionals may see it.
    async with browser(client) as staff:
        await login(staff, nurse.username)
        directory = await staff.get(f"/directory/clinics/{clinic.ydernummer}")
        assert "+45 7012 3489" in leaks(await directory.text())
    async with browser(client) as own_gp:
        await login(own_gp, b.gp.username)
        assert leaks(await (await own_gp.get("/clinic/settings")).text())


async def test_the_detector_sees_the_number_however_it_is_written() -> None:
    for text in ("ring +45 70 12 34 89", "tel:+4570123489", "70-12-34-89", "%2B45%207012%203489"):
        assert leaks(text), text
    assert not leaks("+45 86 15 00 00, +45 33 12 34 56")
