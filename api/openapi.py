"""The OpenAPI document says every answer an operation can give, including the ones FastAPI cannot see
from the route itself: a 400 for a malformed request (a body that is not JSON, a NUL in the URL:
api.request_guards), a 413 for a body past its cap (api.request_guards.BodyLimit), a 401/403 from
the credential dependencies, a 503 while Temporal is down, and the shape of our 422 (api.main's
handler answers `{"detail": {"message", "errors"}}`, not FastAPI's default list). A client
generated from /openapi.json, and the schemathesis run in the tests, hold the API to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.deps import (
    get_deliveries,
    get_goodwill,
    get_intake,
    get_order_actions,
    get_order_edits,
    require_member,
    require_metrics_reader,
    require_staff_or_channel,
    require_staff_session,
)

_PROBLEM = "Problem"
_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": _PROBLEM,
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "required": ["message"],
                    "properties": {
                        "message": {"type": "string"},
                        "refusal": {"type": "string"},
                        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
                    },
                },
            ],
            "description": "What went wrong: a sentence, or `message` with the refusal's kind or each field's error",
        }
    },
}
_VALIDATION_SCHEMA: dict[str, Any] = {
    "title": "HTTPValidationError",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {"type": "string", "description": "the first error, naming its field"},
                "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
                "refusal": {"type": "string"},
            },
        }
    },
}


_FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ValidationError",
    "type": "object",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string"},
        "type": {"type": "string"},
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{_PROBLEM}"}}},
    }


_ENGINE_AWAY = _problem("the workflow engine (Temporal) is unreachable; retry later (`Retry-After`)")
# What a dependency can answer, whichever route uses it.
_ANSWERS: dict[Callable[..., Any], dict[str, dict[str, Any]]] = {
    require_member: {
        "401": _problem("no valid staff token: a personal API token, or `OMS_ADMIN_TOKEN`"),
        "403": _problem(
            "a role without the permission this needs, a location that is not one of a warehouse user's, "
            "or a channel's API key, where only staff may act"
        ),
    },
    require_staff_or_channel: {
        "401": _problem("neither a staff token nor a channel's API key"),
        "403": _problem("a role that may not read orders, or a channel's key for another channel's order"),
    },
    require_staff_session: {
        "401": _problem("neither a staff token (OMS_ADMIN_TOKEN, a personal API token) nor a dashboard sign-in"),
        "403": _problem("a channel's API key, or a role that may not read payloads (it needs operations: admin)"),
    },
    require_metrics_reader: {
        "401": _problem("neither the metrics token (`OMS_METRICS_TOKEN`) nor a staff token"),
        "403": _problem("a role without the operations permission, or a channel's API key"),
    },
    get_intake: {"503": _ENGINE_AWAY},
    get_order_actions: {"503": _ENGINE_AWAY},
    get_deliveries: {"503": _ENGINE_AWAY},
    get_goodwill: {"503": _ENGINE_AWAY},
    get_order_edits: {"503": _ENGINE_AWAY},
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _operations(app: FastAPI) -> Iterator[tuple[str, set[str], APIRoute]]:
    """(path as documented, methods, route) of every API route, included routers' ones too."""
    contexts = getattr(routing, "iter_route_contexts", None)  # FastAPI >= 0.16x keeps routers included
    if contexts is None:
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path_format, set(route.methods or ()), route
        return
    for context in contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield context.path_format or route.path_format, set(context.methods or route.methods or ()), route


AUTHENTICATION = """
## Who may call what

Staff endpoints take `Authorization: Bearer <token>`: a person's own API token (`oms_pat_…`, made on
the admin's users screen, with a role and an optional expiry), or `OMS_ADMIN_TOKEN`, the bootstrap
admin (before any user exists, and for development). Each endpoint needs a permission its caller's
role must hold, or it answers 403:

- `admin`: everything, users and the audit list included;
- `support`: orders (read, release, cancel), returns and refunds, shipments and stock (read);
- `warehouse`: shipments, their steps and stock counts *at the locations assigned to them* (another
  location's shipment or stock is 403; a pick list without `location_id` holds their locations' only),
  and stock (read);
- `finance`: the books (journal and reconciliation), the KPIs, and orders (read).

`POST /orders` and `GET /orders/{order_id}` also take a sales channel's own key (that channel's orders
only). Every state-changing request by a staff member is kept on the audit list (`GET /audit`), and a
release, cancel, return, step confirmation or stock move records who made it (their e-mail, or
"admin token") on the order's timeline or the stock ledger when the body names nobody.
"""
"""Appended to the document's description: the roles and tokens every staff endpoint checks."""


def _document(app: FastAPI, schema: dict[str, Any]) -> None:
    info = schema.setdefault("info", {})
    info["description"] = (info.get("description") or "") + AUTHENTICATION
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[_PROBLEM] = _PROBLEM_SCHEMA
    components.setdefault("ValidationError", _FIELD_ERROR_SCHEMA)
    if "HTTPValidationError" in components:
        components["HTTPValidationError"] = _VALIDATION_SCHEMA
    paths = schema.get("paths", {})
    for path, methods, route in _operations(app):
        if not route.include_in_schema or path not in paths:
            continue
        calls = set(_calls(route.dependant))
        for method in methods:
            operation = paths[path].get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation or operation.get("parameters"):
                responses.setdefault(
                    "400", _problem("a malformed request: a body that is not JSON, or a NUL character in the URL")
                )
            if method.upper() in ("POST", "PUT", "PATCH"):
                responses.setdefault(
                    "413",
                    _problem("the body is past its cap (OMS_BODY_LIMIT; webhooks OMS_WEBHOOK_BODY_LIMIT)"),
                )
            for dependency, answers in _ANSWERS.items():
                if dependency in calls:
                    for code, answer in answers.items():
                        responses.setdefault(code, answer)


def document_common_responses(app: FastAPI) -> None:
    """Complete app's OpenAPI document (built once, on first request of /openapi.json)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _document(app, build())
        return build()  # FastAPI's, cached: the document completed above

    app.openapi = openapi  # type: ignore[method-assign]
