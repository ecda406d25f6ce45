"""The routes whose modules are imported after the start (server/lazyroutes.py): the table
matches the modules, the router gets the same routes, and a request that comes before the
import waits for it and is answered by the real handler."""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from server.lazyroutes import LazyRoutes, add_routes_now, render, table_now
from server.routetable import ROUTES

ROOT = Path(__file__).resolve().parents[2]


def _routes(router: web.UrlDispatcher) -> list[tuple[str, str, object]]:
    return [
        (route.method, route.resource.canonical, route.resource.get_info().get("pattern"))
        for route in router.routes()
        if route.resource is not None
    ]


def test_the_table_is_what_the_modules_declare() -> None:
    written = (ROOT / "server" / "routetable.py").read_text(encoding="utf-8")
    assert written == render(table_now()), (
        "server/routetable.py is out of date: python -m server.lazyroutes > server/routetable.py"
    )


def test_the_router_gets_the_same_routes_as_importing_the_modules_first() -> None:
    eager, lazy = web.UrlDispatcher(), web.UrlDispatcher()
    add_routes_now(eager)
    LazyRoutes(ROUTES).add_to(lazy)
    assert _routes(lazy) == _routes(eager)
    assert len(_routes(lazy)) == len(ROUTES) > 100


async def test_a_request_before_the_import_waits_for_it_and_reaches_the_real_handler() -> None:
    sys.modules.pop("tests.unit.lazytarget", None)
    routes = LazyRoutes((("GET", "/hello/{name}", "tests.unit.lazytarget", "hello"),))
    app = web.Application()
    routes.add_to(app.router)
    async with TestClient(TestServer(app)) as client:
        assert "tests.unit.lazytarget" not in sys.modules
        first, second = await client.get("/hello/a"), await client.get("/hello/b")
        assert (first.status, await first.text()) == (200, "real handler, a")
        assert (second.status, await second.text()) == (200, "real handler, b")
    assert "tests.unit.lazytarget" in sys.modules
    assert routes.load().done()
