"""Secrets do not leak: no token in any log line, no redirect or link off the site."""

from __future__ import annotations

import asyncio
import html
import logging
import re

import pytest
from yarl import URL

from server.auth.tokens import new_token
from server.logredaction import redact
from server.pages import patient
from server.store.connection import Redis
from tests.integration.helpers import GP_PASSWORD, Client, book

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


# ---- redirects and links -------------------------------------------------------------------

SITE = URL("https://almenvideo.example/login")
OFF_SITE_TARGETS = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example/x",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    " //evil.example",
    "https://evil.example/",
    "/\t\\evil.example",
    "/\u3000/evil.example",
]


def _stays_here(location: str) -> bool:
    """Whether a browser following `location` stays on this site. Browsers (the WHATWG URL
    parser) drop tabs and newlines, trim spaces and controls, read `\\` as `/`, and take
    any run of two or more leading slashes as the start of a host (`////evil/x` too)."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("\x00- ").replace("\\", "/")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", cleaned):
        return URL(cleaned).host == SITE.host
    if cleaned.startswith("//"):
        return re.split(r"[/?#]", cleaned.lstrip("/"))[0] in ("", SITE.host)
    return True


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
async def test_next_after_login_never_leaves_the_site(
    client: Client, redis: Redis, target: str
) -> None:
    b = await book(redis)
    page = await client.get("/login", params={"next": target})
    [kept] = re.findall(r'name="next" value="([^"]*)"', await page.text())
    assert kept == ""
    response = await client.post(
        "/login",
        data={"username": b.gp.username, "password": GP_PASSWORD, "next": target},
        allow_redirects=False,
    )
    assert response.status == 303
    location = response.headers["Location"]
    assert _stays_here(location) and "evil" not in location, location


async def test_next_after_login_keeps_a_local_page(client: Client, redis: Redis) -> None:
    b = await book(redis)
    response = await client.post(
        "/login",
        data={"username": b.gp.username, "password": GP_PASSWORD, "next": "/clinic/settings"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/clinic/settings"


async def _raw_get(client: Client, raw_path: str) -> tuple[int, str]:
    """GET a path exactly as written (a client library would read `//host` as a host)."""
    url = client.make_url("/")
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        f"GET {raw_path} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    answer = (await reader.read()).decode("utf-8", "replace")
    writer.close()
    head, _, body = answer.partition("\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize(
    "path", ["//evil.example/x", "//evil.example", "///evil.example/x", "/%2F/evil.example"]
)
async def test_the_language_link_of_a_404_stays_on_the_site(client: Client, path: str) -> None:
    status, body = await _raw_get(client, path)
    assert status == 404
    [href] = re.findall(r'class="lang-switch" href="([^"]*)"', body)
    assert _stays_here(html.unescape(href)), href


async def test_the_login_redirect_keeps_the_page_asked_for(client: Client) -> None:
    response = await client.get("/clinic/settings", allow_redirects=False)
    assert response.headers["Location"] == "/login?next=/clinic/settings"
