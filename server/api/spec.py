"""Declaring API operations once: the route, and what it takes and returns.

Each API module makes an `ApiRoutes` and decorates its handlers:

    routes = ApiRoutes(tag="consultations")

    @routes.post("/api/v1/consultations", summary="Book a video consultation",
                 body=ConsultationIn, responses={201: ConsultationOut}, errors=(409, 422))
    async def create(request: web.Request) -> web.Response: ...

`create_app` adds every module's routes to the router, and `server.api.openapi` builds the
OpenAPI 3.1 document from the very same declarations and pydantic models that validate
requests, so the code and the document cannot disagree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Auth = Literal["vendor", "organisation", "none"]

# Errors every authenticated operation can answer with.
COMMON_ERRORS = (401, 429)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    auth: Auth
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    responses: dict[int, type[BaseModel] | None]
    errors: tuple[int, ...]
    headers: tuple[str, ...]  # request headers the operation reads, e.g. Idempotency-Key


@dataclass
class ApiRoutes:
    tag: str
    auth: Auth = "vendor"
    operations: list[Operation] = field(default_factory=list)

    def _add(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        responses: dict[int, type[BaseModel] | None],
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        errors: tuple[int, ...] = (),
        headers: tuple[str, ...] = (),
        auth: Auth | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            operation = Operation(
                method, path, handler, summary, self.tag, auth or self.auth, body, query,
                responses, errors, headers,
            )  # fmt: skip
            self.operations.append(operation)
            return handler

        return register

    def get(self, path: str, **spec: Any) -> Callable[[Handler], Handler]:
        return self._add("GET", path, **spec)

    def post(self, path: str, **spec: Any) -> Callable[[Handler], Handler]:
        return self._add("POST", path, **spec)

    def put(self, path: str, **spec: Any) -> Callable[[Handler], Handler]:
        return self._add("PUT", path, **spec)

    def patch(self, path: str, **spec: Any) -> Callable[[Handler], Handler]:
        return self._add("PATCH", path, **spec)

    def delete(self, path: str, **spec: Any) -> Callable[[Handler], Handler]:
        return self._add("DELETE", path, **spec)

    def add_to(self, router: web.UrlDispatcher) -> None:
        for op in self.operations:
            router.add_route(op.method, op.path, op.handler)
