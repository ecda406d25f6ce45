"""`local_target`: whatever a visitor sends, what comes back is a path on this site."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from server.localurl import local_target, login_url, with_language

TRICKY = st.sampled_from(
    ["/", "//", "\\", "\t", "\n", "\r", " ", "%09", "%2F", ".", "..", ":", "@", "?", "#"]
)
URLISH = st.lists(TRICKY | st.text(max_size=4), max_size=8).map("".join)


def _browser_leaves(target: str) -> bool:
    """Whether a browser would leave the site for `target` (WHATWG: tabs and newlines are
    dropped, `\\` is `/`, two or more leading slashes start a host)."""
    cleaned = re.sub(r"[\t\n\r]", "", target).strip("\x00- ").replace("\\", "/")
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", cleaned)) or cleaned.startswith("//")


@given(URLISH)
def test_a_target_is_a_local_path_or_nothing(value: str) -> None:
    target = local_target(value)
    if target is not None:
        assert target.startswith("/") and not _browser_leaves(target)
        assert local_target(target) == target  # normalised: a second pass changes nothing


@given(URLISH)
def test_the_language_link_never_leaves(value: str) -> None:
    assert not _browser_leaves(with_language(value, "en"))


def test_local_pages_are_kept() -> None:
    assert local_target("/console?consultation=ab12") == "/console?consultation=ab12"
    assert local_target("/clinic/settings#absences") == "/clinic/settings"
    assert login_url("/i/abc_DEF-123") == "/login?next=/i/abc_DEF-123"
    assert with_language("/j/abc?lang=da", "en") == "/j/abc?lang=en"


def test_what_a_browser_reads_as_another_host_is_refused() -> None:
    for value in ("/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example"):
        assert local_target(value) is None
    assert with_language("//evil.example/x", "en") == "/?lang=en"
    assert login_url("//evil.example") == "/login"
