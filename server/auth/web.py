"""Professional sessions on the web: the cookie, and finding the user behind a request."""

from __future__ import annotations

from aiohttp import web

from server.appkeys import REDIS, SETTINGS
from server.store.sessions import session_user_id
from server.store.users import User, get_user

SESSION_COOKIE = "av_session"


async def current_user(request: web.Request) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 100:
        return None
    redis = request.app[REDIS]
    user_id = await session_user_id(redis, token)
    return await get_user(redis, user_id) if user_id else None


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    settings = request.app[SETTINGS]
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="Lax",
        path="/",
    )


def same_origin(request: web.Request) -> bool:
    """Browsers send Origin on WebSocket upgrades and POSTs; a foreign one is refused.
    Requests without Origin come from non-browser clients and carry no ambient cookie risk."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    allowed = {f"{request.scheme}://{request.host}", request.app[SETTINGS].public_base_url}
    return origin in allowed


async def require_user(request: web.Request, *roles: str) -> User:
    """The logged-in user if they have one of `roles`. Nobody logged in is sent to log in
    (and back here after); a user with another role gets a 403 page. Cross-site posts are
    refused."""
    user = await current_user(request)
    if user is None:
        raise web.HTTPSeeOther(f"/login?next={request.rel_url.path}")
    if user.role not in roles:
        raise web.HTTPForbidden(reason="wrong role")
    if request.method == "POST" and not same_origin(request):
        raise web.HTTPForbidden(reason="cross-site request refused")
    return user
