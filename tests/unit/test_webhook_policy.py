"""Back-off with full jitter: doubling ceilings, capped, never negative."""

from __future__ import annotations

import random

from server.webhooks.policy import DeliveryPolicy, backoff


def test_the_ceiling_doubles_from_the_base_up_to_the_cap() -> None:
    policy = DeliveryPolicy(base_delay=5, max_delay=3600)
    for attempts, ceiling in [(1, 5), (2, 10), (3, 20), (10, 2560), (11, 3600), (500, 3600)]:
        delays = [backoff(policy, attempts, random.Random(seed)) for seed in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.9  # spread over the whole range: full jitter


def test_jitter_spreads_retries_of_the_same_attempt() -> None:
    rng = random.Random(7)
    delays = {round(backoff(DeliveryPolicy(), 4, rng), 3) for _ in range(50)}
    assert len(delays) > 40


def test_a_lease_outlasts_a_request() -> None:
    policy = DeliveryPolicy(request_timeout=10)
    assert policy.lease > policy.request_timeout
