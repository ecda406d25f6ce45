"""Issue 15, "Standards, to the letter": what the official tools found, attacked the same way.

RFC 9110 (`Allow` on a 405), RFC 9457 (one problem format, one status per problem type), the
OpenAPI document against the server, and the FHIR base. Webhook conformance (410, secret
rotation, Retry-After) is in `test_webhook_standard.py`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from aiohttp import ClientResponse

import server
from server.pages.patient import TERMS_VERSION
from server.store.connection import Redis
from tests.integration.helpers import GP_PASSWORD, Client, book
from tests.integration.served import Served, served_consultation
from tests.support.fhir import validated

FHIR_JSON = "application/fhir+json"
PROBLEM_JSON = "application/problem+json"
JSON = {"Content-Type": "application/json"}
EVIL = {"Origin": "https://evil.example"}


@pytest.fixture
async def lps(redis: Redis) -> Served:
    return await served_consultation(redis)


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


# One problem format (RFC 9457) for every JSON error, one status per problem type.

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code"}


async def problem_of(response: ClientResponse) -> tuple[int, str]:
    """Check the answer is a problem document, consistent with itself; (status, code)."""
    assert response.content_type == PROBLEM_JSON, await response.text()
    body = await response.json(content_type=PROBLEM_JSON)
    assert body.keys() >= PROBLEM_MEMBERS
    assert body["status"] == response.status
    assert body["type"].endswith("/" + body["code"])
    return response.status, body["code"]


async def test_the_patients_json_endpoints_answer_problems(client: Client, redis: Redis) -> None:
    b = await book(redis)
    join = f"/j/{b.link}/join"
    malformed = await client.post(join, data="{not json", headers=JSON)
    assert await problem_of(malformed) == (400, "malformed")
    cross_site = await client.post(
        join, json={"name": "Karen", "accepted_terms": TERMS_VERSION}, headers=EVIL
    )
    assert await problem_of(cross_site) == (403, "bad_origin")
    dead = await client.post(
        "/j/no-such-link/join", json={"name": "Karen", "accepted_terms": TERMS_VERSION}
    )
    assert await problem_of(dead) == (404, "link_unknown")


async def test_unknown_routes_answer_problems(client: Client) -> None:
    for method, path in [("POST", "/no/such/thing"), ("GET", "/api/v1/nothing"), ("GET", "/ws/x")]:
        response = await client.request(method, path)
        assert await problem_of(response) == (404, "not_found")


async def test_a_cross_site_websocket_is_refused_as_bad_origin(client: Client) -> None:
    """It was rebuilt by the error middleware as `forbidden`, losing the code."""
    response = await client.get(
        "/ws", headers={**EVIL, "Connection": "Upgrade", "Upgrade": "websocket",
                        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZQ=="},
    )  # fmt: skip
    assert await problem_of(response) == (403, "bad_origin")


async def test_a_cross_site_console_post_is_bad_origin_too(client: Client, redis: Redis) -> None:
    b = await book(redis)
    form = {"username": b.gp.username, "password": GP_PASSWORD}
    assert (await client.post("/login", data=form, allow_redirects=False)).status == 303
    response = await client.post(
        f"/console/consultations/{b.consultation.id}/invitations", json={}, headers=EVIL
    )
    assert await problem_of(response) == (403, "bad_origin")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/webhook"),
        ("POST", "/api/v1/clinics/{ydernummer}/absences"),
        ("POST", "/api/v1/consultations"),
        ("PATCH", "/api/v1/consultations/{id}"),
        ("POST", "/api/v1/consultations/{id}/embed-session"),
    ],
)
async def test_a_body_that_is_not_json_is_400_malformed_everywhere(
    client: Client, lps: Served, method: str, path: str
) -> None:
    path = path.format(ydernummer=lps.clinic.ydernummer, id=lps.consultation.id)
    response = await client.request(method, path, data=b'{"url":', headers={**lps.auth, **JSON})
    assert await problem_of(response) == (400, "malformed")


async def test_an_unknown_clinic_is_404_by_path_and_a_field_error_in_a_body(
    client: Client, lps: Served
) -> None:
    by_path = await client.get("/api/v1/clinics/000000/absences", headers=lps.auth)
    assert await problem_of(by_path) == (404, "unknown_clinic")
    booking = {
        "external_id": "lps-77", "clinic": "000000", "practitioner": lps.gp.username,
        "patient": {"reference": "pt-77", "display_name": "Karen Jensen"}, "kind": "video",
        "scheduled_start": "2030-01-07T10:00:00+01:00", "duration_minutes": 15,
    }  # fmt: skip
    in_body = await client.post("/api/v1/consultations", json=booking, headers=lps.auth)
    assert await problem_of(in_body) == (422, "invalid_body")
    errors = (await in_body.json(content_type=PROBLEM_JSON))["errors"]
    assert {"field": "clinic", "code": "unknown_clinic"} in [
        {"field": e["field"], "code": e["code"]} for e in errors
    ]


_RAISED = re.compile(r"""(?:problem|json_error)\(\s*(\d{3}),\s*f?["']([a-z_]+)["']""")


def test_each_problem_code_has_one_status() -> None:
    """Every code the server raises with a literal status, read from its source."""
    statuses: dict[str, set[int]] = defaultdict(set)
    for path in Path(server.__file__).parent.rglob("*.py"):
        for status, code in _RAISED.findall(path.read_text()):
            statuses[code].add(int(status))
    assert len(statuses) > 30
    assert {code: found for code, found in statuses.items() if len(found) > 1} == {}


# The OpenAPI document says exactly what the server accepts.

CURSORS = [
    "0-0",
    "1718000000000-0",
    "00000000000000000001-0",
    "9999999999999999999-9999999999999999999",
    "18446744073709551614-18446744073709551615",
    "18446744073709551615-18446744073709551615",
    "18446744073709551616-0",
    "99999999999999999999-0",
    "0-18446744073709551616",
    "123456789012345678901-0",
    "1-",
    "-1",
    "1-1-1",
    "1-1\n",
    "١-١",
]

WEBHOOK_URLS = [
    "https://lps.example.dk/hooks/almenvideo",
    "https://lps.example.dk:8443/h?tenant=4",
    "https://a.b/c#d",
    "https://LPS.Example.DK:65535/x",
    "https://lps.example.dk:65536/x",
    "https://lps.example.dk:0/x",
    "https://-lps.example.dk/x",
    "https://lps.example.dk/æ",
    "https://lps.example.dk/a b",
    "https://lps.example.dk\\@evil.example/",
    "https://user@lps.example.dk/",
    "http://lps.example.dk/hook",
    "https://0x7f000001:8443/hook",
    "https://2130706433/",
    "https://0xa9fea9fe/",
    "https://193.163.7.10/hook",
    "https://[2001:db8::1]/hook",
    "https://localhost/hook",
    "http://127.0.0.1:9000/hook",
    "https://lps.example.dk/" + "a" * 1978,
    "https://lps.example.dk/" + "a" * 1977,
]


async def document(client: Client) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    found: dict[str, Any] = await response.json()
    return found


def resolved(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with the document's components beside it, for its `$ref`s."""
    return {**schema, "components": doc["components"]}


async def test_events_take_exactly_the_cursors_the_document_describes(
    client: Client, lps: Served
) -> None:
    """Values matching the documented pattern got 422 (it allowed any 20 digits)."""
    doc = await document(client)
    [after] = [
        p for p in doc["paths"]["/api/v1/events"]["get"]["parameters"] if p["name"] == "after"
    ]
    documented = jsonschema_rs.validator_for(after["schema"])
    for cursor in CURSORS:
        response = await client.get("/api/v1/events", params={"after": cursor}, headers=lps.auth)
        assert response.status in (200, 422), (cursor, await response.text())
        assert (response.status == 200) == documented.is_valid(cursor), cursor


async def test_the_webhook_url_rule_is_in_the_document(client: Client, lps: Served) -> None:
    doc = await document(client)
    webhook_in = resolved(doc, {"$ref": "#/components/schemas/WebhookIn"})
    documented = jsonschema_rs.validator_for(webhook_in)
    for url in WEBHOOK_URLS:
        response = await client.put("/api/v1/webhook", json={"url": url}, headers=lps.auth)
        assert response.status in (200, 422), (url, await response.text())
        assert (response.status == 200) == documented.is_valid({"url": url}), url


async def test_absences_kinds_and_period_rules_are_in_the_document(
    client: Client, lps: Served
) -> None:
    doc = await document(client)
    absence = doc["components"]["schemas"]["AbsenceBody"]
    kinds = absence["properties"]["kind"]["enum"]
    assert kinds and "vacation" not in kinds
    path = f"/api/v1/clinics/{lps.clinic.ydernummer}/absences"
    start = datetime.now(UTC) + timedelta(days=1)

    def body(kind: str, days: float = 1) -> dict[str, Any]:
        return {
            "kind": kind, "start": start.isoformat(),
            "end": (start + timedelta(days=days)).isoformat(),
            "substitute": {"name": "Lægerne i Brabrand", "phone": "+45 86 15 00 00"},
        }  # fmt: skip

    documented = jsonschema_rs.validator_for(
        resolved(doc, {"$ref": "#/components/schemas/AbsenceBody"})
    )
    for kind in [*kinds, "vacation"]:
        assert documented.is_valid(body(kind)) == (kind in kinds)
        response = await client.post(path, json=body(kind), headers=lps.auth)
        assert response.status == (201 if kind in kinds else 422), kind

    # What no schema keyword can say is stated as a rule, with the code the server answers.
    rules = {rule["code"] for rule in absence["x-rules"]}
    for days, code in [(-0.5, "absence_order"), (400, "absence_long")]:
        assert documented.is_valid(body("holiday", days))
        response = await client.post(path, json=body("holiday", days), headers=lps.auth)
        assert await problem_of(response) == (422, "invalid_body")
        errors = (await response.json(content_type=PROBLEM_JSON))["errors"]
        assert [e["code"] for e in errors] == [code] and code in rules
