"""The patient's link page and the join call behind it."""

from __future__ import annotations

from server.auth.tokens import looks_like_token, token_hash
from server.consultations.links import issue_link
from server.pages.patient import TERMS_VERSION
from server.pages.render import format_time
from server.security import CSP
from server.store.connection import Redis
from server.store.consultations import Status, get_consultation, update_consultation
from server.store.participants import get_participant
from tests.integration.helpers import Client, book, origin
from tests.unit.factories import make_clinic, make_scheduled, with_link

UNKNOWN = "Zq3v8Yc1m0pWn4rTx7bLk2dHs9gFj6aE"


def error_code(body: str) -> str:
    marker = 'data-code="'
    start = body.index(marker) + len(marker)
    return body[start : body.index('"', start)]


async def test_valid_link_shows_the_clinic(client: Client, redis: Redis) -> None:
    b = await book(redis)
    response = await client.get(f"/j/{b.link}")
    assert response.status == 200
    assert response.content_type == "text/html"
    body = await response.text()
    assert b.clinic.name in body  # "Lægehuset Åbyhøj"
    assert f'data-join-url="/j/{b.link}/join"' in body
    assert TERMS_VERSION in body
    assert '<html lang="da">' in body


async def test_security_headers(client: Client, redis: Redis) -> None:
    b = await book(redis)
    for path in (f"/j/{b.link}", f"/j/{UNKNOWN}"):
        response = await client.get(path)
        assert response.headers["Content-Security-Policy"] == CSP
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        # The token is in the path: never send it to another site.
        assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin")
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_unknown_link_is_a_danish_404_page(client: Client, redis: Redis) -> None:
    response = await client.get(f"/j/{UNKNOWN}")
    assert response.status == 404
    assert response.content_type == "text/html"
    body = await response.text()
    assert '<html lang="da">' in body
    assert error_code(body) == "link_unknown"
    assert "Linket findes ikke" in body


async def test_unknown_link_in_english(client: Client, redis: Redis) -> None:
    response = await client.get(f"/j/{UNKNOWN}?lang=en")
    assert response.status == 404
    body = await response.text()
    assert '<html lang="en">' in body
    assert "This link does not exist" in body
    assert "Linket findes ikke" not in body


async def test_junk_token_is_a_404_page(client: Client, redis: Redis) -> None:
    response = await client.get("/j/abc")
    assert response.status == 404
    assert error_code(await response.text()) == "link_unknown"


async def test_revoked_link_is_410(client: Client, redis: Redis) -> None:
    b = await book(redis)
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None
    new_link, _ = await issue_link(redis, c)
    old = await client.get(f"/j/{b.link}")
    assert old.status == 410
    body = await old.text()
    assert error_code(body) == "link_revoked"
    assert "Linket er erstattet" in body
    assert (await client.get(f"/j/{new_link}")).status == 200


async def test_expired_link_is_410(client: Client, redis: Redis) -> None:
    clinic = await make_clinic(redis)
    link, _ = await with_link(redis, await make_scheduled(redis, clinic, minutes_from_now=-600))
    response = await client.get(f"/j/{link}")
    assert response.status == 410
    body = await response.text()
    assert error_code(body) == "link_expired"
    # Not a dead end: the clinic to call, by name and number, and a way on.
    assert 'data-testid="clinic-contact"' in body
    assert "Ring til Lægehuset Åbyhøj på" in body
    assert (
        '<a href="tel:+4586150000" data-testid="clinic-contact-phone">+45 86 15 00 00</a>' in body
    )
    assert '<a href="/" data-testid="error-home">Gå til forsiden</a>' in body


async def test_an_ended_consultation_names_the_clinic_to_call(client: Client, redis: Redis) -> None:
    b = await book(redis)
    await update_consultation(redis, b.consultation, status=Status.ENDED)
    body = await (await client.get(f"/j/{b.link}")).text()
    assert error_code(body) == "link_ended"
    assert f"Ring til {b.clinic.name} på" in body
    assert "tel:+4586150000" in body


async def test_an_unknown_link_has_no_clinic_but_a_way_on(client: Client, redis: Redis) -> None:
    body = await (await client.get(f"/j/{UNKNOWN}")).text()
    assert 'data-testid="clinic-contact"' not in body
    assert 'data-testid="error-home"' in body


async def test_cancelled_link_is_410(client: Client, redis: Redis) -> None:
    b = await book(redis)
    await update_consultation(redis, b.consultation, status=Status.CANCELLED)
    response = await client.get(f"/j/{b.link}?lang=en")
    assert response.status == 410
    body = await response.text()
    assert error_code(body) == "link_cancelled"
    assert "The consultation is cancelled" in body


