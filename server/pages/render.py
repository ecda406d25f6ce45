"""Rendering Jinja2 pages in the visitor's language."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.appkeys import LOCALES, SETTINGS, TEMPLATES
from server.clock import local
from server.i18n import LANG_COOKIE, LANGUAGES, request_language
from server.localurl import with_language
from server.phone import tel_uri
from server.pilots.invoices import Quarter
from server.pilots.money import format_kroner
from server.store.clinics import Clinic

if TYPE_CHECKING:
    import jinja2
    from jinja2.runtime import Context


class Templates:
    """The pages' Jinja environment. Its filters write days, quarters and money in the
    page's language (the `lang` every page is rendered with), so handlers pass plain
    values: `{{ entry.on | day }}`, `{{ total_ore | kroner }}`, `{{ quarter | quarter }}`,
    `{{ code | language }}` (a language's name: "da" -> "dansk").

    The environment, and jinja2 with it, is made for the first page rendered, not at
    start-up (bench/cold_start.py); server/warmup.py imports jinja2 soon after the start."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @cached_property
    def env(self) -> jinja2.Environment:
        import jinja2

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.directory),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
        )
        in_context = jinja2.pass_context
        env.filters.update(
            day=in_context(_day),
            kroner=in_context(_kroner),
            quarter=in_context(_quarter),
            tel=tel_uri,
            language=in_context(_language),
        )
        return env


def format_day(day: str | date, lang: str) -> str:
    """A calendar day, an ISO string ("2025-03-01") or a date: "01.03.2025" or "1 Mar 2025"."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return d.strftime("%d.%m.%Y") if lang == "da" else f"{d.day} {d.strftime('%b %Y')}"


def _day(context: Context, day: str | date) -> str:
    return format_day(day, context["lang"])


def _kroner(context: Context, ore: int) -> str:
    return format_kroner(ore, context["lang"])


def _quarter(context: Context, quarter: Quarter | str) -> str:
    """A quarter ("2025Q1" or a `Quarter`) by its name: "1. kvartal 2025"."""
    q = Quarter.parse(quarter) if isinstance(quarter, str) else quarter
    return str(context["t"]("plsp.quarter_name", number=q.number, year=q.year))


def _language(context: Context, code: str) -> str:
    return str(context["t"](f"language.{code}"))


def format_time(ts: float | None, lang: str) -> str:
    if ts is None:
        return ""
    at = local(ts)
    if lang == "da":
        return at.strftime("%d.%m.%Y kl. %H.%M")
    return at.strftime("%d %b %Y, %H:%M")


def render(
    request: web.Request,
    template: str,
    status: int = 200,
    here: str | None = None,
    **context: Any,
) -> web.Response:
    """`here` is the page's own address when the request's is not one to come back to (a
    form post answered with a page): the language switch leads there."""
    app = request.app
    lang = request_language(request)
    locales = app[LOCALES]

    def t(key: str, **values: object) -> str:
        return locales.translate(lang, key, **values)

    other = next(code for code in LANGUAGES if code != lang)
    body = (
        app[TEMPLATES]
        .env.get_template(template)
        .render(
            t=t,
            lang=lang,
            other_lang=other,
            other_lang_url=with_language(here or request.raw_path, other),
            strings=locales.strings[lang],
            **context,
        )
    )
    response = web.Response(text=body, status=status, content_type="text/html")
    if request.query.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=app[SETTINGS].secure_cookies,
        )
    return response


def error_page(
    request: web.Request,
    status: int,
    code: str,
    clinic: Clinic | None = None,
    retry_seconds: int | None = None,
    **values: object,
) -> web.Response:
    """An error page with a way on: the front page, and the clinic's name and phone when the
    page is about one of its consultations; with `retry_seconds`, it reloads itself after
    that long."""
    locales = request.app[LOCALES]
    lang = request_language(request)
    return render(
        request,
        "error.html",
        status=status,
        code=code,
        clinic=clinic,
        retry_seconds=retry_seconds,
        title=locales.translate(lang, f"error.{code}_title"),
        text=locales.translate(lang, f"error.{code}_text", **values),
    )
