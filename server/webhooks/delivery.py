"""Delivering webhooks: at least once, retried with back-off, one vendor never delaying another.

Every instance runs a `Delivery`: the fan-out (events -> outboxes, see `fanout`) and one
`VendorSender` task per vendor with a webhook. A sender leases up to `concurrency` due
messages from its vendor's outbox, posts them at the same time, each with its own timeout,
and settles each. A slow or dead endpoint ties up only that vendor's task.

Order is not guaranteed: messages go oldest first, but several at a time, and a retried one
arrives after later ones. Receivers order by the payload's `timestamp` and de-duplicate on
`webhook-id` (the same on every try of a message).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector
from redis.exceptions import RedisError

from server.clock import iso_utc
from server.resilience import pause_after_error, stop_if_cancelled
from server.store.connection import Redis
from server.store.webhooks import Webhook, disable_webhook, get_webhook, webhook_vendor_ids
from server.webhooks import outbox
from server.webhooks.destination import guard_socket, webhook_url_problem
from server.webhooks.fanout import fanout_consumer
from server.webhooks.outbox import Message
from server.webhooks.policy import DeliveryPolicy, retry_after
from server.webhooks.signing import sign

log = logging.getLogger(__name__)

USER_AGENT = "almenvideo-webhooks/1"
PREPARE_SECONDS = 2


@dataclass(frozen=True)
class Attempt:
    """How one try went: `error` is None after a 2xx answer."""

    error: str | None = None
    status: int = 0  # the HTTP status, 0 if there was no answer
    retry_after: float | None = None  # seconds a 429 or 503 asked us to wait

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks us to stop (Standard Webhooks)."""
        return self.status == 410


async def post(
    http: ClientSession,
    webhook: Webhook,
    message: Message,
    within: float,
    allow_local: bool = False,
) -> Attempt:
    """One signed attempt. Redirects are not followed (the registered URL is the one that
    receives), and the URL is checked again, as it may have been registered under older
    rules or a development setting."""
    if found := webhook_url_problem(webhook.url, allow_local):
        return Attempt(f"the URL is not allowed: {found}")
    body = message.body.encode()
    now = time.time()
    headers = {
        **sign(webhook.secret, message.id, int(now), body, *webhook.still_signing(now)),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    try:
        async with http.post(
            webhook.url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=ClientTimeout(total=within),
        ) as response:
            if 200 <= response.status < 300:
                return Attempt(status=response.status)
            wait = None
            if response.status in (429, 503):
                wait = retry_after(response.headers.get("Retry-After", ""), time.time())
            return Attempt(f"HTTP {response.status}", response.status, wait)
    except TimeoutError:
        return Attempt(f"no answer within {within:g} s")
    except (ClientError, ValueError) as error:
        return Attempt(f"{type(error).__name__}: {error}"[:300])


class VendorSender:
    def __init__(
        self,
        redis: Redis,
        http: ClientSession,
        vendor_id: str,
        policy: DeliveryPolicy,
        rng: random.Random | None = None,
        allow_local: bool = False,
    ) -> None:
        self.redis = redis
        self.http = http
        self.vendor_id = vendor_id
        self.policy = policy
        self.rng = rng
        self.allow_local = allow_local

    async def run(self) -> None:
        while True:
            stop_if_cancelled()
            try:
                if not await self.send_due():
                    await asyncio.sleep(self.policy.poll_interval)
            except Exception:
                await pause_after_error(f"webhook sender for vendor {self.vendor_id}")

    async def send_due(self) -> int:
        """Send what is due now (up to `concurrency`); returns how many were tried."""
        webhook = await get_webhook(self.redis, self.vendor_id)
        if webhook is None or webhook.disabled:
            return 0
        now = time.time()
        messages = await outbox.lease_due(
            self.redis, self.vendor_id, now, now + self.policy.lease, self.policy.concurrency
        )
        await asyncio.gather(*(self._attempt(webhook, m) for m in messages))
        return len(messages)

    async def _attempt(self, webhook: Webhook, message: Message) -> None:
        attempt = await post(
            self.http, webhook, message, self.policy.request_timeout, self.allow_local
        )
        if attempt.error is None:
            await outbox.delivered(self.redis, self.vendor_id, message.id)
            return
        now = time.time()
        # A Retry-After is honoured, up to how long a delivery is tried at all.
        wait = min(attempt.retry_after, self.policy.max_age) if attempt.retry_after else 0.0
        gave_up = await outbox.failed(
            self.redis, self.vendor_id, message, attempt.error, now, self.policy, self.rng,
            not_before=now + wait,
        )  # fmt: skip
        if attempt.gone:
            reason = f"the endpoint answered 410 Gone at {iso_utc(now)}"
            await disable_webhook(self.redis, self.vendor_id, reason, now)
            log.warning("webhook of vendor %s disabled: %s", self.vendor_id, reason)
        if gave_up:
            log.warning(
                "webhook %s to vendor %s dead-lettered: %s",
                message.id, self.vendor_id, attempt.error,
            )  # fmt: skip


class Delivery:
    """All of webhook delivery on one instance."""

    def __init__(
        self,
        redis: Redis,
        consumer: str,
        policy: DeliveryPolicy,
        rng: random.Random | None = None,
        allow_local: bool = False,
    ) -> None:
        self.redis = redis
        self.policy = policy
        self.rng = rng
        self.allow_local = allow_local
        self.fanout = fanout_consumer(redis, consumer, policy)

    async def prepare(self) -> None:
        """Make the consumer group before the app serves, so the events of its first moments
        are delivered too. An instance may start before its Redis: then `run` makes it."""
        try:
            async with asyncio.timeout(PREPARE_SECONDS):
                await self.fanout.ensure_group()
        except (RedisError, OSError, TimeoutError) as error:
            log.warning("webhook consumer group not made yet (%s); will retry", error)

    async def run(self) -> None:
        # No pool limit: each vendor's concurrency bounds its own connections, and a shared
        # cap would let slow vendors use up the connections of the others. Every address
        # connected to is checked (server.webhooks.destination).
        connector = TCPConnector(limit=0, socket_factory=guard_socket(self.allow_local))
        async with ClientSession(connector=connector) as http:
            senders: dict[str, asyncio.Task[None]] = {}
            fanout = asyncio.create_task(self.fanout.run())
            try:
                while True:
                    stop_if_cancelled()
                    try:
                        vendor_ids = await webhook_vendor_ids(self.redis)
                    except Exception:
                        await pause_after_error("listing the vendors with webhooks")
                        continue
                    for vendor_id in vendor_ids - senders.keys():
                        sender = VendorSender(
                            self.redis, http, vendor_id, self.policy, self.rng, self.allow_local
                        )
                        senders[vendor_id] = asyncio.create_task(sender.run())
                    await asyncio.sleep(self.policy.poll_interval)
            finally:
                tasks = [fanout, *senders.values()]
                for task in tasks:
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.gather(*tasks, return_exceptions=True)
