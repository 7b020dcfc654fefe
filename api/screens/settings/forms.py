"""What the settings forms share: who may use them, posted text turned into the values the API's
models take, and their refusals turned into a message per field."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import ValidationError

from api.screens.pages import SignedIn, screen
from domain.staff import Permission

Admin = Annotated[SignedIn, Depends(screen(Permission.SETTINGS))]

FORM_LEVEL = "_form"
"""The key of a message about the whole form rather than one field."""


def text(form: dict[str, str], name: str) -> str:
    return form.get(name, "").strip()


def whole_number(value: str) -> int | str | None:
    """A typed number as the API's models take it: blank is None, digits an int; anything else is
    passed on as typed, so the model refuses it with its own message."""
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value


def decimal(value: str) -> float | str | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return value


_FRIENDLY = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "missing": "required",
}


def field_errors(exc: ValidationError) -> dict[str, str]:
    """One message per field ("listings.bol" for a nested one), the first where a field has several."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or FORM_LEVEL
        message = _FRIENDLY.get(error["type"], error["msg"])
        if error["type"] == "string_too_short" and (error.get("ctx") or {}).get("min_length") == 1:
            message = "required"
        if where == "country" and error["type"].startswith("string_"):
            message = "two letters (ISO 3166-1 alpha-2), e.g. NL"
        errors.setdefault(where, message.removeprefix("Value error, "))
    return errors
