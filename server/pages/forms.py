"""Reading posted forms the same way on every page: known fields only, trimmed and bounded."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from server.api.problems import problem

MAX_FIELD = 300  # longer than any field allows, so the check still sees that it is too long

Form = MultiDictProxy[str | bytes | Any]


async def read_form(request: web.Request) -> Form:
    """The posted form; a 400 `malformed` problem when its bytes are not text in its charset
    (invalid UTF-8, or a charset nobody knows), which aiohttp lets out as an exception."""
    try:
        return await request.post()
    except (UnicodeDecodeError, LookupError):
        raise problem(400, "malformed", "the form is not valid UTF-8 text") from None


def form_values(form: Form, fields: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip()[:MAX_FIELD] for name in fields}
