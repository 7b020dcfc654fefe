"""Event subscriptions on the settings screens: the list with a form for a new one (its secret
shown once, on the page that answers the form), and per subscription its delivery log with replay
buttons, enable/disable, a new secret and delete; all through services.event_subscriptions, as the
JSON API under /admin/event-subscriptions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import Response

from api.deps import SettingsDep, StateDep
from api.screens.pages import FlashQuery, FormToken, check_form, not_found, page, read_flash, redirect
from api.screens.settings.forms import Admin
from domain.outbound_events import EVENT_TYPES
from services.errors import ServiceError
from services.event_subscriptions import EventSubscriptions

router = APIRouter()
BASE = "/dashboard/admin/events"
LOG_PAGE = 50


def _subscriptions(state: StateDep) -> EventSubscriptions:
    return EventSubscriptions(state.session_factory, state.readers, allow_http=state.settings.event_http_allowed)


SubscriptionsDep = Annotated[EventSubscriptions, Depends(_subscriptions)]


def _list(request: Request, user: Admin, subscriptions: EventSubscriptions, code: int = 200, **ctx: Any) -> Response:
    values: dict[str, Any] = {"errors": {}, "typed": {"url": "", "types": []}, "flash": None, "secret": None} | ctx
    rows = subscriptions.all()
    return page(request, "settings/events.html", user, code=code, rows=rows, event_types=EVENT_TYPES, **values)


@router.get("/events")
def list_subscriptions(
    request: Request, user: Admin, subscriptions: SubscriptionsDep, settings: SettingsDep, flash_: FlashQuery = None
) -> Response:
    return _list(request, user, subscriptions, flash=read_flash(settings, flash_))


@router.post("/events/new")
def create_subscription(
    request: Request,
    user: Admin,
    subscriptions: SubscriptionsDep,
    form_token: FormToken = "",
    url: Annotated[str, Form(max_length=4000)] = "",
    types: Annotated[list[str] | None, Form(max_length=len(EVENT_TYPES))] = None,
) -> Response:
    check_form(user, form_token)
    try:
        made = subscriptions.create(url, types or None)
    except ServiceError as exc:
        typed = {"url": url, "types": types or []}
        return _list(
            request,
            user,
            subscriptions,
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            errors={"url": exc.message},
            typed=typed,
        )
    # The secret is shown on this page only: it is not in any link, log or later page.
    return _list(request, user, subscriptions, secret=made.secret, made=made.subscription.subscription_id)


@router.get("/events/{subscription_id}")
def subscription_page(
    subscription_id: str,
    request: Request,
    user: Admin,
    subscriptions: SubscriptionsDep,
    settings: SettingsDep,
    flash_: FlashQuery = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    try:
        subscription = subscriptions.get(subscription_id)
        log, total = subscriptions.deliveries(subscription_id, LOG_PAGE, offset)
    except ServiceError:
        return not_found(request, user, f"event subscription {subscription_id}")
    return page(
        request,
        "settings/event_subscription.html",
        user,
        sub=subscription,
        log=log,
        total=total,
        offset=offset,
        page_size=LOG_PAGE,
        secret=None,
        flash=read_flash(settings, flash_),
    )


def _done(subscription_id: str, settings: Any, ok: bool, text: str) -> Response:
    return redirect(f"{BASE}/{quote(subscription_id)}", settings, ok, text)


@router.post("/events/{subscription_id}/enable")
def enable(
    subscription_id: str,
    user: Admin,
    subscriptions: SubscriptionsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
) -> Response:
    check_form(user, form_token)
    subscriptions.set_enabled(subscription_id, True)
    return _done(subscription_id, settings, True, "enabled: kept deliveries go out now, in order")


@router.post("/events/{subscription_id}/disable")
def disable(
    subscription_id: str,
    user: Admin,
    subscriptions: SubscriptionsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
) -> Response:
    check_form(user, form_token)
    subscriptions.set_enabled(subscription_id, False)
    return _done(subscription_id, settings, True, "disabled: new events are not sent to it")


@router.post("/events/{subscription_id}/rotate")
def rotate(
    subscription_id: str, request: Request, user: Admin, subscriptions: SubscriptionsDep, form_token: FormToken = ""
) -> Response:
    check_form(user, form_token)
    made = subscriptions.rotate_secret(subscription_id)
    log, total = subscriptions.deliveries(subscription_id, LOG_PAGE, 0)
    return page(
        request,
        "settings/event_subscription.html",
        user,
        sub=made.subscription,
        log=log,
        total=total,
        offset=0,
        page_size=LOG_PAGE,
        secret=made.secret,
        flash=None,
    )


@router.post("/events/{subscription_id}/delete")
def delete(
    subscription_id: str,
    user: Admin,
    subscriptions: SubscriptionsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
) -> Response:
    check_form(user, form_token)
    subscriptions.delete(subscription_id)
    return redirect(BASE, settings, True, f"subscription {subscription_id} deleted")


@router.post("/events/{subscription_id}/events/{event_id}/replay")
def replay_event(
    subscription_id: str,
    event_id: str,
    user: Admin,
    subscriptions: SubscriptionsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
) -> Response:
    check_form(user, form_token)
    try:
        subscriptions.replay_event(subscription_id, event_id)
    except ServiceError as exc:
        return _done(subscription_id, settings, False, exc.message)
    return _done(subscription_id, settings, True, f"{event_id} will be sent again (same webhook-id)")


@router.post("/events/{subscription_id}/replay")
def replay_range(
    subscription_id: str,
    user: Admin,
    subscriptions: SubscriptionsDep,
    settings: SettingsDep,
    form_token: FormToken = "",
    start: Annotated[str, Form(alias="from", max_length=40)] = "",
    end: Annotated[str, Form(alias="to", max_length=40)] = "",
) -> Response:
    check_form(user, form_token)
    try:
        replayed = subscriptions.replay_range(subscription_id, _time(start), _time(end))
    except (ServiceError, ValueError) as exc:
        return _done(subscription_id, settings, False, getattr(exc, "message", str(exc)))
    return _done(subscription_id, settings, True, f"{replayed} event(s) will be sent again, in order")


def _time(value: str) -> datetime:
    """A time typed as 2026-01-31T00:00 (taken as UTC) or with its zone."""
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
