"""Cross-sector calls over real sockets: a GP invites a municipality's professional, who
logs in, waits in the lobby, is let in before or after the patient, and can be removed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse

from server.consultations import call
from server.store.consultations import Status, get_consultation
from server.store.events import read_events
from server.store.organisations import Organisation, create_organisation
from server.store.users import User, create_user
from server.store.vendors import create_vendor, issue_api_key
from tests.integration.helpers import (
    GP_PASSWORD,
    Booking,
    Client,
    book,
    browser,
    login,
    media_flowed,
    receive,
    receive_error,
    receive_type,
    send,
)
from tests.integration.test_signalling import waiting_patient
from tests.integration.test_waitingroom_actions import console, first_place, joined_the_queue

NURSE = "Sara Sygeplejerske"
NURSE_TITLE = "Hjemmesygeplejerske"


@dataclass(frozen=True)
class Municipality:
    org: Organisation
    nurse: User
    colleague: User


async def municipality(redis: Any, name: str, code: str) -> Municipality:
    org = await create_organisation(redis, name, code)
    nurse = await create_user(
        redis, f"nurse-{code}", GP_PASSWORD, NURSE, "staff", organisation_id=org.id,
        title=NURSE_TITLE,
    )  # fmt: skip
    colleague = await create_user(
        redis, f"colleague-{code}", GP_PASSWORD, "Karl Kollega", "staff",
        organisation_id=org.id, title="Visitator",
    )  # fmt: skip
    return Municipality(org, nurse, colleague)


@asynccontextmanager
async def logged_in(client: Client, username: str) -> AsyncIterator[ClientSession]:
    async with browser(client) as session:
        await login(session, username)
        yield session


async def invite(
    session: ClientSession, b: Booking, org: Organisation, invitee: User | None = None
) -> tuple[int, dict[str, Any]]:
    response = await session.post(
        f"/console/consultations/{b.consultation.id}/invitations",
        json={"organisation_id": org.id, "invitee_user_id": invitee.id if invitee else ""},
    )
    return response.status, await response.json()


def token_of(url: str) -> str:
    return url.rsplit("/i/", 1)[1]


@asynccontextmanager
async def gp_and_invitation(
    client: Client, b: Booking, org: Organisation, invitee: User | None = None
) -> AsyncIterator[tuple[ClientWebSocketResponse, str]]:
    """The GP's console socket, and the token of an invitation the GP just made."""
    async with logged_in(client, b.gp.username) as gp_session:
        status, body = await invite(gp_session, b, org, invitee)
        assert status == 201, body
        async with gp_session.ws_connect("/ws") as ws:
            await send(ws, "hello")
            await receive_type(ws, "clinic.state")
            yield ws, token_of(body["url"])


@asynccontextmanager
async def professional(
    client: Client, username: str, token: str
) -> AsyncIterator[tuple[ClientSession, ClientWebSocketResponse, dict[str, Any]]]:
    async with logged_in(client, username) as session, session.ws_connect("/ws") as ws:
        await send(ws, "hello", invitation=token)
        welcome = await receive(ws)
        yield session, ws, welcome


async def let_in(
    gp: ClientWebSocketResponse, b: Booking, lobby_entry: dict[str, Any]
) -> dict[str, Any]:
    """The GP admits the professional of this `lobby.entry`; returns the entry."""
    entry: dict[str, Any] = lobby_entry["entry"]
    await send(
        gp, "admit", consultation_id=b.consultation.id, participant_id=entry["participant_id"]
    )
    return entry


async def test_the_gp_sees_the_professional_waiting_with_name_title_and_organisation(
    client: Client, redis: Any
) -> None:
    b = await book(redis)
    kbh = await municipality(redis, "Københavns Kommune", "101")
    async with gp_and_invitation(client, b, kbh.org, kbh.nurse) as (gp, token):
        async with professional(client, kbh.nurse.username, token) as (_, _nurse, welcome):
            assert (welcome["type"], welcome["role"], welcome["state"]) == (
                "welcome", "staff", "waiting",
            )  # fmt: skip
            entry = (await receive_type(gp, "lobby.entry"))["entry"]
            assert entry["display_name"] == NURSE
            assert entry["title"] == NURSE_TITLE
            assert entry["organisation"] == "Københavns Kommune"
            assert entry["consultation_id"] == b.consultation.id
        removed = await receive_type(gp, "lobby.removed")  # the nurse closed the page
        assert removed["reason"] == "disconnected"


