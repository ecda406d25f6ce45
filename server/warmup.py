"""What the start-up leaves out, imported in one thread: the routes' modules at once, the
rest soon after the start.

The pages', API's and FHIR modules (server/lazyroutes.py) come first, as the app starts:
their routes are on the router already, and a request for one waits until they are in.

aiortc and PyAV (server/media/echo.py says why) and jinja2 (server/pages/render.py) are not
imported at start-up, but the first line test, note-taker tap or page should not wait for
them either: imported on the event loop, aiortc would stall every socket of the instance
for a few hundred milliseconds. A thread imports them instead, while the loop serves (the
import holds the GIL only in slices of the switch interval). It begins a moment after the
routes' modules are in, so the start's first requests (a load balancer's health check,
browsers reconnecting after a restart) do not share the GIL with it. The two imports run
one after the other, never at once: two threads importing could meet in an import cycle."""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.lazyroutes import LazyRoutes

WARM_UP_AFTER_SECONDS = 1.0
MODULES = ("jinja2", "aiortc", "aiortc.contrib.media", "aiortc.sdp", "av")

log = logging.getLogger(__name__)


def _import_all() -> None:
    for name in MODULES:
        importlib.import_module(name)


async def import_the_rest(routes: LazyRoutes) -> None:
    """One import at a time: the routes' modules, then the rest."""
    try:
        await asyncio.shield(routes.load())
    except Exception:  # each of their requests answers 500 with it, too
        log.exception("cannot import the routes' modules: see server/lazyroutes.py")
    await asyncio.sleep(WARM_UP_AFTER_SECONDS)
    try:
        await asyncio.to_thread(_import_all)
    except ImportError:
        log.exception("cannot import what the start left out: see server/warmup.py")
