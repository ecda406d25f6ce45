"""GP login, the session cookie, the login throttle and the console's door."""

from __future__ import annotations

from aiohttp import ClientResponse

from server.auth.loginattempts import ADDRESS_FREE
from server.auth.web import SESSION_COOKIE
from server.store.connection import Redis
from server.store.users import create_user
from tests.integration.helpers import GP_PASSWORD, Client, make_gp, origin
from tests.unit.factories import make_clinic


async def post_login(client: Client, username: str, password: str, **extra: str) -> ClientResponse:
    return await client.post(
        "/login",
        data={"username": username, "password": password, **extra},
        allow_redirects=False,
    )


async def test_login_page(client: Client, redis: Redis) -> None:
    response = await client.get("/login")
    assert response.status == 200
    body = await response.text()
    assert 'action="/login"' in body
    assert 'name="next" value=""' in body  # each role lands on its own home page


async def test_wrong_password_is_401(client: Client, redis: Redis) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    response = await post_login(client, gp.username, GP_PASSWORD + "!")
    assert response.status == 401
    assert SESSION_COOKIE not in response.cookies
    assert 'data-testid="login-error"' in await response.text()


async def test_unknown_user_is_401(client: Client, redis: Redis) -> None:
    response = await post_login(client, "nobody", GP_PASSWORD)
    assert response.status == 401


async def test_right_password_opens_a_session(client: Client, redis: Redis) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    response = await post_login(client, gp.username, GP_PASSWORD)
    assert response.status == 303
    assert response.headers["Location"] == "/console"
    cookie = next(
        v for k, v in response.headers.items() if k == "Set-Cookie" and SESSION_COOKIE in v
    )
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    console = await client.get("/console", allow_redirects=False)
    assert console.status == 200
    assert gp.display_name in await console.text()


async def test_username_is_case_insensitive(client: Client, redis: Redis) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    response = await post_login(client, gp.username.upper(), GP_PASSWORD)
    assert response.status == 303


async def test_console_without_session_goes_to_login(client: Client, redis: Redis) -> None:
    response = await client.get("/console", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login?next=/console"


async def test_console_with_a_forged_cookie_goes_to_login(client: Client, redis: Redis) -> None:
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: "x" * 43})
    response = await client.get("/console", allow_redirects=False)
    assert response.status == 303


async def test_each_role_lands_on_its_own_page_and_not_on_the_console(
    client: Client, redis: Redis
) -> None:
    await create_user(redis, "admin-1", GP_PASSWORD, "Admin", "admin")
    response = await post_login(client, "admin-1", GP_PASSWORD)
    assert response.status == 303
    assert response.headers["Location"] == "/admin"
    cookie = response.cookies[SESSION_COOKIE].value
    console = await client.get(
        "/console", allow_redirects=False, headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}
    )
    assert console.status == 403
    assert "ikke adgang" in await console.text()


async def test_failures_beyond_the_free_ones_make_the_address_wait(
    client: Client, redis: Redis
) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    for _ in range(ADDRESS_FREE + 1):
        assert (await post_login(client, gp.username, "wrong password!")).status == 401
    held = await post_login(client, gp.username, GP_PASSWORD)
    assert held.status == 429
    assert int(held.headers["Retry-After"]) >= 1
    assert SESSION_COOKIE not in held.cookies
    assert "sekunder" in await held.text()


async def test_a_success_does_not_wipe_the_addresss_failures(client: Client, redis: Redis) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    for _ in range(ADDRESS_FREE - 1):
        await post_login(client, gp.username, "wrong password!")
    assert (await post_login(client, gp.username, GP_PASSWORD)).status == 303
    for _ in range(2):
        assert (await post_login(client, gp.username, "wrong password!")).status == 401
    assert (await post_login(client, gp.username, "wrong password!")).status == 429


async def test_next_is_followed_for_local_paths_only(client: Client, redis: Redis) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    cases = {
        "/console?tab=today": "/console?tab=today",
        "//evil.example": "/console",
        "//evil.example/console": "/console",
        "https://evil.example/": "/console",
        "/\\evil.example": "/console",
    }
    for target, expected in cases.items():
        response = await post_login(client, gp.username, GP_PASSWORD, next=target)
        assert response.status == 303
        assert response.headers["Location"] == expected, target


async def test_login_page_does_not_carry_a_foreign_next(client: Client, redis: Redis) -> None:
    response = await client.get("/login", params={"next": "//evil.example"})
    body = await response.text()
    assert 'name="next" value=""' in body  # each role lands on its own home page
    assert 'value="//evil.example"' not in body


async def test_cross_site_login_is_refused(client: Client, redis: Redis) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    response = await client.post(
        "/login",
        data={"username": gp.username, "password": GP_PASSWORD},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403
    same = await client.post(
        "/login",
        data={"username": gp.username, "password": GP_PASSWORD},
        headers={"Origin": origin(client)},
        allow_redirects=False,
    )
    assert same.status == 303


async def test_logout_ends_the_session(client: Client, redis: Redis) -> None:
    gp = await make_gp(redis, await make_clinic(redis))
    await post_login(client, gp.username, GP_PASSWORD)
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    response = await client.post("/logout", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login"
    # Even a browser that kept the cookie is logged out.
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: token})
    assert (await client.get("/console", allow_redirects=False)).status == 303
