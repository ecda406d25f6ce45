"""Issue 15: "the OpenAPI document is looser than the server". Schemathesis generates requests
that the served document calls valid, for the operations whose rules the document states in
full, and a real server process must take every one: no 400 or 422 for a request the
document promises, and every answer as the document describes it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
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

from server.store.clinics import create_clinic
from server.store.vendors import create_vendor, issue_api_key
from tests.support.stack import Stack

EXAMPLES = 150
# Every rule of these is in the document (patterns, limits, enums); absences also have rules
# relative to now and between fields, which tests/security/test_standards.py checks.
OPERATIONS = ["GET /api/v1/events", "PUT /api/v1/webhook"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALMENVIDEO_API_RATE", "1000000")
        deployment = Stack(Path(tmp_path_factory.mktemp("openapi")), instances=1)
        deployment.start()
    yield deployment
    deployment.stop()


async def _key(stack: Stack) -> str:
    """A vendor serving no clinic: the webhooks it registers never receive anything, so
    the generated URLs are never called."""
    async with stack.client() as redis:
        await create_clinic(redis, "Lægehuset Skema", "123456")
        vendor = await create_vendor(redis, "Skema LPS", [])
        return await issue_api_key(redis, vendor.id)


def test_what_the_document_calls_valid_the_server_accepts(stack: Stack) -> None:
    key = asyncio.run(_key(stack))
    base = stack.urls[0]
    document = requests.get(f"{base}/api/v1/openapi.json", timeout=10).json()
    operations = {}
    for result in schemathesis.openapi.from_dict(document).get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        if result.ok().label in OPERATIONS:
            operations[result.ok().label] = result.ok()
    assert sorted(operations) == sorted(OPERATIONS)
    session = requests.Session()
    refused: list[tuple[str, object, int, str]] = []
    for operation in operations.values():

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, database=None,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        def check(case: schemathesis.Case) -> None:
            response = case.call(
                base_url=base, session=session, headers={"Authorization": f"Bearer {key}"}
            )
            case.validate_response(response, checks=CHECKS)
            if response.status_code in (400, 422):
                refused.append((case.operation.label, case.query or case.body, response.status_code,
                                response.text[:300]))  # fmt: skip

        check()
    assert refused == []