async def test_not_yet_open_link_says_when(client: Client, redis: Redis) -> None:
    clinic = await make_clinic(redis)
    c = await make_scheduled(redis, clinic, minutes_from_now=3 * 24 * 60)
    link, _ = await with_link(redis, c)
    response = await client.get(f"/j/{link}")
    assert response.status == 403
    body = await response.text()
    assert error_code(body) == "link_not_yet"
    # When the link opens (24 hours before), then the appointment itself.
    opens, starts = (
        format_time(c.scheduled_start - 24 * 3600, "da"),
        format_time(c.scheduled_start, "da"),
    )
    assert f"Linket åbner {opens}. Din tid er {starts}" in body
    assert f"Ring til {clinic.name} på" in body


async def test_join_good(client: Client, redis: Redis) -> None:
    b = await book(redis)
    response = await client.post(
        f"/j/{b.link}/join",
        json={"name": "  Karen   Jensen ", "accepted_terms": TERMS_VERSION},
        headers={"Origin": origin(client)},
    )
    assert response.status == 200
    body = await response.json()
    assert looks_like_token(body["resume"])
    assert body["terms_version"] == TERMS_VERSION
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None
    assert c.patient_name == "Karen Jensen"
    p = await get_participant(redis, c.patient_participant)
    assert p is not None
    assert (p.role, p.display_name, p.terms_version) == ("patient", "Karen Jensen", TERMS_VERSION)
    assert p.resume_hash == token_hash(body["resume"])


async def test_joining_again_keeps_the_seat_and_replaces_the_resume(
    client: Client, redis: Redis
) -> None:
    b = await book(redis)
    body = {"name": "Karen", "accepted_terms": TERMS_VERSION}
    first = await (await client.post(f"/j/{b.link}/join", json=body)).json()
    before = await get_consultation(redis, b.consultation.id)
    second = await (await client.post(f"/j/{b.link}/join", json=body)).json()
    after = await get_consultation(redis, b.consultation.id)
    assert before is not None and after is not None
    assert after.patient_participant == before.patient_participant
    assert first["resume"] != second["resume"]
    p = await get_participant(redis, after.patient_participant)
    assert p is not None
    assert p.resume_hash == token_hash(second["resume"])


async def test_join_bad_json(client: Client, redis: Redis) -> None:
    b = await book(redis)
    for data in ("{not json", "[1, 2]"):
        response = await client.post(
            f"/j/{b.link}/join", data=data, headers={"Content-Type": "application/json"}
        )
        assert response.status == 400
        assert (await response.json())["code"] == "malformed"


async def test_join_without_terms(client: Client, redis: Redis) -> None:
    b = await book(redis)
    for body in ({"name": "Karen"}, {"name": "Karen", "accepted_terms": "2020-01-1"}):
        response = await client.post(f"/j/{b.link}/join", json=body)
        assert response.status == 400
        error = await response.json()
        assert error["code"] == "terms_not_accepted"
        assert error["terms_version"] == TERMS_VERSION
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None
    assert c.patient_participant == ""


async def test_join_with_a_cpr_number_as_name(client: Client, redis: Redis) -> None:
    b = await book(redis)
    response = await client.post(
        f"/j/{b.link}/join", json={"name": "010190-1234", "accepted_terms": TERMS_VERSION}
    )
    assert response.status == 400
    assert (await response.json())["code"] == "name_looks_like_cpr"
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None
    assert "1234" not in c.patient_name


async def test_join_cross_origin_is_refused(client: Client, redis: Redis) -> None:
    b = await book(redis)
    response = await client.post(
        f"/j/{b.link}/join",
        json={"name": "Karen", "accepted_terms": TERMS_VERSION},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status == 403
    assert (await response.json())["code"] == "bad_origin"
    c = await get_consultation(redis, b.consultation.id)
    assert c is not None
    assert c.patient_participant == ""


async def test_join_with_a_dead_link(client: Client, redis: Redis) -> None:
    b = await book(redis)
    await update_consultation(redis, b.consultation, status=Status.CANCELLED)
    body = {"name": "Karen", "accepted_terms": TERMS_VERSION}
    cancelled = await client.post(f"/j/{b.link}/join", json=body)
    assert cancelled.status == 410
    assert (await cancelled.json())["code"] == "link_cancelled"
    unknown = await client.post(f"/j/{UNKNOWN}/join", json=body)
    assert unknown.status == 404
    assert (await unknown.json())["code"] == "link_unknown"
