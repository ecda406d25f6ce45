"""The GP's side: logging in and out, and the console page."""

from __future__ import annotations

from aiohttp import web

from server.appkeys import REDIS, SETTINGS
from server.auth.passwords import verify_password
from server.auth.web import SESSION_COOKIE, current_user, same_origin, set_session_cookie
from server.pages.render import render
from server.store import keys
from server.store.clinics import get_clinic
from server.store.sessions import close_session, open_session
from server.store.users import clinic_users, find_user

MAX_FAILURES = 10
FAILURE_WINDOW_SECONDS = 15 * 60
PROFESSIONAL_ROLES = ("gp",)
# Checked against when the user name is unknown, so both failures take the same time.
_UNKNOWN_USER_HASH = (
    "scrypt$32768$8$1$rXUnPWWIC7gCvvhVfWYYgA$iUDozvqpZVCTnJN3M9ctFrIN6MmuU22iOJdyD_bfkJP7i6SVbh1"
    "CniOUhDtTHGFQLB0qWAldAOmIQfnBcQgHtw"
)


def _safe_next(value: str | None) -> str:
    """Only local paths, so the login form cannot be used to redirect elsewhere."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console"


async def login_page(request: web.Request) -> web.Response:
    return render(
        request, "login.html", error=None, username="", next=_safe_next(request.query.get("next"))
    )


async def login(request: web.Request) -> web.Response:
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-site login refused")
    form = await request.post()
    username = str(form.get("username", ""))[:100]
    password = str(form.get("password", ""))[:1000]
    target = _safe_next(str(form.get("next", "")))
    redis = request.app[REDIS]
    failures_key = keys.login_failures(username)
    if int(await redis.get(failures_key) or 0) >= MAX_FAILURES:
        return render(
            request, "login.html", status=429, error="login.locked", username=username, next=target
        )
    user = await find_user(redis, username)
    if (
        user is None
        or user.role not in PROFESSIONAL_ROLES
        or not verify_password(password, user.password_hash)
    ):
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(failures_key)
            pipe.expire(failures_key, FAILURE_WINDOW_SECONDS)
            await pipe.execute()
        return render(
            request, "login.html", status=401, error="login.failed", username=username, next=target
        )
    await redis.delete(failures_key)
    token = await open_session(redis, user.id, request.app[SETTINGS].session_ttl_seconds)
    response = web.HTTPSeeOther(target)
    set_session_cookie(request, response, token)
    raise response


async def logout(request: web.Request) -> web.Response:
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-site logout refused")
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await close_session(request.app[REDIS], token)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def console_page(request: web.Request) -> web.Response:
    user = await current_user(request)
    if user is None or user.role not in PROFESSIONAL_ROLES:
        raise web.HTTPSeeOther(f"/login?next={request.rel_url.path}")
    redis = request.app[REDIS]
    clinic = await get_clinic(redis, user.clinic_id)
    assert clinic is not None
    colleagues = [
        {"id": u.id, "display_name": u.display_name}
        for u in await clinic_users(redis, user.clinic_id)
        if u.role == "gp"
    ]
    data = {
        "me": user.id,
        "colleagues": colleagues,
        "wait_alert_minutes": clinic.wait_alert_minutes,
    }
    return render(request, "console.html", user=user, clinic=clinic, console_data=data)


async def index_page(request: web.Request) -> web.Response:
    return render(request, "index.html")