async def test_gp_talks_with_the_nurse_first_then_lets_the_patient_in_and_it_is_0126(
    client: Client, redis: Any
) -> None:
    b = await book(redis)
    kbh = await municipality(redis, "Københavns Kommune", "101")
    async with (
        gp_and_invitation(client, b, kbh.org) as (gp, token),
        professional(client, kbh.nurse.username, token) as (_, nurse, _welcome),
    ):
        await let_in(gp, b, await receive_type(gp, "lobby.entry"))
        gp_joined = await receive_type(gp, "call.joined")
        assert gp_joined["peers"] == []
        nurse_joined = await receive_type(nurse, "call.joined")
        assert [p["participant_id"] for p in nurse_joined["peers"]] == [gp_joined["participant_id"]]
        peer = (await receive_type(gp, "peer.joined"))["peer"]
        assert (peer["role"], peer["display_name"], peer["title"], peer["organisation"]) == (
            "staff", NURSE, NURSE_TITLE, "Københavns Kommune",
        )  # fmt: skip
        stored = await get_consultation(redis, b.consultation.id)
        assert stored is not None and stored.status != Status.IN_CALL  # the patient is not in it

        # The patient arrives; the GP lets them into the running call.
        async with waiting_patient(client, b) as p:
            await first_place(p.ws)
            await send(gp, "admit", consultation_id=b.consultation.id)
            patient_joined = await receive_type(p.ws, "call.joined")
            roles = sorted(peer["role"] for peer in patient_joined["peers"])
            assert roles == ["gp", "staff"]
            staff_peer = next(x for x in patient_joined["peers"] if x["role"] == "staff")
            assert staff_peer["title"] == NURSE_TITLE
            for ws in (gp, nurse):
                joined = await receive_type(ws, "peer.joined")
                assert joined["peer"]["participant_id"] == p.participant_id
            assert len(await call.members(redis, b.consultation.id)) == 3

            # Signals travel between the professional and the patient, both ways.
            await send(
                nurse, "signal", to=p.participant_id,
                description={"type": "offer", "sdp": "v=0 nurse"},
            )  # fmt: skip
            relayed = await receive_type(p.ws, "signal")
            assert relayed["from"] == nurse_joined["participant_id"]

            await media_flowed(gp, p.participant_id)
            await send(gp, "end", consultation_id=b.consultation.id)
            for ws in (gp, nurse, p.ws):
                assert (await receive_type(ws, "call.ended"))["billing_code"] == "0126"
    ended = [d for _, kind, d in await read_events(redis) if kind == "call.ended"]
    assert ended[-1]["parties"] == 3


async def test_a_professional_of_another_municipality_cannot_use_the_invitation(
    client: Client, redis: Any
) -> None:
    b = await book(redis)
    kbh = await municipality(redis, "Københavns Kommune", "101")
    aarhus = await municipality(redis, "Aarhus Kommune", "751")
    async with (
        gp_and_invitation(client, b, kbh.org) as (_gp, token),
        professional(client, aarhus.nurse.username, token) as (session, _ws, error),
    ):
        assert (error["type"], error["code"]) == ("error", "invitation_wrong_organisation")
        page = await session.get(f"/i/{token}", allow_redirects=False)
        assert page.status == 403
        assert "Københavns Kommune" in await page.text()
    # A named invitation is for that person only, not a colleague.
    async with gp_and_invitation(client, b, kbh.org, kbh.nurse) as (_gp, token):
        async with professional(client, kbh.colleague.username, token) as (session, _, error):
            assert error["code"] == "invitation_wrong_person"
            assert (await session.get(f"/i/{token}")).status == 403
        async with professional(client, kbh.nurse.username, token) as (session, _, welcome):
            assert welcome["type"] == "welcome"
            page = await session.get(f"/i/{token}")
            assert page.status == 200
            assert 'data-testid="join"' in await page.text()


