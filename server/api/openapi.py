"""The OpenAPI 3.1 document, built from the operations' declarations (`server.api.spec`)
and the pydantic models that validate the requests and shape the responses."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from server.api.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from server.api.problems import Problem
from server.api.spec import COMMON_ERRORS, ApiRoutes, Operation

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{([^}/:]+)(?::[^}]*)?}")
_ERROR_TEXT = {
    400: "Malformed request",
    401: "Missing or invalid API key",
    403: "Not allowed for this key",
    404: "Not found (or not yours)",
    409: "Conflict",
    410: "Gone",
    422: "Invalid body or parameters",
    429: "Too many requests; see Retry-After",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _models(operations: list[Operation]) -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {"Problem": Problem}
    for op in operations:
        for model in (op.body, op.query, *op.responses.values()):
            if model is not None:
                found[model.__name__] = model
    return list(found.values())


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(op.path)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        for name, prop in schema.get("properties", {}).items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in schema.get("required", []),
                    "schema": prop,
                }
            )
    for header in op.headers:
        params.append(
            {"name": header, "in": "header", "required": False, "schema": {"type": "string"}}
        )
    return params


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, model in op.responses.items():
        body = {"content": {"application/json": {"schema": _ref(model)}}} if model else {}
        responses[str(status)] = {"description": "Success", **body}
    # A body that is not JSON is a 400 `malformed` wherever a body is read.
    malformed = (400,) if op.body is not None else ()
    common = COMMON_ERRORS if op.auth != "none" else (429,)
    errors = sorted({*op.errors, *common, *malformed})
    for status in errors:
        responses[str(status)] = {
            "description": _ERROR_TEXT.get(status, "Error"),
            "content": {PROBLEM_CONTENT_TYPE: {"schema": _ref(Problem)}},
        }
    document: dict[str, Any] = {
        "operationId": op.handler.__name__,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _parameters(op),
        "responses": responses,
    }
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    if op.auth != "none":
        document["security"] = [{f"{op.auth}Key": []}]
    return document


def openapi_document(groups: list[ApiRoutes], server_url: str) -> dict[str, Any]:
    operations = [op for group in groups for op in group.operations]
    _, schemas = models_json_schema(
        [(model, "validation") for model in _models(operations)], ref_template=REF
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "almenvideo API",
            "version": "1.0.0",
            "description": "Video consultations for Danish general practice: the LPS "
            "integration API (vendor keys) and the clinic directory export "
            "(organisation keys). Errors are RFC 9457 problem documents with a stable `code`.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "vendorKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "LPS vendor key (avk_…)",
                },
                "organisationKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Organisation key (avo_…) for the directory export",
                },
            },
        },
    }
