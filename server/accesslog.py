"""Access log lines without secrets: join, drop-in, invitation and embed tokens in paths are
masked."""

from __future__ import annotations

import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

_TOKEN_PATH = re.compile(r"^/(j|d|i|embed)/[^/]+")


def redact_path(path: str) -> str:
    return _TOKEN_PATH.sub(lambda match: f"/{match.group(1)}/…", path)


class RedactingAccessLogger(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %.1fms",
            request.method,
            redact_path(request.path),
            response.status,
            time * 1000,
        )
