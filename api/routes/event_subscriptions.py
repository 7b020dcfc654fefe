"""Event subscriptions for other systems (services.event_subscriptions): staff with the settings
permission (admins) create, read, change, enable or disable, rotate the secret of and delete them,
read each one's delivery log and replay events to it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import AwareDatetime, BaseModel, Field

from api.deps import StateDep, require
from api.paging import PageDep
from domain import limits
from domain.outbound_events import EVENT_TYPES
from domain.staff import Permission, StaffMember
from services.event_subscriptions import AttemptView, EventSubscriptions, SubscriptionView, WithSecret

router = APIRouter(prefix="/admin/event-subscriptions", tags=["events"])

Admin = Annotated[StaffMember, Depends(require(Permission.SETTINGS))]


def get_event_subscriptions(state: StateDep) -> EventSubscriptions:
    return EventSubscriptions(state.session_factory, state.readers, allow_http=state.settings.event_http_allowed)


SubscriptionsDep = Annotated[EventSubscriptions, Depends(get_event_subscriptions)]

EventTypes = Annotated[
    list[Annotated[str, Field(max_length=limits.OUTBOUND_EVENT_TYPE)]] | None,
    Field(max_length=len(EVENT_TYPES), description=f"Any of {list(EVENT_TYPES)}; omitted, null or []: every type"),
]


class SubscriptionCreate(BaseModel):
    url: str = Field(min_length=1, max_length=limits.SUBSCRIPTION_URL, examples=["https://erp.example/hooks/oms"])
    event_types: EventTypes = None


class SubscriptionUpdate(BaseModel):
    url: str | None = Field(default=None, min_length=1, max_length=limits.SUBSCRIPTION_URL)
    event_types: EventTypes = Field(default=None, description="The new list; [] means every type; omitted: kept")


class ReplayRange(BaseModel):
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime


def _view(view: SubscriptionView) -> dict[str, Any]:
    return {
        "subscription_id": view.subscription_id,
        "url": view.url,
        "event_types": view.event_types,
        "enabled": view.enabled,
        "disabled_reason": view.disabled_reason,
        "disabled_at": view.disabled_at,
        "created_at": view.created_at,
        "pending_deliveries": view.pending,
    }


def _with_secret(made: WithSecret) -> dict[str, Any]:
    return _view(made.subscription) | {"secret": made.secret}


def _attempt(row: AttemptView) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "type": row.event_type,
        "attempt": row.attempt,
        "status_code": row.status_code,
        "error": row.error,
        "response_ms": row.response_ms,
        "at": row.at,
    }


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such subscription"}}


@router.post("", status_code=status.HTTP_201_CREATED, responses={422: {"description": "bad URL or event type"}})
def create_subscription(body: SubscriptionCreate, _: Admin, subscriptions: SubscriptionsDep) -> dict[str, Any]:
    """The answer holds the signing secret (`whsec_...`): it is shown here and on rotation only."""
    return _with_secret(subscriptions.create(body.url, body.event_types))


@router.get("")
def list_subscriptions(_: Admin, subscriptions: SubscriptionsDep) -> dict[str, Any]:
    data = [_view(view) for view in subscriptions.all()]
    return {"data": data, "count": len(data)}


@router.get("/{subscription_id}", responses=NOT_FOUND)
def get_subscription(subscription_id: str, _: Admin, subscriptions: SubscriptionsDep) -> dict[str, Any]:
    return _view(subscriptions.get(subscription_id))


@router.patch("/{subscription_id}", responses=NOT_FOUND)
def update_subscription(
    subscription_id: str, body: SubscriptionUpdate, _: Admin, subscriptions: SubscriptionsDep
) -> dict[str, Any]:
    given = body.model_fields_set
    types = body.event_types if "event_types" in given else None
    every = "event_types" in given and not body.event_types
    return _view(subscriptions.update(subscription_id, url=body.url, event_types=types or None, all_types=every))


@router.post("/{subscription_id}/enable", responses=NOT_FOUND)
def enable_subscription(subscription_id: str, _: Admin, subscriptions: SubscriptionsDep) -> dict[str, Any]:
    """Enabled again, the deliveries it kept are sent at once, in order."""
    return _view(subscriptions.set_enabled(subscription_id, True))


@router.post("/{subscription_id}/disable", responses=NOT_FOUND)
def disable_subscription(subscription_id: str, _: Admin, subscriptions: SubscriptionsDep) -> dict[str, Any]:
    return _view(subscriptions.set_enabled(subscription_id, False))


@router.post("/{subscription_id}/rotate-secret", responses=NOT_FOUND)
def rotate_secret(subscription_id: str, _: Admin, subscriptions: SubscriptionsDep) -> dict[str, Any]:
    """A new secret signs every delivery from now on; shown in this answer only."""
    return _with_secret(subscriptions.rotate_secret(subscription_id))


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_subscription(subscription_id: str, _: Admin, subscriptions: SubscriptionsDep) -> None:
    subscriptions.delete(subscription_id)


@router.get("/{subscription_id}/deliveries", responses=NOT_FOUND)
def delivery_log(subscription_id: str, _: Admin, subscriptions: SubscriptionsDep, page: PageDep) -> dict[str, Any]:
    """Every attempt, newest first: status code or error, response time, attempt number, time."""
    rows, total = subscriptions.deliveries(subscription_id, page.limit, page.offset)
    return {"data": [_attempt(row) for row in rows], "count": total}


@router.post(
    "/{subscription_id}/events/{event_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "no such subscription or event"}, 409: {"description": "not sent yet"}},
)
def replay_event(subscription_id: str, event_id: str, _: Admin, subscriptions: SubscriptionsDep) -> dict[str, Any]:
    """Sent again with the same webhook-id (consumers dedupe on it)."""
    return {"replayed": subscriptions.replay_event(subscription_id, event_id)}


@router.post("/{subscription_id}/replay", status_code=status.HTTP_202_ACCEPTED, responses=NOT_FOUND)
def replay_range(subscription_id: str, body: ReplayRange, _: Admin, subscriptions: SubscriptionsDep) -> dict[str, Any]:
    """Every event the subscription wants that occurred in [from, to), sent again in order."""
    start: datetime = body.from_
    return {"replayed": subscriptions.replay_range(subscription_id, start, body.to)}
