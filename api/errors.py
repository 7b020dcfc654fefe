"""Turning expected failures into clear 4xx/503 answers instead of 500s: the one place that says
which status code each kind of service refusal is."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from pydantic import ValidationError

from services.errors import Conflict, Failed, NotFound, ServiceError, Unavailable, Unprocessable


def unprocessable(message: str, errors: list[Any] | None = None) -> HTTPException:
    detail: dict[str, Any] = {"message": message}
    if errors:
        detail["errors"] = errors
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def from_validation_error(exc: ValidationError, what: str) -> HTTPException:
    errors = [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return unprocessable(f"{what}: {where}: {first['msg']}", errors)


def http_error(exc: ServiceError) -> HTTPException:
    """The answer to a service's refusal. A message alone is a plain `detail`; with facts (a
    refusal's kind, stock numbers) it is `{"message", ...facts}`, as a 422 always is."""
    detail: str | dict[str, Any] = {"message": exc.message, **exc.facts} if exc.facts else exc.message
    if isinstance(exc, NotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, detail)
    if isinstance(exc, Conflict):
        return HTTPException(status.HTTP_409_CONFLICT, detail)
    if isinstance(exc, Unprocessable):
        return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {"message": exc.message, **exc.facts})
    if isinstance(exc, Unavailable):
        return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail, headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, Failed):
        return HTTPException(status.HTTP_502_BAD_GATEWAY, detail)
    raise TypeError(f"no status code for {type(exc).__name__}") from exc
