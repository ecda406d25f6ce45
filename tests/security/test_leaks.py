"""Secrets do not leak: no token in any log line, no redirect or link off the site."""

from __future__ import annotations

import logging

import pytest

from server.auth.tokens import new_token
from server.logredaction import redact
from server.pages import patient
from server.store.connection import Redis
from tests.integration.helpers import Client, book

# ---- tokens in logs ------------------------------------------------------------------------


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the records say, as any handler would print it (tracebacks included)."""
    return caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)


async def test_a_500_on_a_join_link_logs_no_token(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever fails behind a patient's link, the error log and the access log show the
    link masked: the path, the exception's own message and the query."""
    caplog.set_level(logging.INFO)
    b = await book(redis)
    resume = new_token()

    async def broken(_: Redis, token: str) -> None:
        raise RuntimeError(f"could not resolve /j/{token}")

    monkeypatch.setattr(patient, "resolve_link", broken)
    response = await client.get(f"/j/{b.link}?resume={resume}")
    assert response.status == 500
    logged = _logged(caplog)
    assert "unhandled error" in logged and "RuntimeError" in logged  # it was logged ...
    assert b.link not in logged  # ... without the token
    assert resume not in logged
    assert "/j/…" in logged
    assert any(r.name == "aiohttp.access" for r in caplog.records)


async def test_no_token_in_the_access_log_of_any_token_route(
    client: Client, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    token = new_token()
    for path in (f"/j/{token}", f"/d/{token}/join", f"/i/{token}", f"/embed/{token}"):
        await client.get(path, allow_redirects=False)
    await client.get(f"/login?next=%2Fj%2F{token}")
    assert any(r.name == "aiohttp.access" for r in caplog.records)
    assert token not in _logged(caplog)


@pytest.mark.parametrize(
    "line",
    [
        "GET /j/{t}/join 500",
        "http://127.0.0.1:8080/j/{t} failed",
        "/d/{t}",
        "'/i/{t}/'",
        "/embed/{t}?x=1",
        "/login?next=%2Fj%2F{t}%2Fjoin",
        "/x?resume={t}&lang=en",
        '{{"v": 1, "type": "hello", "link": "{t}", "resume": "{t}"}}',
    ],
)
def test_redact_masks_tokens_wherever_they_stand(line: str) -> None:
    token = new_token()
    masked = redact(line.format(t=token))
    assert token not in masked
    assert "…" in masked


def test_redact_keeps_ordinary_lines() -> None:
    for line in ("GET /console 200", "/api/v1/consultations/abc 404", "joined at 10:00"):
        assert redact(line) == line
