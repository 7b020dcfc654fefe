"""The staff dashboard: server-rendered pages over the read model, with the two buttons people need
most (release a hold, cancel). Every number here comes from the same services as the JSON API
(services.dashboard, services.order_views), and every action goes through the same rules
(services.order_actions), so the page and the API can never disagree about what is allowed."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from api import order_view
from api.deps import CreditDep, DashboardDep, InvoicesDep, OrderActionsDep, OrderViewsDep, SettingsDep, StockDep
from api.paging import PageNumber
from api.routes.invoices import attachment
from api.screens.after_sales_charts import summary as after_sales_summary
from api.screens.pages import PAGE_SIZE, FlashQuery, FormToken, check_form, not_found, read_flash, redirect, screen
from api.screens.pages import SignedIn as SignedInUser
from api.screens.pages import page as render
from config import Settings
from contracts.order_workflow import CancelRequest, ReleaseRequest
from domain.money import Money
from domain.order import CHANNELS
from domain.staff import Permission
from domain.status import OrderStatus
from services.errors import Conflict, NotFound
from services.gateway import EngineError, EngineUnavailable
from services.order_views import OrderViews
from services.store_credit import CreditAccounts

router = APIRouter(prefix="/dashboard", include_in_schema=False, default_response_class=HTMLResponse)

SignedIn = Annotated[SignedInUser, Depends(screen(Permission.ORDERS_VIEW))]
Acting = Annotated[SignedInUser, Depends(screen(Permission.ORDERS_ACT))]
GOODWILL_STATUSES = (OrderStatus.SHIPPED.value, OrderStatus.COMPLETED.value)
LEDGER_ROWS = 20
"""The latest stock moves a SKU's page shows (GET /inventory/{sku}/ledger pages through all)."""


# -- pages -----------------------------------------------------------------------------------


@router.get("")
def overview_page(request: Request, user: SignedIn, dashboard: DashboardDep) -> Response:
    overview = dashboard.overview()
    week = overview.week
    return render(
        request,
        "dashboard/overview.html",
        user,
        by_status=overview.by_status,
        statuses=[s.value for s in OrderStatus],
        by_channel=overview.by_channel,
        waiting=[order_view.summary(record) for record in overview.waiting],
        stuck=overview.stuck,
        late=overview.late,
        late_count=overview.late_count,
        week=week,
        processing=overview.processing,
        costs=[Money(v, c) for c, v in sorted(week.fulfilment_cost_by_currency.items())],
        refunds=[Money(v, c) for c, v in sorted(week.refunded_by_currency.items())],
        after_sales=after_sales_summary(week.after_sales),
    )


