"""`almenvideo vendor-webhook` against a real Redis: prints the new secret, refuses nonsense."""

from __future__ import annotations

import asyncio
import re

import pytest

from server.cli import main
from server.settings import Settings
from server.store.audit import read_audit
from server.store.connection import Redis
from server.store.vendors import create_vendor
from server.store.webhooks import get_webhook


async def run(settings: Settings, *args: str) -> int:
    """The command as typed, in a thread of its own (it runs its own event loop)."""
    return await asyncio.to_thread(main, [*args, "--redis-url", str(settings.redis_url)])


async def test_it_registers_the_url_and_prints_a_new_secret(
    redis: Redis, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    vendor = await create_vendor(redis, "Journal A/S", ["k1"])
    url = "https://lps.example.dk/hook"
    secrets = []
    for _ in range(2):
        args = ["vendor-webhook", "--vendor-id", vendor.id, "--url", url]
        assert await run(settings, *args) == 0
        printed = re.search(r"Secret:\s+(whsec_\S+)", capsys.readouterr().out)
        assert printed, "no secret printed"
        secrets.append(printed.group(1))
        webhook = await get_webhook(redis, vendor.id)
        assert webhook is not None and (webhook.url, webhook.secret) == (url, secrets[-1])
    assert secrets[0] != secrets[1]
    assert [e.action for e in await read_audit(redis)] == ["webhook.registered"] * 2


@pytest.mark.parametrize(
    ("vendor_id", "url", "complaint"),
    [
        ("nobody", "https://lps.example.dk/hook", "no vendor has this id"),
        (None, "http://lps.example.dk/hook", "--url"),
    ],
)
async def test_it_refuses_an_unknown_vendor_or_a_bad_url(
    redis: Redis,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    vendor_id: str | None,
    url: str,
    complaint: str,
) -> None:
    vendor = await create_vendor(redis, "Journal A/S", ["k1"])
    args = ["vendor-webhook", "--vendor-id", vendor_id or vendor.id, "--url", url]
    assert await run(settings, *args) == 1
    captured = capsys.readouterr()
    assert complaint in captured.err
    assert "whsec_" not in captured.out
    assert await get_webhook(redis, vendor.id) is None
