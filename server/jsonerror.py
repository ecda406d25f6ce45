"""Error answers for the JSON endpoints beside the API (the patient's, the console's): the
same RFC 9457 problem documents as the API (`server.api.problems`), and reading a JSON body
into its model with such an error when it does not fit."""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from server.api.problems import problem_response

Model = TypeVar("Model", bound=BaseModel)


def json_error(status: int, code: str, detail: str, **extra: object) -> web.Response:
    """A problem document; `extra` members (e.g. `retry_after`, `phone`) sit beside `code`."""
    return problem_response(status, code, detail, **extra)


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
