"""Turning expected failures into clear 4xx/503 answers instead of 500s."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from pydantic import ValidationError


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


def temporal_unavailable() -> HTTPException:
    # 503 makes channels redeliver later: the order is not lost, only delayed.
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "the workflow engine is unavailable; retry later",
        headers={"Retry-After": "5"},
    )
