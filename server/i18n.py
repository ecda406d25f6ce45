"""Danish first, English second: the locale files, and choosing one per request."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

LANGUAGES = ("da", "en")
DEFAULT = "da"
LANG_COOKIE = "av_lang"


class Locales:
    def __init__(self, directory: Path) -> None:
        self.strings = {
            lang: json.loads((directory / f"{lang}.json").read_text(encoding="utf-8"))
            for lang in LANGUAGES
        }

    def translate(self, lang: str, key: str, **values: object) -> str:
        text = self.strings[lang].get(key) or self.strings[DEFAULT].get(key) or key
        return text.format(**values) if values else text


def request_language(request: web.Request) -> str:
    """`?lang=` wins (and is remembered by the page handler), then the cookie, then Danish."""
    for candidate in (request.query.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT
