"""Reading a request's body or query through its pydantic model; a mismatch is a 422
problem listing each field (`invalid_body`, `invalid_query`)."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from server.api.problems import invalid_body

M = TypeVar("M", bound=BaseModel)


async def valid_body(
    request: web.Request,
    model: type[M],
    detail: str = "the request body is not valid",
    context: dict[str, Any] | None = None,
) -> M:
    try:
        return model.model_validate_json(await request.read(), context=context)
    except ValidationError as error:
        raise invalid_body(error, detail) from None


def valid_query(request: web.Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as error:
        raise invalid_body(error, "the query is not valid", code="invalid_query") from None
