"""Returns on the dashboard: support's list and return page (approve, reject with a reason, cancel)
and the warehouse's returns desk (parcels expected at the person's locations, find a parcel by its
RMA as typed or scanned, receive it line by line with a condition, dispose of what came).

Every step goes to the return's workflow through services.returns, as the JSON API does, with the
person's label as who did it; a refusal is shown as the workflow words it, with its status code.
The desk works at the person's locations only (StaffMember.may_at for stock counts): a parcel still
expected may be received at any of them (it lands where it lands), a received one is disposed of
where it was received."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from api.deps import FloorDep, LabelsDep, ReturnScreensDep, ReturnsDep, SettingsDep
from api.screens.pages import (
    PAGE_SIZE,
    FlashQuery,
    FormToken,
    NotYours,
    SignedIn,
    SignedInDep,
    check_form,
    not_found,
    page,
    read_flash,
    redirect,
    screen,
    workflow_answer,
)
from contracts.return_lifecycle import (
    DisposeReturnRequest,
    DispositionLineInput,
    ReceivedLineInput,
    ReceiveReturnRequest,
    ReturnDecision,
    ReturnView,
)
from domain.return_lifecycle import Condition, Disposition, ReturnState, normalise_rma
from domain.staff import Permission
from services.errors import NotFound
from services.return_screens import ReturnPage

router = APIRouter(prefix="/dashboard", include_in_schema=False, default_response_class=HTMLResponse)

Support = Annotated[SignedIn, Depends(screen(Permission.RETURNS))]
Desk = Annotated[SignedIn, Depends(screen(Permission.STOCK_COUNT))]

FILTERS = (
    ("", "All"),
    (ReturnState.AWAITING_APPROVAL.value, "Awaiting approval"),
    (ReturnState.REQUESTED.value, "Requested"),
    (ReturnState.RECEIVED.value, "Received"),
    (ReturnState.DISPOSED.value, "Disposed"),
    (ReturnState.RESOLVED.value, "Resolved"),
    (ReturnState.EXPIRED.value, "Expired"),
    (ReturnState.REJECTED.value, "Rejected"),
    (ReturnState.CANCELLED.value, "Cancelled"),
)
EXPECTED = frozenset({ReturnState.REQUESTED.value, ReturnState.EXPIRED.value})
EXTRA_RECEIPT_ROWS = 1
"""Rows per SKU beyond the first on the receive form: units of one SKU in a second condition."""
MAX_LINES = 500


# -- support ---------------------------------------------------------------------------------


@router.get("/returns")
def returns_list(
    request: Request,
    user: Support,
    returns: ReturnsDep,
    settings: SettingsDep,
    state: Annotated[str, Query(max_length=40)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    flash_: FlashQuery = None,
) -> Response:
    if state and state not in {value for value, _ in FILTERS}:
        state = ""
    found, count = returns.page(state=state or None, limit=PAGE_SIZE, offset=offset)
    return page(
        request,
        "returns/list.html",
        user,
        returns=found,
        count=count,
        state=state,
        filters=FILTERS,
        offset=offset,
        limit=PAGE_SIZE,
        flash=read_flash(settings, flash_),
    )


def _support_page(request: Request, user: SignedIn, found: ReturnPage, *, code: int = 200, **context: Any) -> Response:
    return page(
        request,
        "returns/return.html",
        user,
        code=code,
        r=found.summary,
        p=found,
        **{"flash": None, "error": None} | context,
    )


@router.get("/returns/{return_id}")
def return_page(
    return_id: str,
    request: Request,
    user: Support,
    screens: ReturnScreensDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
) -> Response:
    try:
        found = screens.page(return_id)
    except NotFound:
        return not_found(request, user, f"return {return_id}")
    return _support_page(request, user, found, flash=read_flash(settings, flash_))


@router.post("/returns/{return_id}/{decision}")
async def decide(
    return_id: str,
    decision: str,
    request: Request,
    user: Support,
    returns: ReturnsDep,
    screens: ReturnScreensDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """approve, reject (with a reason) or cancel."""
    check_form(user, form_token)
    steps: dict[str, Callable[[str, ReturnDecision], Awaitable[ReturnView]]] = {
        "approve": returns.approve,
        "reject": returns.reject,
        "cancel": returns.cancel,
    }
    step = steps.get(decision)
    try:
        found = await asyncio.to_thread(screens.page, return_id)
    except NotFound:
        return not_found(request, user, f"return {return_id}")
    if step is None:
        return not_found(request, user, f"a step {decision}")
    words = " ".join(reason.split())
    if decision == "reject" and not words:
        return _support_page(
            request, user, found, code=422, error="say why it is rejected: the customer is told", reason=words
        )
    code, why = await workflow_answer(step(found.summary.return_id, ReturnDecision(user.member.label, words)))
    if code:
        return _support_page(
            request, user, await asyncio.to_thread(screens.page, return_id), code=code, error=why, reason=words
        )
    done = {"approve": "approved: the RMA is issued", "reject": "rejected", "cancel": "cancelled"}[decision]
    target = f"/dashboard/returns/{quote(found.summary.return_id, safe='')}"
    return redirect(target, settings, True, f"{found.summary.rma} {done}")


@router.get("/returns/{return_id}/label.pdf", response_class=Response)
def label_pdf(return_id: str, request: Request, user: SignedInDep, labels: LabelsDep) -> Response:
    """The return label for support (to send on) and the desk (to check a parcel against)."""
    if not (user.may(Permission.RETURNS) or user.may(Permission.STOCK_COUNT)):
        raise NotYours(f"your role ({user.member.role}) may not see return labels", user=user, needs=Permission.RETURNS)
    try:
        label = labels.return_label_document(return_id)
    except NotFound:
        return not_found(request, user, f"a return label for {return_id}")
    headers = {"Content-Disposition": f'inline; filename="{label.filename}"', "Cache-Control": "no-store"}
    return Response(label.content, media_type=label.media_type, headers=headers)


# -- the returns desk ------------------------------------------------------------------------


def _my_places(user: SignedIn, floor: FloorDep) -> list[str]:
    every = [place.location_id for place in floor.locations()]
    return user.member.locations_for(Permission.STOCK_COUNT, every)


def _may_see(user: SignedIn, found: ReturnPage) -> None:
    """A parcel still expected: any desk (it lands where it lands); else where it was received, or
    where its goods left from."""
    summary = found.summary
    if summary.state in EXPECTED:
        return
    places = [summary.location_id] if summary.location_id else found.shipped_from
    if not any(user.member.may_at(Permission.STOCK_COUNT, place) for place in places):
        raise NotYours(f"return {summary.rma} is not handled at a location of yours", user=user)


def _desk_page(
    request: Request, user: SignedIn, found: ReturnPage, places: list[str], *, code: int = 200, **context: Any
) -> Response:
    summary = found.summary
    may_dispose = (
        summary.state == ReturnState.RECEIVED.value
        and summary.location_id is not None
        and user.member.may_at(Permission.STOCK_COUNT, summary.location_id)
    )
    return page(
        request,
        "returns/desk_return.html",
        user,
        code=code,
        r=summary,
        p=found,
        places=places,
        may_receive=summary.state in EXPECTED and bool(places),
        may_dispose=may_dispose,
        conditions=list(Condition),
        dispositions=list(Disposition),
        extra_rows=range(EXTRA_RECEIPT_ROWS),
        **{"flash": None, "error": None, "typed": None} | context,
    )


def _desk_list(
    request: Request,
    user: SignedIn,
    floor: FloorDep,
    screens: ReturnScreensDep,
    *,
    code: int = 200,
    typed: str = "",
    error: str | None = None,
    flash: dict[str, Any] | None = None,
) -> Response:
    """The desk's front page: parcels expected at the person's locations and returns to dispose of."""
    places = _my_places(user, floor)
    expected, to_dispose = screens.desk(places)
    return page(
        request,
        "returns/desk.html",
        user,
        code=code,
        places=places,
        expected=expected,
        to_dispose=to_dispose,
        typed=typed,
        error=error,
        flash=flash,
    )


@router.get("/returns-desk")
def desk(
    request: Request,
    user: Desk,
    floor: FloorDep,
    screens: ReturnScreensDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
) -> Response:
    return _desk_list(request, user, floor, screens, flash=read_flash(settings, flash_))


@router.post("/returns-desk/find")
def find_by_rma(
    request: Request,
    user: Desk,
    floor: FloorDep,
    screens: ReturnScreensDep,
    form_token: FormToken = "",
    rma: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The RMA as typed or scanned from the parcel (domain.return_lifecycle.normalise_rma)."""
    check_form(user, form_token)
    wanted = normalise_rma(rma)
    if wanted is not None:
        try:
            found = screens.page(wanted)
        except NotFound:
            pass
        else:
            return redirect(f"/dashboard/returns-desk/{quote(found.summary.return_id, safe='')}")
    problem = f"no return {wanted}" if wanted else "that is not an RMA (it reads like RMA-7K3QX-9PDM2-1)"
    code = status.HTTP_404_NOT_FOUND if wanted else status.HTTP_422_UNPROCESSABLE_CONTENT
    return _desk_list(request, user, floor, screens, code=code, typed=rma, error=problem)