async def test_nobody_logged_in_is_sent_to_log_in_and_patients_and_gps_are_refused(
    client: Client, redis: Any
) -> None:
    b = await book(redis)
    kbh = await municipality(redis, "Københavns Kommune", "101")
    async with gp_and_invitation(client, b, kbh.org) as (gp, token):
        async with browser(client) as anonymous:
            page = await anonymous.get(f"/i/{token}", allow_redirects=False)
            assert page.status == 303
            assert page.headers["Location"] == f"/login?next=/i/{token}"
            async with anonymous.ws_connect("/ws") as ws:
                await send(ws, "hello", invitation=token)
                await receive_error(ws, "invitation_login")
        await send(gp, "hello", invitation=token)  # the GP's own socket already said hello
        await receive_error(gp, "already_hello")
        async with logged_in(client, b.gp.username) as gp_session:
            assert (await gp_session.get(f"/i/{token}")).status == 403  # not a professional
        async with browser(client) as anonymous:
            unknown = await anonymous.get("/i/" + "x" * 43)
            assert unknown.status == 404
            assert "Invitationen findes ikke" in await unknown.text()


async def test_removing_the_professional_keeps_the_call_and_kills_their_link(
    client: Client, redis: Any
) -> None:
    b = await book(redis)
    kbh = await municipality(redis, "Københavns Kommune", "101")
    async with (
        gp_and_invitation(client, b, kbh.org) as (gp, token),
        professional(client, kbh.nurse.username, token) as (session, nurse, _),
    ):
        entry = await let_in(gp, b, await receive_type(gp, "lobby.entry"))
        await receive_type(nurse, "call.joined")
        async with waiting_patient(client, b) as p:
            await first_place(p.ws)
            await send(gp, "admit", consultation_id=b.consultation.id)
            await receive_type(p.ws, "call.joined")
            await send(
                gp, "remove.participant", consultation_id=b.consultation.id,
                participant_id=entry["participant_id"],
            )  # fmt: skip
            assert (await receive_type(nurse, "removed"))["type"] == "removed"
            for ws in (gp, p.ws):
                left = await receive_type(ws, "peer.left")
                assert (left["participant_id"], left["reason"]) == (
                    entry["participant_id"], "removed",
                )  # fmt: skip
            stored = await get_consultation(redis, b.consultation.id)
            assert stored is not None and stored.status == Status.IN_CALL  # the call goes on
            assert len(await call.members(redis, b.consultation.id)) == 2
            page = await session.get(f"/i/{token}")
            assert page.status == 410
            async with session.ws_connect("/ws") as again:
                await send(again, "hello", invitation=token)
                await receive_error(again, "invitation_revoked")


async def test_hold_with_a_professional_keeps_the_gp_in_the_call(
    client: Client, redis: Any
) -> None:
    b = await book(redis)
    kbh = await municipality(redis, "Københavns Kommune", "101")
    async with (
        gp_and_invitation(client, b, kbh.org) as (gp, token),
        professional(client, kbh.nurse.username, token) as (_, nurse, _welcome),
        waiting_patient(client, b) as p,
    ):
        await first_place(p.ws)
        waiting = await receive_type(gp, "lobby.entry")
        await send(gp, "admit", consultation_id=b.consultation.id)  # the patient first
        await receive_type(p.ws, "call.joined")
        await let_in(gp, b, waiting)
        await receive_type(nurse, "call.joined")
        await send(gp, "hold", consultation_id=b.consultation.id)
        assert (await receive_type(p.ws, "held"))["type"] == "held"
        for ws in (gp, nurse):
            left = await receive_type(ws, "peer.left")
            assert (left["participant_id"], left["reason"]) == (p.participant_id, "held")
        members = await call.members(redis, b.consultation.id)
        assert p.participant_id not in members and len(members) == 2
        stored = await get_consultation(redis, b.consultation.id)
        assert stored is not None and stored.status == Status.WAITING


