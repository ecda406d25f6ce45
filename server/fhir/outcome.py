"""FHIR answers: `application/fhir+json`, and errors as OperationOutcome.

The facade reuses the REST API's checks (the key, the vendor's clinics, the note's state),
which raise problem documents. `fhir_endpoint` answers those as OperationOutcome with the
same status, so one rule decides and the two dialects only differ in how they say it.
"""

from __future__ import annotations

import functools
import json

from aiohttp import web

from server.api.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from server.api.spec import Handler
from server.fhir import systems
from server.fhir.references import Resource
from server.responses import NO_STORE

CONTENT_TYPE = "application/fhir+json"

# HTTP status -> OperationOutcome.issue.code (http://hl7.org/fhir/issue-type)
_ISSUE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    410: "deleted",
    422: "invalid",
    429: "throttled",
}


def operation_outcome(status: int, code: str, detail: str) -> Resource:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": _ISSUE.get(status, "exception"),
                "details": {"coding": [{"system": systems.PROBLEM, "code": code}], "text": detail},
            }
        ],
    }


def fhir_response(
    resource: Resource, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        resource, status=status, content_type=CONTENT_TYPE, headers={**NO_STORE, **(headers or {})}
    )


def fhir_endpoint(handler: Handler) -> Handler:
    """Answer the problems `handler` raises as OperationOutcome, keeping their status and
    headers (WWW-Authenticate, Retry-After, Allow)."""

    @functools.wraps(handler)
    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.content_type != PROBLEM_CONTENT_TYPE or exc.text is None:
                raise
            problem = json.loads(exc.text)
            kept = {
                k: v
                for k, v in exc.headers.items()
                if k.lower().startswith(("www-", "retry", "allow"))
            }
            outcome = operation_outcome(exc.status, problem["code"], problem["detail"])
            return fhir_response(outcome, exc.status, kept)

    return answer
