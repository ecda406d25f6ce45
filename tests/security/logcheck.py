"""What every attack here checks besides the answer: the server logged no traceback."""

from __future__ import annotations

import logging

import pytest


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing logged an exception or an error: no handler raised."""
    raised = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not raised, [r.getMessage() for r in raised]
