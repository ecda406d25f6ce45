"""How patiently a webhook is delivered: retry back-off, give-up age, timeouts, concurrency.

One frozen value, carried in `Settings`, so tests can shrink seconds to milliseconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(frozen=True)
class DeliveryPolicy:
    base_delay: float = 5.0  # the first retry waits up to this long; each one doubles it
    max_delay: float = HOUR  # ... up to this cap
    max_age: float = DAY  # after failing this long a delivery goes to the dead letters
    request_timeout: float = 10.0  # per HTTP attempt, connecting included
    concurrency: int = 4  # requests in flight per vendor per instance
    poll_interval: float = 0.5  # how often an idle vendor's outbox is looked at
    claim_idle: float = (
        60.0  # stream entries pending this long on a vanished instance are taken over
    )

    @property
    def lease(self) -> float:
        """How long a delivery being sent is hidden from other instances."""
        return self.request_timeout + 30.0


def backoff(policy: DeliveryPolicy, attempts: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempts`-th failure: "full jitter", uniform in
    [0, min(cap, base * 2^(attempts-1))], so retries of many deliveries spread out."""
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** min(attempts - 1, 60))
    uniform = rng.uniform if rng else random.uniform
    return uniform(0, ceiling)


def retry_after(value: str, now: float) -> float | None:
    """Seconds from `now` that a `Retry-After` header asks for (RFC 9110: delay-seconds or an
    HTTP-date), or None if it says nothing usable."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
