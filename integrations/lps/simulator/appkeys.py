"""Typed keys for what the simulator's handlers share."""

from __future__ import annotations

import asyncio

import jinja2
from aiohttp import web

from integrations.lps.simulator.api import AlmenvideoApi
from integrations.lps.simulator.config import SimulatorConfig
from integrations.lps.simulator.record import Record

CONFIG = web.AppKey("config", SimulatorConfig)
API = web.AppKey("api", AlmenvideoApi)
RECORD = web.AppKey("record", Record)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
# Work started by a webhook (filing a note) that must not hold up the answer to it.
BACKGROUND = web.AppKey("background", set[asyncio.Task[None]])
