"""The page that shows a new password or API key, once.

Only a hash is kept, so this response is the one place the secret ever appears: it is not
cached, and going back to the form does not show it again.
"""

from __future__ import annotations

from aiohttp import web

from server.pages.render import render
from server.responses import no_store
from server.store.users import User


def show_once(
    request: web.Request,
    user: User,
    heading: str,
    secret: str,
    back: str,
    details: list[tuple[str, str]],
) -> web.Response:
    """`heading` and the first of each `details` pair are message keys; `back` is the page
    the form was on, where the page leads on (and its language switch: the secret is not
    shown again)."""
    response = render(
        request,
        "shown_once.html",
        here=back,
        user=user,
        heading=heading,
        secret=secret,
        back=back,
        details=details,
    )
    return no_store(response)
