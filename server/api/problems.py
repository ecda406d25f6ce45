"""Errors as RFC 9457 problem documents, each with a stable `code`: every JSON answer that is
an error, from the API, the patient's and the console's JSON endpoints, and unknown routes.

    {"type": "https://almenvideo.dk/problems/<code>", "title": "...", "status": 404,
     "detail": "...", "code": "<code>"}

Raise `problem(...)` anywhere in a handler; the body and status go out as they are. A code
always comes with the same status (a test holds the code to it): a body that is not JSON is
400 `malformed`, JSON whose fields do not fit is 422 `invalid_body`.
"""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import BaseModel, ValidationError

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
    503: "Service unavailable",
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


def problem_response(status: int, code: str, detail: str, **extra: object) -> web.Response:
    body = problem_body(status, code, detail, **extra)
    return web.Response(status=status, text=body, content_type=CONTENT_TYPE)


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: object
) -> web.HTTPException:
    """An HTTP exception carrying a problem body; `raise problem(...)`."""
    body = problem_body(status, code, detail, **extra)
    exc = web.HTTPException(text=body, content_type=CONTENT_TYPE, headers=headers or None)
    exc.set_status(status)
    return exc


def invalid_body(
    error: ValidationError,
    detail: str = "the request body is not valid",
    code: str = "invalid_body",
) -> web.HTTPException:
    """422 with each field's problem and a stable code (`invalid_body`, `invalid_query`);
    400 `malformed` when the body is not JSON at all."""
    if any(e["type"] == "json_invalid" for e in error.errors(include_url=False)):
        return problem(400, "malformed", "the body must be JSON")
    errors = [
        {"field": ".".join(str(part) for part in e["loc"]), "code": e["type"], "message": e["msg"]}
        for e in error.errors(include_url=False)
    ]
    return problem(422, code, detail, errors=errors)


class Problem(BaseModel):
    """The body of every API error (RFC 9457), for the OpenAPI document."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, str]] | None = None
