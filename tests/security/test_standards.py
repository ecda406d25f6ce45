"""Issue 15, "Standards, to the letter": what the official tools found, attacked the same way.

RFC 9110 (`Allow` on a 405), RFC 9457 (one problem format, one status per problem type), the
OpenAPI document against the server, and the FHIR base. Webhook conformance (410, secret
rotation, Retry-After) is in `test_webhook_standard.py`.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import Client
from tests.integration.served import Served, served_consultation
from tests.support.fhir import validated

FHIR_JSON = "application/fhir+json"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
async def lps(redis: object) -> Served:
    return await served_consultation(redis)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/webhook"),
        ("POST", "/api/v1/events"),
        ("PUT", "/api/v1/openapi.json"),
    ],
)
async def test_a_405_on_the_api_says_what_is_allowed(
    client: Client, lps: Served, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=lps.auth)
    assert response.status == 405
    assert response.content_type == PROBLEM_JSON
    assert (await response.json())["code"] == "method_not_allowed"
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert method not in allowed and "GET" in allowed


@pytest.mark.parametrize("path", ["/fhir/metadata", "/fhir/Appointment/{id}", "/fhir/Patient/1"])
async def test_a_405_on_fhir_says_what_is_allowed(client: Client, lps: Served, path: str) -> None:
    path = path.format(id=lps.consultation.id)
    response = await client.post(path, headers=lps.auth, json={"resourceType": "Appointment"})
    assert response.status == 405
    assert response.content_type == FHIR_JSON
    assert validated(await response.json(content_type=FHIR_JSON)).issue[0].code == "not-supported"
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"GET", "HEAD"}


@pytest.mark.parametrize("path", ["/fhir", "/fhir/"])
async def test_the_fhir_base_answers_an_operation_outcome(
    client: Client, lps: Served, path: str
) -> None:
    response = await client.get(path, headers=lps.auth, allow_redirects=False)
    assert response.status == 404
    assert response.content_type == FHIR_JSON
    outcome = validated(json.loads(await response.text()))
    assert outcome.get_resource_type() == "OperationOutcome"
    assert outcome.issue[0].code == "not-found"
