"""Addresses on this site, for every redirect, `next=` and link built from what a visitor
sent.

Browsers read a URL more loosely than a prefix check does: they drop tabs and newlines
anywhere (`/\\t/evil.example` becomes `//evil.example`, another host), read `\\` as `/`,
and treat a path that starts with `//` as a host. So a target is parsed and rebuilt from
its path and query only, and refused when the browser could read it any other way.
"""

from __future__ import annotations

from yarl import URL

MAX_LENGTH = 2000
HOME = "/"


def local_target(value: str | None) -> str | None:
    """`value` as a path (and query) on this site, normalised, or None when it is not one."""
    if not value or len(value) > MAX_LENGTH or not value.startswith("/"):
        return None
    if "\\" in value or any(ch.isspace() or not ch.isprintable() for ch in value):
        return None
    try:
        url = URL(value)
    except ValueError:
        return None
    if url.scheme or url.raw_authority or not url.raw_path.startswith("/"):
        return None
    target = str(URL.build(path=url.raw_path, query_string=url.raw_query_string, encoded=True))
    return target if target.startswith("/") and not target.startswith("//") else None


def with_language(value: str | None, lang: str) -> str:
    """The page at `value` in another language; the home page when `value` is no local
    path (a 404 for `//evil.example/x` links home, not off-site)."""
    return str(URL(local_target(value) or HOME).update_query(lang=lang))


def login_url(path: str) -> str:
    """The login page, coming back to `path` (when it is a local one) after."""
    target = local_target(path)
    return str(URL("/login").with_query(next=target)) if target else "/login"
