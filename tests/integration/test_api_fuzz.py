"""Schemathesis against the served OpenAPI document of a real server process: generated
requests to every operation must never get a 5xx, nor an answer that breaks the document
(status code, content type or body schema)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from server.store.clinics import create_clinic
from server.store.organisations import create_organisation, issue_organisation_key
from server.store.users import create_user
from server.store.vendors import create_vendor, issue_api_key
from tests.support.openapi import send_generated, served_operations, unthrottled_stack
from tests.support.stack import Stack

EXAMPLES_PER_OPERATION = 120
# Registering random public webhook URLs would make the server call out to them; the
# operation is covered by its own contract tests (tests/integration/test_webhooks.py).
SKIPPED = {"PUT /api/v1/webhook"}
MIN_REQUESTS = 1000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with unthrottled_stack(tmp_path_factory.mktemp("fuzz")) as deployment:
        yield deployment


async def _keys(stack: Stack) -> tuple[str, str]:
    """A clinic served by a vendor, a GP, and a municipality: (vendor key, organisation key)."""
    async with stack.client() as redis:
        clinic = await create_clinic(redis, "Lægehuset Fuzz", "123456")
        await create_user(redis, "fuzz-gp", "rugbrød-og-kaffe-42", "Dr. Fuzz", "gp", clinic.id)
        vendor = await create_vendor(redis, "Fuzz LPS", [clinic.id])
        org = await create_organisation(redis, "Fuzz Kommune", "999")
        return await issue_api_key(redis, vendor.id), await issue_organisation_key(redis, org.id)


def test_generated_requests_never_break_the_server_or_the_document(stack: Stack) -> None:
    vendor_key, org_key = asyncio.run(_keys(stack))
    base = stack.urls[0]
    document, operations = served_operations(base)
    sent = {}
    for label, operation in operations.items():
        if label in SKIPPED:
            continue
        key = org_key if operation.path.startswith("/api/v1/directory") else vendor_key
        sent[label] = send_generated(operation, base, key, EXAMPLES_PER_OPERATION)
    print(f"schemathesis: {sum(sent.values())} requests over {len(sent)} operations")
    assert len(sent) + len(SKIPPED) == sum(len(ops) for ops in document["paths"].values())
    assert sum(sent.values()) >= MIN_REQUESTS, sent
