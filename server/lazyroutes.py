"""The pages', API's and FHIR facade's routes, on the router at start, their modules imported
just after it.

Importing those modules (their handlers, forms, pydantic models and the domain code only
they use) is a tenth of what `serve` spends before its first healthy answer
(bench/cold_start.py), and `/healthz` and `/ws` need none of it. So the router gets every
route at once, from the table in server/routetable.py (method, path, module, handler), each
with a stand-in handler; one thread imports the modules, in the table's order, as soon as
the app starts (server/warmup.py). A request that arrives before they are in waits for
them, then runs the real handler: no route is ever missing, and the route list (the audit
test, the OpenAPI document) is the same as if they had been imported first.

The table is generated from the modules themselves, registered the ordinary way:

    python -m server.lazyroutes > server/routetable.py

and tests/unit/test_lazyroutes.py fails while it differs from what the modules declare."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# (method, path, module, the handler's name in that module)
Route = tuple[str, str, str, str]

# What registers the routes of the table, in this order: the page modules' RouteTableDefs,
# then the API's and the FHIR facade's registration functions.
PAGE_MODULES = (
    "home", "console", "embed", "clinic", "admin", "budgets", "subscriptions", "organisation",
    "calls", "retention", "subject", "auditlog", "patient", "precall", "invitation",
    "notetaker", "directory", "pilot", "programmes", "statement",
)  # fmt: skip


def add_routes_now(router: web.UrlDispatcher) -> None:
    """Import the modules and add their routes: what the table stands for."""
    from server.api.routes import add_api_routes
    from server.fhir.routes import add_fhir_routes

    for name in PAGE_MODULES:
        module = importlib.import_module(f"server.pages.{name}")
        for route in module.routes:
            route.register(router)
    add_api_routes(router)
    add_fhir_routes(router)


class LazyRoutes:
    """The table's routes on a router, and the one import of their modules."""

    def __init__(self, table: tuple[Route, ...]) -> None:
        self.table = table
        self._loading: asyncio.Future[None] | None = None
        self._handlers: dict[tuple[str, str], Handler] = {}

    def add_to(self, router: web.UrlDispatcher) -> None:
        for method, path, module, name in self.table:
            router.add_route(method, path, self._stand_in(module, name))

    def load(self) -> asyncio.Future[None]:
        """The modules' import, in a thread, begun by the first caller."""
        if self._loading is None:
            self._loading = asyncio.ensure_future(asyncio.to_thread(self._import_all))
        return self._loading

    def _import_all(self) -> None:
        for module in dict.fromkeys(module for _, _, module, _ in self.table):
            importlib.import_module(module)

    def _stand_in(self, module: str, name: str) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            real = self._handlers.get((module, name))
            if real is None:
                await asyncio.shield(self.load())
                real = self._handlers[module, name] = getattr(sys.modules[module], name)
            return await real(request)

        handler.__name__ = name
        handler.__qualname__ = f"{module}.{name}"
        return handler


class _RecordingRouter(web.UrlDispatcher):
    """A router that notes the path each resource was added with (add_get, add_route and
    the rest all come through add_resource)."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: dict[int, str] = {}

    def add_resource(self, path: str, *, name: str | None = None) -> web.Resource:
        if name is not None:
            raise ValueError(f"{path}: the table holds no route names ({name})")
        resource = super().add_resource(path)
        self.paths[id(resource)] = path
        return resource


def _named(handler: Handler) -> tuple[str, str]:
    """The module and the global name a handler is bound to."""
    module = sys.modules[handler.__module__]
    for name, value in vars(module).items():
        if value is handler:
            return handler.__module__, name
    raise ValueError(f"{handler!r} is not a global of {handler.__module__}; name it there")


def table_now() -> tuple[Route, ...]:
    """The table, from the modules as they are."""
    router = _RecordingRouter()
    add_routes_now(router)
    return tuple(
        (route.method, router.paths[id(route.resource)], *_named(route.handler))
        for route in router.routes()
    )


def render(table: tuple[Route, ...]) -> str:
    """server/routetable.py: one route a line (json.dumps writes the strings as ruff would)."""
    rows = "".join(f"    ({', '.join(json.dumps(part) for part in route)}),\n" for route in table)
    return (
        '"""Generated by `python -m server.lazyroutes > server/routetable.py`: every route of the\n'
        'pages, the API and the FHIR facade, and the handler it runs (server/lazyroutes.py)."""\n'
        "# ruff: noqa: E501\n"
        "# fmt: off\n"
        "\n"
        "ROUTES: tuple[tuple[str, str, str, str], ...] = (\n"
        f"{rows}"
        ")\n"
    )


if __name__ == "__main__":
    sys.stdout.write(render(table_now()))
