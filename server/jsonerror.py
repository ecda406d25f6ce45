"""JSON error bodies with a stable code, for every non-page endpoint, and reading a JSON
body into its model with such an error when it does not fit."""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def json_error(status: int, code: str, detail: str, **extra: object) -> web.Response:
    body = {"status": status, "code": code, "detail": detail, **extra}
    return web.json_response(body, status=status)


async def json_body(request: web.Request, model: type[Model], code: str) -> Model | web.Response:
    """The body as `model`, or a 400 naming the fields that do not fit (`code`)."""
    try:
        return model.model_validate_json(await request.read())
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False)
        if any(p["type"] == "json_invalid" for p in problems):
            return json_error(400, "malformed", "the body must be JSON")
        fields = sorted({".".join(str(part) for part in p["loc"]) for p in problems})
        return json_error(400, code, "the body does not have the expected fields", fields=fields)
