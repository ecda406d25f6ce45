"""Issue 15, sessions and authority: an embed session (GET /embed/{token}) was a full 12-hour
GP session for any GP the vendor named. It must open the embedded view of its one
consultation and what that view needs, for the length of the call, and nothing else."""

from __future__ import annotations

from aiohttp import ClientSession

from server.auth.tokens import token_hash
from server.auth.web import EMBED_COOKIE
from server.clock import now
from server.store import keys
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation, update_consultation
from server.store.embeds import AFTER_CALL_SECONDS, EMBED_SESSION_SECONDS
from tests.integration.helpers import Client, browser, gp_hello, receive_error, send
from tests.integration.test_embed import Embedder, embed_path, embedder
from tests.security.helpers import SESSION_ENDED, until_closed
from tests.unit.factories import make_scheduled, waiting_patient


async def embedded(client: Client, e: Embedder, session: ClientSession) -> str:
    """Open the embed URL in `session` as the LPS's frame does; returns the session token."""
    opened = await session.get(await embed_path(client, e), allow_redirects=False)
    assert opened.status == 303
    assert (await session.get(opened.headers["Location"], allow_redirects=False)).status == 200
    return session.cookie_jar.filter_cookies(client.make_url("/"))[EMBED_COOKIE].value


async def test_an_embed_session_opens_nothing_but_its_own_consultation(
    client: Client, redis: Redis
) -> None:
    e = await embedder(redis)
    other = await make_scheduled(redis, e.clinic, minutes_from_now=30, practitioner_id=e.gp.id)
    async with browser(client) as frame:
        await embedded(client, e, frame)
        own = await frame.get(f"/console?consultation={e.consultation.id}", allow_redirects=False)
        assert own.status == 200
        assert 'class="console embedded' in await own.text()  # the embedded view, always
        for path in (
            "/console",  # the clinic's list
            f"/console?consultation={other.id}",
            f"/console/consultations/{other.id}/note",
            "/clinic/settings",
            "/statement",
            "/pilot/notetaker",
        ):
            response = await frame.get(path, allow_redirects=False)
            assert response.status == 403, path
        invite = await frame.post(
            f"/console/consultations/{other.id}/invitations", json={"organisation_id": "x"}
        )
        assert invite.status == 403
        api = await frame.get(f"/api/v1/consultations/{e.consultation.id}")
        assert api.status == 401


async def test_an_embed_sessions_socket_sees_and_acts_on_its_consultation_only(
    client: Client, redis: Redis
) -> None:
    e = await embedder(redis)
    other = await make_scheduled(redis, e.clinic, minutes_from_now=-1, practitioner_id=e.gp.id)
    await waiting_patient(redis, other, "Anna Anden")
    await waiting_patient(redis, e.consultation, "Bent Egen")
    async with browser(client) as frame:
        await embedded(client, e, frame)
        async with frame.ws_connect("/ws") as ws:
            state = await gp_hello(ws)
            assert [w["consultation_id"] for w in state["waiting"]] == [e.consultation.id]
            assert "Anna Anden" not in str(state)
            await send(ws, "admit", consultation_id=other.id, ref="r1")
            await receive_error(ws, "forbidden", "r1")
    fresh = await get_consultation(redis, other.id)
    assert fresh is not None and fresh.status == Status.WAITING


async def test_an_embed_session_lasts_for_the_call_not_twelve_hours(
    client: Client, redis: Redis
) -> None:
    e = await embedder(redis)
    async with browser(client) as frame:
        token = await embedded(client, e, frame)
        assert 0 < await redis.ttl(keys.session(token_hash(token))) <= EMBED_SESSION_SECONDS
        view = f"/console?consultation={e.consultation.id}&embed=1"
        await update_consultation(redis, e.consultation, status=Status.ENDED, ended_at=now() - 60)
        assert (await frame.get(view, allow_redirects=False)).status == 200  # the note, still
        await update_consultation(redis, e.consultation, ended_at=now() - AFTER_CALL_SECONDS - 1)
        gone = await frame.get(view, allow_redirects=False)
        assert gone.status == 303 and gone.headers["Location"].startswith("/login")
    assert await redis.get(keys.session(token_hash(token))) is None


async def test_an_embed_sessions_socket_ends_with_the_call(client: Client, redis: Redis) -> None:
    e = await embedder(redis)
    async with browser(client) as frame:
        await embedded(client, e, frame)
        async with frame.ws_connect("/ws") as ws:
            await gp_hello(ws)
            await update_consultation(
                redis, e.consultation, status=Status.ENDED, ended_at=now() - AFTER_CALL_SECONDS - 1
            )
            await send(ws, "rejoin", consultation_id=e.consultation.id)
            assert (await until_closed(ws)).code == SESSION_ENDED