async def test_ending_tells_a_professional_still_in_the_lobby_and_a_waiting_patient(
    client: Client, redis: Any
) -> None:
    b = await book(redis)
    kbh = await municipality(redis, "Københavns Kommune", "101")
    async with console(client, b.gp) as gp, waiting_patient(client, b) as p:
        await joined_the_queue(gp, b.consultation.id)
        async with logged_in(client, b.gp.username) as gp_session:
            _, first = await invite(gp_session, b, kbh.org)
            _, second = await invite(gp_session, b, kbh.org, kbh.colleague)
        async with (
            professional(client, kbh.nurse.username, token_of(first["url"])) as (_, nurse, _w),
            professional(client, kbh.colleague.username, token_of(second["url"])) as (
                _,
                colleague,
                _w2,
            ),
        ):
            waiting = await receive_type(gp.ws, "lobby.entry")
            await receive_type(gp.ws, "lobby.entry")
            await let_in(gp.ws, b, waiting)
            await receive_type(gp.ws, "call.joined")
            await send(gp.ws, "end", consultation_id=b.consultation.id)
            seen: dict[str, dict[str, Any]] = {}
            while len(seen) < 2:  # two channels, so in either order
                message = await receive(gp.ws)
                if message["type"] in ("call.ended", "queue.removed"):
                    seen[message["type"]] = message
            assert seen["call.ended"]["billing_code"] == ""  # the patient never joined
            assert seen["queue.removed"]["reason"] == "ended"
            for ws in (p.ws, nurse, colleague):
                assert (await receive_type(ws, "call.ended"))["billing_code"] == ""
    stored = await get_consultation(redis, b.consultation.id)
    assert stored is not None and stored.status == Status.ENDED


async def test_invitations_are_checked(client: Client, redis: Any) -> None:
    b = await book(redis)
    kbh = await municipality(redis, "Københavns Kommune", "101")
    aarhus = await municipality(redis, "Aarhus Kommune", "751")
    other = await book(redis)  # another clinic's consultation
    async with logged_in(client, b.gp.username) as gp_session:
        status, body = await invite(gp_session, b, kbh.org, aarhus.nurse)
        assert (status, body["code"]) == (422, "unknown_invitee")
        response = await gp_session.post(
            f"/console/consultations/{b.consultation.id}/invitations",
            json={"organisation_id": "nope"},
        )
        assert (response.status, (await response.json())["code"]) == (422, "unknown_organisation")
        response = await gp_session.post(
            f"/console/consultations/{other.consultation.id}/invitations",
            json={"organisation_id": kbh.org.id},
        )
        assert (response.status, (await response.json())["code"]) == (404, "unknown_consultation")
        response = await gp_session.post(
            f"/console/consultations/{b.consultation.id}/invitations", data="not json"
        )
        assert (response.status, (await response.json())["code"]) == (400, "malformed")
    async with logged_in(client, kbh.nurse.username) as nurse_session:
        status, _ = await invite(nurse_session, b, kbh.org)
        assert status == 403  # only the clinic's GPs invite


async def test_the_lps_invites_through_the_api(client: Client, redis: Any) -> None:
    b = await book(redis)
    other = await book(redis)
    kbh = await municipality(redis, "Københavns Kommune", "101")
    vendor = await create_vendor(redis, "Test-LPS", [b.clinic.id])
    key = await issue_api_key(redis, vendor.id)
    path = f"/api/v1/consultations/{b.consultation.id}/participants"
    auth = {"Authorization": f"Bearer {key}"}

    response = await client.post(
        path, json={"organisation": "101", "invitee": kbh.nurse.username}, headers=auth
    )
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["organisation"] == {"code": "101", "name": "Københavns Kommune"}
    assert (body["invitee"], body["status"], body["consultation_id"]) == (
        kbh.nurse.username, "active", b.consultation.id,
    )  # fmt: skip
    async with professional(client, kbh.nurse.username, token_of(body["url"])) as (_, _ws, welcome):
        assert (welcome["type"], welcome["role"]) == ("welcome", "staff")

    async def problem_code(response: Any) -> tuple[int, str]:
        assert response.content_type == "application/problem+json"
        return response.status, (await response.json())["code"]

    cases = [
        (path, {"organisation": "101"}, {}, (401, "missing_api_key")),
        (path, {"organisation": "101"}, {"Authorization": "Bearer x"}, (401, "invalid_api_key")),
        (path, {"organisation": "1O1"}, auth, (422, "invalid_body")),
        (path, {"organisation": "101", "extra": 1}, auth, (422, "invalid_body")),
        (path, {"organisation": "999"}, auth, (422, "unknown_organisation")),
        (path, {"organisation": "101", "invitee": "nobody"}, auth, (422, "unknown_invitee")),
        (
            f"/api/v1/consultations/{other.consultation.id}/participants",
            {"organisation": "101"}, auth, (404, "unknown_consultation"),
        ),
    ]  # fmt: skip
    for url, payload, headers, expected in cases:
        response = await client.post(url, json=payload, headers=headers)
        assert await problem_code(response) == expected, (payload, headers)
    kinds = [kind for _, kind, _ in await read_events(redis)]
    assert kinds.count("participant.invited") == 1
