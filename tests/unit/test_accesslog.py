from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from server.accesslog import RedactingAccessLogger, redact_path

SECRET = "Zq3v8Yc1m0pWn4rTx7bLk2dHs9gFj6aE"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/j/{SECRET}", "/j/…"),
        (f"/j/{SECRET}/join", "/j/…/join"),
        (f"/d/{SECRET}", "/d/…"),
        (f"/d/{SECRET}/join", "/d/…/join"),
        (f"/embed/{SECRET}", "/embed/…"),
        ("/console", "/console"),
        ("/healthz", "/healthz"),
        (f"/jx/{SECRET}", f"/jx/{SECRET}"),
        (f"/static/j/{SECRET}", f"/static/j/{SECRET}"),
    ],
)
def test_redact_path(path: str, expected: str) -> None:
    assert redact_path(path) == expected


def test_access_log_line_has_no_token(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access")
    access = RedactingAccessLogger(logger, "")
    request = make_mocked_request("GET", f"/j/{SECRET}/join?lang=en")
    with caplog.at_level(logging.INFO, logger="test.access"):
        access.log(request, web.Response(status=200), 0.0123)
    assert len(caplog.records) == 1
    line = caplog.records[0].getMessage()
    assert SECRET not in line
    assert line.startswith("GET /j/…/join 200 ")
