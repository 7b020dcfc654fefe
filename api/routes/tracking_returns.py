"""The customer's own return, from the tracking page (services.self_service_returns): the form, the
request, the page with its RMA, and the return label. No credential: the signed tracking link is
the credential, as for the page itself (api.routes.tracking, whose safety headers these pages keep,
with one change: the form may post back to us)."""

from __future__ import annotations

import asyncio
from math import ceil
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from api.deps import SelfServiceReturnsDep
from api.routes.tracking import HEADERS, TEMPLATES
from domain.returns import ReturnReason
from services.errors import Conflict, Failed, NotFound, Unprocessable
from services.gateway import EngineUnavailable
from services.self_service_returns import (
    NOTE_LENGTH,
    CustomerReturnForm,
    FormExpired,
    FormRefused,
    SelfServiceReturns,
    TooManyTries,
)
from services.tracking import TRACK_PATH

router = APIRouter(prefix=TRACK_PATH, tags=["tracking"])

FORM_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": HEADERS["Content-Security-Policy"].replace("form-action 'none'", "form-action 'self'"),
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "the link does not verify, or names no order (or return) we have"}
}


def _whole(typed: str) -> bool:
    """A count as typed: plain digits (not a superscript or another script's digit, which isdigit also takes)."""
    text = typed.strip()
    return text.isascii() and text.isdigit() and len(text) <= 6


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _form(
    request: Request,
    token: str,
    returns: SelfServiceReturns,
    form: CustomerReturnForm,
    *,
    code: int = status.HTTP_200_OK,
    typed: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    context = {
        "form": form,
        "token": token,
        "form_token": returns.form_token(token),
        "reasons": list(ReturnReason),
        "typed": typed or {"quantities": {}, "reason": "", "note": ""},
        "errors": errors or {},
        "note_length": NOTE_LENGTH,
    }
    return TEMPLATES.TemplateResponse(
        request, "tracking_return.html", context, status_code=code, headers={**FORM_HEADERS, **(headers or {})}
    )


def _not_found(request: Request) -> Response:
    return TEMPLATES.TemplateResponse(
        request, "tracking.html", {"view": None}, status_code=status.HTTP_404_NOT_FOUND, headers=HEADERS
    )


@router.get("/{token}/return", response_class=HTMLResponse, responses=_NOT_FOUND)
def return_form(token: str, request: Request, returns: SelfServiceReturnsDep) -> Response:
    """The customer's return form: what may still come back, a reason and a note."""
    try:
        form = returns.form(token)
    except NotFound:
        return _not_found(request)
    return _form(request, token, returns, form)


@router.post(
    "/{token}/return",
    response_class=HTMLResponse,
    status_code=status.HTTP_303_SEE_OTHER,
    responses={
        303: {"description": "asked: on to the return's page (its RMA, what comes next)"},
        403: {"description": "the form's token is not this link's or has expired: reload the form"},
        409: {"description": "the returns window is closed (or nothing can come back)"},
        422: {"description": "quantities or reason that cannot be taken (the form again, with why)"},
        429: {"description": "too many requests from this link or this address (Retry-After)"},
        **_NOT_FOUND,
    },
)
async def ask_for_return(
    token: str,
    request: Request,
    returns: SelfServiceReturnsDep,
    form_token: Annotated[str, Form(max_length=500)] = "",
    sku: Annotated[list[str] | None, Form(max_length=500)] = None,
    quantity: Annotated[list[str] | None, Form(max_length=500)] = None,
    reason: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The customer asks for a return: it waits for support's approval (or is approved at once when
    OMS_RETURN_AUTO_APPROVE is on); the answer is the return's page with its RMA."""
    typed_quantities = dict(zip(sku or [], quantity or [], strict=False))
    typed = {"quantities": typed_quantities, "reason": reason, "note": note}
    units = {s: int(q) for s, q in typed_quantities.items() if _whole(q)}
    bad = {s: "a whole number, 0 or more" for s, q in typed_quantities.items() if s not in units and q.strip()}
    try:
        if bad:
            form = await asyncio.to_thread(returns.form, token)
            return _form(request, token, returns, form, code=422, typed=typed, errors=bad)
        rma = await returns.ask(token, _address(request), form_token, units, reason, note)
    except TooManyTries as exc:
        wait = str(max(1, ceil(exc.wait.total_seconds())))
        return await _refused_page(request, token, returns, typed, 429, {"": exc.message}, {"Retry-After": wait})
    except NotFound:
        return _not_found(request)
    except FormExpired as exc:
        return await _refused_page(request, token, returns, typed, 403, {"": exc.message})
    except FormRefused as exc:
        return await _refused_page(request, token, returns, typed, 422, exc.errors)
    except (Conflict, Unprocessable) as exc:
        code = 409 if isinstance(exc, Conflict) else 422
        return await _refused_page(request, token, returns, typed, code, {"": exc.message})
    except (EngineUnavailable, Failed):
        words = "We could not take your request just now. Please try again in a few minutes."
        return await _refused_page(request, token, returns, typed, 503, {"": words}, {"Retry-After": "30"})
    return RedirectResponse(
        f"{TRACK_PATH}/{quote(token, safe='')}/returns/{quote(rma, safe='')}",
        status.HTTP_303_SEE_OTHER,
        headers=HEADERS,
    )


async def _refused_page(
    request: Request,
    token: str,
    returns: SelfServiceReturns,
    typed: dict[str, Any],
    code: int,
    errors: dict[str, str],
    headers: dict[str, str] | None = None,
) -> Response:
    try:
        form = await asyncio.to_thread(returns.form, token)
    except NotFound:
        return _not_found(request)
    return _form(request, token, returns, form, code=code, typed=typed, errors=errors, headers=headers)


@router.get("/{token}/returns/{rma}", response_class=HTMLResponse, responses=_NOT_FOUND)
def asked_return(token: str, rma: str, request: Request, returns: SelfServiceReturnsDep) -> Response:
    """A return of the link's order: its RMA, where it stands, what to do next, the label when ready."""
    try:
        asked = returns.asked(token, rma)
    except NotFound:
        return _not_found(request)
    return TEMPLATES.TemplateResponse(
        request, "tracking_return_done.html", {"ret": asked, "token": token}, headers=HEADERS
    )


@router.get(
    "/{token}/returns/{rma}/label",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the return label (PDF)"}, **_NOT_FOUND},
)
def return_label(token: str, rma: str, returns: SelfServiceReturnsDep) -> Response:
    """The return label of a return of the link's order, authorised by the link alone."""
    try:
        content, media_type = returns.label(token, rma)
    except NotFound:
        return Response("no label for this return", status_code=404, media_type="text/plain", headers=HEADERS)
    return Response(
        content,
        media_type=media_type,
        headers={**HEADERS, "Content-Disposition": 'inline; filename="return-label.pdf"'},
    )
