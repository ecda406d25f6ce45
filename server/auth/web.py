"""Professional sessions on the web: the cookies, and finding the user behind a request.

Two cookies carry a session. `av_session` is the ordinary login (SameSite=Lax). `av_embed`
is a session an LPS opened inside its own page (`/embed/{token}`), scoped to that one
consultation and its call (`server.store.embeds`): only handlers that name that
consultation accept it (`require_user(..., consultation=...)`); every other page answers
403. It lives in a third-party iframe, so it must be `SameSite=None; Secure`, and it is
`Partitioned` (CHIPS), because browsers that block third-party cookies (Chromium's private
contexts already do) still keep partitioned ones. Partitioned by the LPS's site, it exists
only inside that LPS's frames and never replaces the GP's own login. When both arrive (an
LPS on the same site), the embed session wins: it is the one the page in the frame was
opened with.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import hdrs, web

from server.api.problems import problem
from server.appkeys import REDIS, SETTINGS
from server.auth.clientaddress import client_group
from server.clock import now
from server.localurl import login_url
from server.store.consultations import get_consultation
from server.store.embeds import EMBED_SESSION_SECONDS, embed_binding, embed_lapsed
from server.store.sessions import close_session, session_user_id
from server.store.users import User, get_user

SESSION_COOKIE = "av_session"
EMBED_COOKIE = "av_embed"


@dataclass(frozen=True)
class WebSession:
    token: str
    user_id: str
    # The one consultation an LPS's embed session may see and act on; None for a login.
    scope: str | None = None

    @property
    def embedded(self) -> bool:
        return self.scope is not None

    def allows(self, consultation: str | None) -> bool:
        """A login may go anywhere its role may; an embed session only to its consultation."""
        return self.scope is None or consultation == self.scope


async def web_session(request: web.Request) -> WebSession | None:
    if hdrs.COOKIE not in request.headers:
        # A patient's socket, mostly: the parsed cookies would stay cached on the request
        # for as long as the socket lives (some 300 bytes each, thousands waiting).
        return None
    redis = request.app[REDIS]
    for name in (EMBED_COOKIE, SESSION_COOKIE):
        token = request.cookies.get(name)
        if not token or len(token) > 100 or not (user_id := await session_user_id(redis, token)):
            continue
        if name == SESSION_COOKIE:
            return WebSession(token, user_id)
        if scope := await _embed_scope(request, token):
            return WebSession(token, user_id, scope)
    return None


async def _embed_scope(request: web.Request, token: str) -> str | None:
    """The consultation an embed session is bound to, while its call lasts; a session whose
    consultation is over (or gone) is closed here, the first time it is used after."""
    redis = request.app[REDIS]
    binding = await embed_binding(redis, token)
    c = await get_consultation(redis, binding.consultation_id) if binding else None
    if binding is None or c is None or embed_lapsed(c, now()):
        await close_session(redis, token)
        return None
    return binding.consultation_id


async def current_user(request: web.Request) -> User | None:
    """The user behind the request's login; an embed session is no login (see above)."""
    session = await web_session(request)
    if session is None or session.embedded:
        return None
    return await get_user(request.app[REDIS], session.user_id)


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


def set_embed_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """`SameSite=None; Secure; Partitioned`, so it works in the LPS's (third-party) iframe.
    Browsers treat http://localhost and http://127.0.0.1 as secure, so this works there over
    plain http too. With `ALMENVIDEO_SECURE_COOKIES=false` (plain http on another host, where
    a Secure cookie would be dropped) it falls back to `SameSite=Lax`: then only an LPS on
    the same site can embed."""
    settings = request.app[SETTINGS]
    if not settings.secure_cookies:
        response.set_cookie(
            EMBED_COOKIE, token, max_age=EMBED_SESSION_SECONDS, httponly=True,
            samesite="Lax", path="/",
        )  # fmt: skip
        return
    # Python's http.cookies (before 3.14) knows no Partitioned attribute: write the header.
    response.headers.add(
        "Set-Cookie",
        f"{EMBED_COOKIE}={token}; Max-Age={EMBED_SESSION_SECONDS}; Path=/; HttpOnly; "
        "Secure; SameSite=None; Partitioned",
    )


def client_address(request: web.Request) -> str:
    """The client's address group, which per-client limits count (see clientaddress)."""
    return client_group(request, request.app[SETTINGS].proxy_networks)


def same_origin(request: web.Request) -> bool:
    """Browsers send Origin on WebSocket upgrades and POSTs; a foreign one is refused.
    Requests without Origin come from non-browser clients and carry no ambient cookie risk."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    allowed = {f"{request.scheme}://{request.host}", request.app[SETTINGS].public_base_url}
    return origin in allowed


async def require_user(request: web.Request, *roles: str, consultation: str | None = None) -> User:
    """The logged-in user if they have one of `roles`. Nobody logged in is sent to log in
    (and back here after); a user with another role gets a 403 page. Cross-site posts are
    refused. An embed session gets a 403 page unless the handler is about one consultation
    (`consultation`) and it is the session's own."""
    session = await web_session(request)
    if session is not None and not session.allows(consultation):
        raise web.HTTPForbidden(reason="an embedded view opens only its own consultation")
    user = await get_user(request.app[REDIS], session.user_id) if session else None
    if user is None:
        raise web.HTTPSeeOther(login_url(request.rel_url.raw_path))
    if user.role not in roles:
        raise web.HTTPForbidden(reason="wrong role")
    if request.method == "POST" and not same_origin(request):
        raise problem(403, "bad_origin", "cross-site request refused")
    return user
