"""A route module for tests/unit/test_lazyroutes.py, imported only by its stand-in handler."""

from __future__ import annotations

from aiohttp import web


async def hello(request: web.Request) -> web.Response:
    return web.Response(text=f"real handler, {request.match_info['name']}")
