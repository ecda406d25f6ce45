"""Where a vendor's webhooks go: URL rules, and a fresh secret on every registration."""

from __future__ import annotations

import pytest

from server.store import keys
from server.store.connection import Redis
from server.store.webhooks import get_webhook, register_webhook, webhook_vendor_ids
from server.webhooks.destination import webhook_url_problem


@pytest.mark.parametrize(
    "url",
    [
        "https://lps.example.dk/hooks/almenvideo",
        "https://lps.example.dk:8443/h?tenant=4",
        "https://xn--lge-tla.example.dk/h#x",
    ],
)
def test_https_to_a_host_name(url: str) -> None:
    assert webhook_url_problem(url) is None


@pytest.mark.parametrize(
    "url",
    ["http://localhost:9000/hook", "http://127.0.0.1:9000/hook", "https://[::1]:9000/hook"],
)
def test_this_machine_only_under_the_development_setting(url: str) -> None:
    assert webhook_url_problem(url) is not None
    assert webhook_url_problem(url, allow_local=True) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://lps.example.dk/hook",
        "http://localhost.evil.example/hook",
        "http://10.0.0.5/hook",
        "https://193.163.7.10/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00::1]/hook",
        "https://0.0.0.0/hook",
        "ftp://lps.example.dk/hook",
        "/hook",
        "https://",
        "https://user:pw@lps.example.dk/hook",
        "https://lps example.dk/hook",
        "https://lps.example.dk/\nhook",
        "https://lps.example.dk/" + "a" * 2000,
        "",
    ],
)
def test_other_urls_are_refused(url: str) -> None:
    assert webhook_url_problem(url) is not None


async def test_each_registration_issues_a_new_secret(redis: Redis) -> None:
    assert await get_webhook(redis, "v1") is None
    first = await register_webhook(redis, "v1", "https://a.example/h")
    second = await register_webhook(redis, "v1", "https://b.example/h")
    assert first.secret != second.secret and second.secret.startswith("whsec_")
    assert await get_webhook(redis, "v1") == second
    assert await webhook_vendor_ids(redis) == {"v1"}
    # Stored as is, because it must sign; see keys.webhook.
    assert await redis.hget(keys.webhook("v1"), "secret") == second.secret
