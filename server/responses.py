"""Response shapes the pages, the API and the FHIR facade share.

Beside `jsonerror` rather than under `pages/`, because the API answers with them too.
"""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web

# For answers no cache may keep: back-door numbers, secrets shown once, money and notes.
NO_STORE = {"Cache-Control": "no-store"}

R = TypeVar("R", bound=web.StreamResponse)


def no_store(response: R) -> R:
    response.headers.update(NO_STORE)
    return response
