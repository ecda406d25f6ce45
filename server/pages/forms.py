"""Reading posted forms the same way on every page: known fields only, trimmed and bounded."""

from __future__ import annotations

from typing import Any

from multidict import MultiDictProxy

MAX_FIELD = 300  # longer than any field allows, so the check still sees that it is too long

Form = MultiDictProxy[str | bytes | Any]


def form_values(form: Form, fields: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip()[:MAX_FIELD] for name in fields}
