"""Support: find an order by number, channel id, e-mail or postcode; create a return and see its refund.

The search is posted, not put in the address: an e-mail or a postcode in a URL would end up in
access logs, proxies and the browser's history. One match goes straight to the order's page.

A return's form shows per SKU what may still come back, previews the refund with the same rule the
return uses (services.returns.ReturnOptions.refund), and asks the order's workflow, which checks
again (what left, what open returns claim, the returns window) and opens the return: an RMA for the
customer's parcel, or, when the goods are at the desk, taken in and refunded at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import order_view
from api.deps import GoodwillDep, OrderViewsDep, ReturnsDep, SettingsDep
from api.screens.pages import FormToken, SignedIn, check_form, not_found, page, redirect, screen
from contracts.returns import ReplacementLine, ReturnRequest, ReturnRequestLine
from domain import limits
from domain.goodwill import GoodwillForm
from domain.money import Money, MoneyError
from domain.return_lifecycle import Resolution, ReturnState
from domain.returns import ReturnReason, reason_text
from domain.staff import Permission
from services.errors import Conflict, Failed, NotFound, Unprocessable
from services.gateway import EngineUnavailable
from services.returns import ReturnOptions

router = APIRouter(prefix="/dashboard", include_in_schema=False, default_response_class=HTMLResponse)

Looking = Annotated[SignedIn, Depends(screen(Permission.ORDERS_VIEW))]
Returning = Annotated[SignedIn, Depends(screen(Permission.RETURNS))]

RESULTS = 50
"""Most matches listed (a postcode can have many orders): more says to narrow the search."""
QUERY_LENGTH = 400


@router.get("/support")
def search_form(request: Request, user: Looking) -> Response:
    return page(request, "support/search.html", user, query="", orders=None, count=0, limit=RESULTS)


@router.post("/support")
def search(
    request: Request,
    user: Looking,
    orders: OrderViewsDep,
    form_token: FormToken = "",
    q: Annotated[str, Form()] = "",
) -> Response:
    check_form(user, form_token)
    problem = None
    if not q.strip():
        problem = "type an order number, a channel's order id, an e-mail address or a postcode"
    elif len(q) > QUERY_LENGTH:
        problem = f"that is longer than any order number, e-mail or postcode ({QUERY_LENGTH} characters at most)"
    if problem is not None:
        return page(
            request,
            "support/search.html",
            user,
            code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            query=q[:QUERY_LENGTH],
            orders=None,
            count=0,
            limit=RESULTS,
            error=problem,
        )
    found, count = orders.find(q, limit=RESULTS)
    if count == 1:
        return RedirectResponse(f"/dashboard/orders/{quote(found[0].order_id)}", status.HTTP_303_SEE_OTHER)
    summaries = [order_view.summary(record) for record in found]
    names = {record.order_id: str((record.shipping_address or {}).get("name", "")) for record in found}
    return page(
        request, "support/search.html", user, query=q, orders=summaries, names=names, count=count, limit=RESULTS
    )


# -- returns ---------------------------------------------------------------------------------


@dataclass
class ReturnForm:
    """What was typed into the return form, kept to show it again."""

    quantities: dict[str, str]
    reason: str = ReturnReason.DAMAGED.value
    note: str = ""
    restock: bool = True
    here: bool = False
    """The goods are at the desk now (a counter return): received, disposed of and refunded at once.
    Otherwise an RMA is issued and the warehouse receives the parcel."""
    resolution: str = Resolution.REFUND.value
    replacement: str = ""
    """An exchange's replacement as typed: one line per item, "SKU quantity [unit price]"."""


def _render(
    request: Request,
    user: SignedIn,
    options: ReturnOptions,
    typed: ReturnForm,
    *,
    code: int = 200,
    errors: dict[str, str] | None = None,
    refund: Money | None = None,
) -> Response:
    return page(
        request,
        "support/return.html",
        user,
        code=code,
        options=options,
        typed=typed,
        errors=errors or {},
        refund=refund,
        reasons=list(ReturnReason),
        resolutions=list(Resolution),
    )


