"""Headers every response carries, and error pages or problem documents (RFC 9457) instead of
stack traces. Redis out of reach is not a bug but an outage: 503 with `Retry-After`, and a
page that says so in the person's language and tries again by itself."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.api.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from server.api.problems import problem_response
from server.pages.render import error_page

log = logging.getLogger(__name__)

RETRY_SECONDS = 10  # an outage page reloads itself after this long

_POLICY = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob: mediastream:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
]


def csp(frame_ancestors: tuple[str, ...] = ()) -> str:
    """The pages' policy; only the given origins may frame the page (nobody by default)."""
    ancestors = " ".join(frame_ancestors) or "'none'"
    return "; ".join([*_POLICY, f"frame-ancestors {ancestors}"])


CSP = csp()

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # Join links carry a secret token: never leak it to another site through Referer.
    # ("no-referrer" would also make browsers send `Origin: null` on our own form posts.)
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), display-capture=(self)",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_JSON_PREFIXES = ("/api/", "/ws", "/healthz")
# Only the static files may be kept by a cache: every other answer is made for its asker
# and may carry patient data (names, notes, join links, back-door numbers), so it is
# `no-store` unless the handler said otherwise.
_CACHEABLE_PREFIX = "/static/"


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith(_JSON_PREFIXES) or request.method != "GET"


@web.middleware
async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == PROBLEM_CONTENT_TYPE:  # already explained
            _apply_headers(exc)
            exc.headers.setdefault("Cache-Control", "no-store")
            raise
        response = _error_response(request, exc.status, exc.reason)
        if "Allow" in exc.headers:  # RFC 9110: a 405 says which methods the resource takes
            response.headers["Allow"] = exc.headers["Allow"]
    except (RedisConnectionError, RedisTimeoutError) as exc:
        log.warning("Redis unreachable on %s %s: %s", request.method, request.path, exc)
        response = _unavailable(request)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        response = _error_response(request, 500, "Internal Server Error")
    _apply_headers(response)
    if not response.prepared and not request.path.startswith(_CACHEABLE_PREFIX):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


# The code of an error no handler explained (the router's 404 and 405, a body too large, ...).
_CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def _error_response(request: web.Request, status: int, reason: str) -> web.Response:
    if _wants_json(request):
        code = _CODES.get(status, "error") if status < 500 else "internal"
        return problem_response(status, code, reason)
    page = {404: "not_found", 403: "forbidden"}.get(status, "server")
    return error_page(request, status, page)


def _unavailable(request: web.Request) -> web.Response:
    if _wants_json(request):
        response = problem_response(503, "unavailable", "Briefly unavailable; try again shortly")
    else:
        response = error_page(request, 503, "unavailable", retry_seconds=RETRY_SECONDS)
    response.headers["Retry-After"] = str(RETRY_SECONDS)
    return response


def _apply_headers(response: web.StreamResponse) -> None:
    if response.prepared:  # a WebSocket: its headers are long sent
        return
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
