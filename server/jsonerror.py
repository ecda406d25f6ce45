"""JSON error bodies with a stable code, for every non-page endpoint."""

from __future__ import annotations

from aiohttp import web


def json_error(status: int, code: str, detail: str, **extra: object) -> web.Response:
    body = {"status": status, "code": code, "detail": detail, **extra}
    return web.json_response(body, status=status)