@router.get("/orders/{order_id}/return")
def return_form(order_id: str, request: Request, user: Returning, returns: ReturnsDep) -> Response:
    try:
        options = returns.options(order_id)
    except NotFound:
        return not_found(request, user, f"order {order_id}")
    typed = ReturnForm({line.sku: "0" for line in options.lines})
    errors = {} if options.refusal is None else {"": options.refusal}
    return _render(request, user, options, typed, errors=errors)


@router.post("/orders/{order_id}/return")
async def create_return(
    order_id: str,
    request: Request,
    user: Returning,
    returns: ReturnsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    sku: Annotated[list[str] | None, Form(max_length=500)] = None,
    quantity: Annotated[list[str] | None, Form(max_length=500)] = None,
    reason: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=900)] = "",
    restock: Annotated[str, Form(max_length=10)] = "yes",
    here: Annotated[str, Form(max_length=10)] = "no",
    resolution: Annotated[str, Form(max_length=20)] = Resolution.REFUND.value,
    replacement: Annotated[str, Form(max_length=2000)] = "",
    action: Annotated[str, Form(max_length=20)] = "preview",
) -> Response:
    """`action`: "preview" shows the refund again with these quantities; "create" asks for the return."""
    check_form(user, form_token)
    try:
        options = returns.options(order_id)
    except NotFound:
        return not_found(request, user, f"order {order_id}")
    skus, typed_quantities = sku or [], quantity or []
    typed = ReturnForm(
        dict(zip(skus, typed_quantities, strict=False)),
        reason=reason,
        note=note.strip(),
        restock=restock != "no",
        here=here == "yes",
        resolution=resolution,
        replacement=replacement.strip(),
    )
    units, errors = _read_units(typed.quantities)
    replacing, wrong = _read_replacement(typed.replacement, options.currency)
    if wrong:
        errors["replacement"] = wrong
    if typed.resolution not in {r.value for r in Resolution}:
        errors["resolution"] = "choose refund, store credit or exchange"
    elif typed.resolution == Resolution.EXCHANGE.value and not replacing and "replacement" not in errors:
        errors["replacement"] = "an exchange needs what to send instead: one line per item, SKU and quantity"
    if not errors:
        errors = options.problems(units)
    if typed.reason not in {r.value for r in ReturnReason}:
        errors["reason"] = "choose why the customer sent it back"
    if errors:
        return _render(request, user, options, typed, code=status.HTTP_422_UNPROCESSABLE_CONTENT, errors=errors)
    refund = options.refund(units)
    if action != "create":
        return _render(request, user, options, typed, refund=refund)
    wish = ReturnRequest(
        lines=[ReturnRequestLine(s, n) for s, n in units.items() if n > 0],
        reason=reason_text(ReturnReason(typed.reason), typed.note),
        requested_by=user.member.label,
        restock=typed.restock,
        received=typed.here,
        resolution=typed.resolution,
        replacement=replacing if typed.resolution == Resolution.EXCHANGE.value else [],
    )
    try:
        accepted = await returns.request(order_id, wish)
    except Unprocessable as exc:
        return _refused(request, user, options, typed, status.HTTP_422_UNPROCESSABLE_CONTENT, exc.message, refund)
    except Conflict as exc:
        return _refused(request, user, options, typed, status.HTTP_409_CONFLICT, exc.message, refund)
    except NotFound as exc:
        return _refused(request, user, options, typed, status.HTTP_404_NOT_FOUND, exc.message, refund)
    except EngineUnavailable as exc:
        return _refused(request, user, options, typed, status.HTTP_503_SERVICE_UNAVAILABLE, exc.message, refund)
    except Failed as exc:
        # The workflow took the return and a later step failed: the order's page shows where it stands.
        return redirect(f"/dashboard/orders/{quote(order_id)}", settings, False, exc.message)
    if accepted.rma and accepted.status in (ReturnState.REQUESTED, ReturnState.AWAITING_APPROVAL):
        text = f"return {accepted.return_id} requested: RMA {accepted.rma}; refunded once the parcel is in"
        if accepted.refund.amount_minor:
            text = f"return {accepted.return_id} requested: RMA {accepted.rma}; refund {accepted.refund.format()} now"
    else:
        text = f"return {accepted.return_id} created: refund {accepted.refund.format()} ({accepted.status})"
    return redirect(f"/dashboard/orders/{quote(order_id)}", settings, True, text)


