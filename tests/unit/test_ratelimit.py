from __future__ import annotations

from server.signalling.ratelimit import TokenBucket


def test_burst_then_refused() -> None:
    bucket = TokenBucket(rate=1e-9, burst=3)
    assert [bucket.take() for _ in range(5)] == [True, True, True, False, False]


def test_refills_over_time() -> None:
    bucket = TokenBucket(rate=1e9, burst=2)
    assert all(bucket.take() for _ in range(50))