@router.get("/orders")
def orders_page(
    request: Request,
    user: SignedIn,
    orders: OrderViewsDep,
    status_: Annotated[str, Query(alias="status", max_length=20)] = "",
    channel: Annotated[str, Query(max_length=20)] = "",
    sku: Annotated[str, Query(max_length=100)] = "",
    page: PageNumber = 1,
) -> Response:
    wanted_status = status_ if status_ in {s.value for s in OrderStatus} else ""
    wanted_channel = channel if channel in CHANNELS else ""
    rows, count = orders.page(
        status=wanted_status or None,
        channel=wanted_channel or None,
        sku=sku.strip() or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    filters = {"status": wanted_status, "channel": wanted_channel, "sku": sku.strip()}
    return render(
        request,
        "dashboard/orders.html",
        user,
        orders=[order_view.summary(row) for row in rows],
        count=count,
        page=page,
        pages=max(1, -(-count // PAGE_SIZE)),
        filters=filters,
        query=urlencode({key: value for key, value in filters.items() if value}),
        statuses=[s.value for s in OrderStatus],
        channels=CHANNELS,
    )


@router.get("/invoices/{number}.pdf", response_class=Response)
def invoice_pdf(number: str, request: Request, user: SignedIn, invoices: InvoicesDep) -> Response:
    """An invoice or credit note as PDF for a signed-in person (the order page's download link)."""
    try:
        document = invoices.numbered(number)
    except NotFound:
        return not_found(request, user, f"document {number}")
    return attachment(invoices.pdf(document), "application/pdf", f"{number}.pdf")


@router.get("/invoices/{number}.xml", response_class=Response)
def invoice_xml(number: str, request: Request, user: SignedIn, invoices: InvoicesDep) -> Response:
    """The same document as EN 16931 XML."""
    try:
        document = invoices.numbered(number)
    except NotFound:
        return not_found(request, user, f"document {number}")
    return attachment(invoices.xml(document), "application/xml", f"{number}.xml")


@router.get("/orders/{order_id}")
def order_page(
    order_id: str,
    request: Request,
    user: SignedIn,
    orders: OrderViewsDep,
    settings: SettingsDep,
    credit: CreditDep,
    flash_: FlashQuery = None,
) -> Response:
    return _order_page(request, user, orders, order_id, flash=read_flash(settings, flash_), credit=credit)


def _order_page(
    request: Request,
    user: SignedInUser,
    orders: OrderViews,
    order_id: str,
    *,
    code: int = 200,
    flash: dict[str, Any] | None = None,
    cancel_error: str | None = None,
    credit: CreditAccounts | None = None,
) -> Response:
    """The order with everything that happened to it; the buttons only for those who may press them."""
    try:
        details = orders.details(order_id, base_url=str(request.base_url))
    except NotFound:
        return not_found(request, user, f"order {order_id}")
    acts = user.may(Permission.ORDERS_ACT)
    return render(
        request,
        "dashboard/order.html",
        user,
        code=code,
        order=order_view.public(details),
        flash=flash,
        may_release=acts and details.may_release,
        may_cancel=acts and details.may_cancel,
        may_return=user.may(Permission.RETURNS) and details.may_return,
        may_give_goodwill=user.may(Permission.RETURNS) and details.record.status in GOODWILL_STATUSES,
        credit=credit.of_order_customer(details.record.customer_email, details.record.channel) if credit else None,
        confirmed_by={s.shipment_id: s.confirmed_by or {} for s in details.record.shipments},
        documents=details.documents,
        cancel_error=cancel_error,
    )


async def _act(order_id: str, action: str, attempt: Awaitable[None], settings: Settings) -> Response:
    """Run a staff action and come back to the order's page with what happened."""
    try:
        await attempt
        message = (True, f"{action} requested: the order page shows the outcome in a moment")
    except NotFound as exc:
        message = (False, str(exc))
    except Conflict as exc:
        message = (False, f"{action} refused: {exc}")
    except EngineUnavailable as exc:
        message = (False, f"{action} not sent: {exc.message}")
    except EngineError as exc:
        message = (False, f"{action} not sent: the workflow engine refused the call ({exc.reason})")
    return redirect(f"/dashboard/orders/{quote(order_id)}", settings, *message)


@router.post("/orders/{order_id}/release")
async def release(
    order_id: str,
    user: Acting,
    actions: OrderActionsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    note: Annotated[str, Form(max_length=500)] = "",
    accept_channel_total: Annotated[bool, Form()] = False,
) -> Response:
    check_form(user, form_token)
    wish = ReleaseRequest(note=note.strip(), released_by=user.member.label, accept_channel_total=accept_channel_total)
    return await _act(order_id, "release", actions.release(order_id, wish), settings)


@router.post("/orders/{order_id}/cancel")
async def cancel(
    order_id: str,
    request: Request,
    user: Acting,
    actions: OrderActionsDep,
    orders: OrderViewsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_form(user, form_token)
    if not reason.strip():
        # The reason goes on the timeline and to the channel: a cancel without one is not sent.
        missing = "say why the order is cancelled: it goes on the order's timeline"
        return _order_page(request, user, orders, order_id, code=422, cancel_error=missing)
    wish = CancelRequest(reason=reason.strip(), requested_by=user.member.label)
    return await _act(order_id, "cancel", actions.cancel(order_id, wish), settings)


@router.get("/stock")
def stock_page(
    request: Request,
    user: SignedIn,
    dashboard: DashboardDep,
    sku: Annotated[str, Query(max_length=100)] = "",
    location: Annotated[str, Query(max_length=64)] = "",
    below_safety: bool = False,
    page: PageNumber = 1,
) -> Response:
    rows, count = dashboard.stock(
        location_id=location.strip() or None,
        sku_prefix=sku.strip() or None,
        below_safety=True if below_safety else None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    filters = {"sku": sku.strip(), "location": location.strip(), "below_safety": "true" if below_safety else ""}
    return render(
        request,
        "dashboard/stock.html",
        user,
        rows=rows,
        count=count,
        page=page,
        pages=max(1, -(-count // PAGE_SIZE)),
        filters=filters,
        query=urlencode({key: value for key, value in filters.items() if value}),
    )


@router.get("/stock/{sku}")
def sku_page(sku: str, request: Request, user: SignedIn, dashboard: DashboardDep, stock: StockDep) -> Response:
    found = dashboard.sku(sku)
    if found is None:
        return not_found(request, user, f"stock for {sku}")
    moves, moves_count = stock.ledger(sku, location_id=None, limit=LEDGER_ROWS, offset=0)
    return render(
        request,
        "dashboard/sku.html",
        user,
        sku=sku,
        rows=found.stock.rows,
        channels=found.stock.channels,
        sent=found.stock.last_sent,
        recent=[order_view.summary(row) for row in found.recent],
        recent_count=found.recent_count,
        moves=moves,
        moves_count=moves_count,
    )


@router.get("/late")
def late_page(request: Request, user: SignedIn, dashboard: DashboardDep) -> Response:
    rows, count = dashboard.late()
    return render(request, "dashboard/late.html", user, rows=rows, count=count)