def _refused(
    request: Request,
    user: SignedIn,
    options: ReturnOptions,
    typed: ReturnForm,
    code: int,
    why: str,
    refund: Money,
) -> Response:
    """The workflow said no (or could not be asked): the form again, with why, as it was typed."""
    return _render(request, user, options, typed, code=code, errors={"": why}, refund=refund)


def _read_replacement(typed: str, currency: str) -> tuple[list[ReplacementLine], str]:
    """An exchange's replacement as typed ("TEE-L 1" or "CAP 2 6.50", one per line), or what is wrong."""
    lines: list[ReplacementLine] = []
    for row in typed.splitlines():
        words = row.split()
        if not words:
            continue
        if len(words) not in (2, 3) or not (words[1].isascii() and words[1].isdigit() and len(words[1]) <= 6):
            return [], f"{row.strip()[:40]!r}: type the SKU, a whole number of units and optionally a unit price"
        price = None
        if len(words) == 3:
            try:
                price = Money.parse(words[2].replace(",", "."), currency)
            except (MoneyError, ValueError, ArithmeticError):
                return [], f"{words[0][:40]}: a unit price in {currency} such as 12.50"
        lines.append(ReplacementLine(words[0], int(words[1]), price))
    return lines, ""


def _read_units(quantities: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """Typed quantities as whole numbers per SKU (blank is 0), or what is wrong with each."""
    units: dict[str, int] = {}
    errors: dict[str, str] = {}
    for sku, typed in quantities.items():
        text = typed.strip() or "0"
        if not (text.isascii() and text.isdigit() and len(text) <= 9):
            errors[sku] = "a whole number of units, 0 or more"
        else:
            units[sku] = int(text)
    return units, errors


# -- goodwill --------------------------------------------------------------------------------


@router.post("/orders/{order_id}/goodwill")
async def give_goodwill(
    order_id: str,
    user: Returning,
    goodwill: GoodwillDep,
    orders: OrderViewsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    amount: Annotated[str, Form(max_length=30)] = "",
    form: Annotated[str, Form(max_length=20)] = GoodwillForm.REFUND.value,
    reason: Annotated[str, Form(max_length=limits.LEDGER_REASON)] = "",
) -> Response:
    """The order page's goodwill form: checked and reserved at once, given by its workflow; the
    order's page says what happened (and its timeline, once given)."""
    check_form(user, form_token)
    back = f"/dashboard/orders/{quote(order_id)}"
    try:
        currency = orders.details(order_id, base_url="/").record.currency
    except NotFound:
        return redirect(back, settings, False, f"no order {order_id}")
    try:
        money = Money.parse(amount.strip().replace(",", "."), currency)
        chosen = GoodwillForm(form)
    except (MoneyError, ValueError, ArithmeticError):
        return redirect(back, settings, False, f"goodwill: type an amount in {currency} such as 5.00")
    try:
        given = await goodwill.give(order_id, chosen, money, reason, user.member.label)
    except (Unprocessable, Conflict, NotFound, EngineUnavailable) as exc:
        return redirect(back, settings, False, f"goodwill refused: {exc.message}")
    how = "refunded" if given.form is GoodwillForm.REFUND else "issued as store credit"
    return redirect(back, settings, True, f"goodwill of {given.amount.format()} taken: {how} in a moment")
