"""Issue 15: "the OpenAPI document is looser than the server". Schemathesis generates requests
that the served document calls valid, for the operations whose rules the document states in
full, and a real server process must take every one: no 400 or 422 for a request the
document promises, and every answer as the document describes it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import requests
import schemathesis

from server.store.clinics import create_clinic
from server.store.vendors import create_vendor, issue_api_key
from tests.support.openapi import send_generated, served_operations, unthrottled_stack
from tests.support.stack import Stack

EXAMPLES = 150
# Every rule of these is in the document (patterns, limits, enums); absences also have rules
# relative to now and between fields, which tests/security/test_standards.py checks.
OPERATIONS = ["GET /api/v1/events", "PUT /api/v1/webhook"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with unthrottled_stack(tmp_path_factory.mktemp("openapi")) as deployment:
        yield deployment


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
    _, served = served_operations(base)
    operations = {label: served[label] for label in OPERATIONS if label in served}
    assert sorted(operations) == sorted(OPERATIONS)
    refused: list[tuple[str, object, int, str]] = []

    def no_refusal(case: schemathesis.Case, response: requests.Response) -> None:
        if response.status_code in (400, 422):
            refused.append((case.operation.label, case.query or case.body, response.status_code,
                            response.text[:300]))  # fmt: skip

    for operation in operations.values():
        send_generated(operation, base, key, EXAMPLES, no_refusal)
    assert refused == []
