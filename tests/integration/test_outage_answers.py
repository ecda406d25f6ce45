"""Redis out of reach is an outage, not a bug: 503 with Retry-After, a page in the person's
language that tries again by itself, a problem document for JSON, and no traceback."""

from __future__ import annotations

import logging

import pytest

from server.app import create_app
from server.settings import Settings
from tests.integration.helpers import Client
from tests.support.redisserver import free_port


@pytest.fixture
async def cut_off(aiohttp_client: object, settings: Settings) -> Client:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    return await aiohttp_client(create_app(settings.with_(redis_url=closed)))  # type: ignore[operator,no-any-return]


@pytest.mark.parametrize(
    ("lang", "words"), [("da", "kortvarigt utilgængelig"), ("en", "briefly unavailable")]
)
async def test_a_patient_s_link_explains_and_retries_by_itself(
    cut_off: Client, caplog: pytest.LogCaptureFixture, lang: str, words: str
) -> None:
    caplog.set_level(logging.WARNING)
    response = await cut_off.get(f"/j/{'x' * 43}?lang={lang}")
    assert response.status == 503
    assert response.headers["Retry-After"] == "10"
    page = await response.text()
    assert words in page
    assert '<meta http-equiv="refresh" content="10">' in page
    # The request's own record is one line, no traceback (background loops retry on their own).
    told = [r for r in caplog.records if r.name == "server.security"]
    assert [(r.levelno, r.exc_info) for r in told] == [(logging.WARNING, None)]


async def test_json_callers_get_a_problem_to_retry(cut_off: Client) -> None:
    response = await cut_off.get("/api/v1/consultations", headers={"Authorization": "Bearer x"})
    assert response.status == 503
    assert response.headers["Retry-After"] == "10"
    assert response.content_type == "application/problem+json"
    assert (await response.json())["code"] == "unavailable"
