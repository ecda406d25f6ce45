"""API errors as RFC 9457 problem documents, each with a stable `code`.

    {"type": "https://almenvideo.dk/problems/<code>", "title": "...", "status": 404,
     "detail": "...", "code": "<code>"}

Raise `problem(...)` anywhere in an API handler; the body and status go out as they are.
"""

from __future__ import annotations

import json

from aiohttp import web

PROBLEM_TYPE_BASE = "https://almenvideo.dk/problems/"
CONTENT_TYPE = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorised",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
}


def problem_body(status: int, code: str, detail: str, **extra: object) -> str:
    return json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + code,
            "title": _TITLES.get(status, "Error"),
            "status": status,
            "detail": detail,
            "code": code,
            **extra,
        }
    )


def problem_response(status: int, code: str, detail: str) -> web.Response:
    body = problem_body(status, code, detail)
    return web.Response(status=status, text=body, content_type=CONTENT_TYPE)


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: object
) -> web.HTTPException:
    """An HTTP exception carrying a problem body; `raise problem(...)`."""
    body = problem_body(status, code, detail, **extra)
    exc = web.HTTPException(text=body, content_type=CONTENT_TYPE, headers=headers or None)
    exc.set_status(status)
    return exc
