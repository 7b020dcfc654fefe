"""The staff dashboard: server-rendered pages over the read model, with the two buttons people need
most (release a hold, cancel). Every number here comes from the same services as the JSON API
(services.dashboard, services.order_views), and every action goes through the same rules
(services.order_actions), so the page and the API can never disagree about what is allowed."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer

from api import order_view
from api.dashboard_session import (
    COOKIE_NAME,
    COOKIE_PATHS,
    SESSION_LENGTH,
    DashboardSession,
    form_token_is_valid,
    new_cookie,
    session_from,
    token_is_right,
)
from api.deps import DashboardDep, OrderActionsDep, OrderViewsDep, SettingsDep
from api.paging import PageNumber
from config import Settings
from contracts.order_workflow import CancelRequest, ReleaseRequest
from domain.money import Money
from domain.order import CHANNELS
from domain.status import OrderStatus
from services.errors import Conflict, NotFound
from services.gateway import EngineError, EngineUnavailable

PAGE_SIZE = 50
TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
_FLASH_SALT = "oms-dashboard-flash"

router = APIRouter(prefix="/dashboard", include_in_schema=False, default_response_class=HTMLResponse)


def _money(value: Any) -> str:
    """API Money (or a mapping with amount_minor and currency) as people read it: 12.50 EUR."""
    if isinstance(value, Mapping):
        return Money(int(value["amount_minor"]), str(value["currency"])).format()
    return Money(int(value.amount_minor), str(value.currency)).format()


def _when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{seconds:.0f} s"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(part for part in parts if part) or "0 min"


TEMPLATES.env.filters.update(money=_money, when=_when, duration=_duration)


# -- signing in ------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only back into the dashboard: a `next` pointing elsewhere would make the login page an open redirect."""
    if target and target.startswith("/dashboard") and "//" not in target and "\\" not in target:
        return target
    return "/dashboard"


def signed_in(request: Request, settings: SettingsDep) -> DashboardSession:
    session = session_from(settings, request.cookies.get(COOKIE_NAME))
    if session is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, "sign in first", headers={"Location": f"/dashboard/login?next={quote(here)}"}
        )
    return session


SignedIn = Annotated[DashboardSession, Depends(signed_in)]


def _page(request: Request, template: str, user: DashboardSession | None, code: int = 200, **context: Any) -> Response:
    settings: Settings = request.app.state.oms.settings
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {"user": user, "temporal_ui": settings.temporal_ui_url, "namespace": settings.temporal_namespace, **context},
        status_code=code,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@router.get("/login")
def login_form(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    if session_from(settings, request.cookies.get(COOKIE_NAME)) is not None:
        return RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
    return _page(request, "dashboard/login.html", None, next=_safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",
) -> Response:
    if not token_is_right(settings, token):
        return _page(
            request,
            "dashboard/login.html",
            None,
            code=status.HTTP_401_UNAUTHORIZED,
            next=_safe_next(next),
            error="That is not the staff token.",
        )
    response = RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
    cookie = new_cookie(settings)
    for path in COOKIE_PATHS:
        response.set_cookie(
            COOKIE_NAME,
            cookie,
            max_age=int(SESSION_LENGTH.total_seconds()),
            path=path,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


@router.post("/logout")
def logout(user: SignedIn, form_token: Annotated[str, Form(max_length=500)] = "") -> Response:
    _check_form(user, form_token)
    response = RedirectResponse("/dashboard/login", status.HTTP_303_SEE_OTHER)
    for path in COOKIE_PATHS:
        response.delete_cookie(COOKIE_NAME, path=path)
    return response


def _check_form(user: DashboardSession, posted: str) -> None:
    if not form_token_is_valid(user, posted):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form has expired: reload the page and try again")


# -- pages -----------------------------------------------------------------------------------


@router.get("")
def overview_page(request: Request, user: SignedIn, dashboard: DashboardDep) -> Response:
    overview = dashboard.overview()
    week = overview.week
    return _page(
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
    return _page(
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


def _flash(settings: Settings, ok: bool, text: str) -> str:
    """A message for the page after a redirect, signed so a link cannot put words in our mouth."""
    return URLSafeSerializer(settings.admin_token, salt=_FLASH_SALT).dumps({"ok": ok, "text": text})


def _read_flash(settings: Settings, value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        loaded = URLSafeSerializer(settings.admin_token, salt=_FLASH_SALT).loads(value)
    except BadSignature:
        return None
    return loaded if isinstance(loaded, dict) else None


@router.get("/orders/{order_id}")
def order_page(
    order_id: str,
    request: Request,
    user: SignedIn,
    orders: OrderViewsDep,
    settings: SettingsDep,
    flash: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    try:
        details = orders.details(order_id, base_url=str(request.base_url))
    except NotFound:
        return _page(request, "dashboard/not_found.html", user, code=404, what=f"order {order_id}")
    return _page(
        request,
        "dashboard/order.html",
        user,
        order=order_view.public(details),
        flash=_read_flash(settings, flash),
        may_release=details.may_release,
        may_cancel=details.may_cancel,
    )


async def _act(order_id: str, action: str, attempt: Awaitable[None], settings: Settings) -> RedirectResponse:
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
    target = f"/dashboard/orders/{quote(order_id)}?flash={_flash(settings, *message)}"
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


@router.post("/orders/{order_id}/release")
async def release(
    order_id: str,
    user: SignedIn,
    actions: OrderActionsDep,
    settings: SettingsDep,
    form_token: Annotated[str, Form(max_length=500)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    accept_channel_total: Annotated[bool, Form()] = False,
) -> Response:
    _check_form(user, form_token)
    wish = ReleaseRequest(note=note.strip(), released_by="staff (dashboard)", accept_channel_total=accept_channel_total)
    return await _act(order_id, "release", actions.release(order_id, wish), settings)


@router.post("/orders/{order_id}/cancel")
async def cancel(
    order_id: str,
    user: SignedIn,
    actions: OrderActionsDep,
    settings: SettingsDep,
    form_token: Annotated[str, Form(max_length=500)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    _check_form(user, form_token)
    wish = CancelRequest(reason=reason.strip() or "cancelled from the dashboard", requested_by="staff (dashboard)")
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
    return _page(
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
def sku_page(sku: str, request: Request, user: SignedIn, dashboard: DashboardDep) -> Response:
    found = dashboard.sku(sku)
    if found is None:
        return _page(request, "dashboard/not_found.html", user, code=404, what=f"stock for {sku}")
    return _page(
        request,
        "dashboard/sku.html",
        user,
        sku=sku,
        rows=found.stock.rows,
        channels=found.stock.channels,
        sent=found.stock.last_sent,
        recent=[order_view.summary(row) for row in found.recent],
        recent_count=found.recent_count,
    )


@router.get("/late")
def late_page(request: Request, user: SignedIn, dashboard: DashboardDep) -> Response:
    rows, count = dashboard.late()
    return _page(request, "dashboard/late.html", user, rows=rows, count=count)
