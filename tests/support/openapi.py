"""Schemathesis against a real server process's served OpenAPI document: the server (not
throttled), the document's operations, and generated requests sent to one of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Err

from tests.support.stack import Stack

# Never a 5xx, and every answer as the document describes it.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@contextmanager
def unthrottled_stack(folder: Path) -> Iterator[Stack]:
    """One server process whose API rate limit lets a fuzzer send as fast as it can."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALMENVIDEO_API_RATE", "1000000")
        deployment = Stack(folder, instances=1)
        deployment.start()
    try:
        yield deployment
    finally:
        deployment.stop()


def served_operations(base: str) -> tuple[dict[str, object], dict[str, schemathesis.APIOperation]]:
    """The served document, and each of its operations by label ("GET /api/v1/events")."""
    document = requests.get(f"{base}/api/v1/openapi.json", timeout=10).json()
    operations = {}
    for result in schemathesis.openapi.from_dict(document).get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations[result.ok().label] = result.ok()
    return document, operations


def send_generated(
    operation: schemathesis.APIOperation,
    base: str,
    key: str,
    examples: int,
    seen: Callable[[schemathesis.Case, requests.Response], None] = lambda case, response: None,
) -> int:
    """Send up to `examples` generated requests to one operation with the key, checking
    each answer with CHECKS and handing it to `seen`; returns how many were sent."""
    session = requests.Session()
    sent = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples, deadline=None, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    def check(case: schemathesis.Case) -> None:
        nonlocal sent
        response = case.call(
            base_url=base, session=session, headers={"Authorization": f"Bearer {key}"}
        )
        sent += 1
        case.validate_response(response, checks=CHECKS)
        seen(case, response)

    check()
    return sent