@router.get("/returns-desk/{return_id}")
def desk_return(
    return_id: str,
    request: Request,
    user: Desk,
    floor: FloorDep,
    screens: ReturnScreensDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
) -> Response:
    try:
        found = screens.page(return_id)
    except NotFound:
        return not_found(request, user, f"return {return_id}")
    _may_see(user, found)
    return _desk_page(request, user, found, _my_places(user, floor), flash=read_flash(settings, flash_))


def _desk_here(return_id: str) -> str:
    return f"/dashboard/returns-desk/{quote(return_id, safe='')}"


@router.post("/returns-desk/{return_id}/receive")
async def receive(
    return_id: str,
    request: Request,
    user: Desk,
    floor: FloorDep,
    returns: ReturnsDep,
    screens: ReturnScreensDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    location_id: Annotated[str, Form(max_length=64)] = "",
    sku: Annotated[list[str] | None, Form(max_length=MAX_LINES)] = None,
    quantity: Annotated[list[str] | None, Form(max_length=MAX_LINES)] = None,
    condition: Annotated[list[str] | None, Form(max_length=MAX_LINES)] = None,
) -> Response:
    """Per announced line the units in the parcel and their condition (rows of 0 are left out; an
    SKU with nothing counted is recorded as short)."""
    check_form(user, form_token)
    try:
        found = await asyncio.to_thread(screens.page, return_id)
    except NotFound:
        return not_found(request, user, f"return {return_id}")
    _may_see(user, found)
    places = await asyncio.to_thread(_my_places, user, floor)
    if location_id not in places:
        raise NotYours(f"you do not receive returns at {location_id or 'that location'}", user=user)
    rows = list(zip(sku or [], quantity or [], condition or [], strict=False))
    lines, problem = _received_lines(rows, found.summary.lines)
    typed = {"location_id": location_id, "rows": rows}
    if problem:
        return _desk_page(request, user, found, places, code=422, error=problem, typed=typed)
    receipt = ReceiveReturnRequest(location_id, lines, user.member.label)
    code, why = await workflow_answer(returns.receive(found.summary.return_id, receipt))
    if code:
        return _desk_page(
            request, user, await asyncio.to_thread(screens.page, return_id), places, code=code, error=why, typed=typed
        )
    return redirect(
        _desk_here(found.summary.return_id), settings, True, f"{found.summary.rma} received at {location_id}"
    )


def _received_lines(rows: list[tuple[str, str, str]], announced: dict[str, int]) -> tuple[list[ReceivedLineInput], str]:
    lines: list[ReceivedLineInput] = []
    conditions = {c.value for c in Condition}
    for sku, typed, condition in rows:
        text = typed.strip() or "0"
        if not (text.isascii() and text.isdigit() and len(text) <= 6):
            return [], f"{sku}: a whole number of units, 0 or more"
        if condition not in conditions:
            return [], f"{sku}: choose a condition"
        if int(text) > 0:
            lines.append(ReceivedLineInput(sku, int(text), condition))
    for sku in announced:  # an announced SKU with nothing in the parcel: counted as 0 (short)
        if not any(line.sku == sku for line in lines):
            lines.append(ReceivedLineInput(sku, 0, Condition.AS_NEW.value))
    return lines, ""


@router.post("/returns-desk/{return_id}/dispose")
async def dispose(
    return_id: str,
    request: Request,
    user: Desk,
    floor: FloorDep,
    returns: ReturnsDep,
    screens: ReturnScreensDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    sku: Annotated[list[str] | None, Form(max_length=MAX_LINES)] = None,
    quantity: Annotated[list[str] | None, Form(max_length=MAX_LINES)] = None,
    disposition: Annotated[list[str] | None, Form(max_length=MAX_LINES)] = None,
    reason: Annotated[list[str] | None, Form(max_length=MAX_LINES)] = None,
) -> Response:
    """Each unit received gets a disposition (the form starts from the suggested ones); a scrap needs its reason."""
    check_form(user, form_token)
    try:
        found = await asyncio.to_thread(screens.page, return_id)
    except NotFound:
        return not_found(request, user, f"return {return_id}")
    where = found.summary.location_id
    if where is None or not user.member.may_at(Permission.STOCK_COUNT, where):
        raise NotYours(f"return {found.summary.rma} was not received at a location of yours", user=user)
    places = await asyncio.to_thread(_my_places, user, floor)
    rows = list(zip(sku or [], quantity or [], disposition or [], reason or [], strict=False))
    lines: list[DispositionLineInput] = []
    kinds = {d.value for d in Disposition}
    for each_sku, typed, kind, why in rows:
        text = typed.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 6) or kind not in kinds:
            problem = f"{each_sku}: a whole number of units and a disposition"
            return _desk_page(request, user, found, places, code=422, error=problem, typed={"dispose": rows})
        if int(text) > 0:
            lines.append(DispositionLineInput(each_sku, int(text), kind, " ".join(why.split())[:200]))
    if not lines:
        return _desk_page(
            request, user, found, places, code=422, error="nothing to dispose of", typed={"dispose": rows}
        )
    code, why = await workflow_answer(
        returns.dispose(found.summary.return_id, DisposeReturnRequest(lines, user.member.label))
    )
    if code:
        return _desk_page(
            request,
            user,
            await asyncio.to_thread(screens.page, return_id),
            places,
            code=code,
            error=why,
            typed={"dispose": rows},
        )
    return redirect(_desk_here(found.summary.return_id), settings, True, f"{found.summary.rma} disposed of and settled")
