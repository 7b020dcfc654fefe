"""The audit list: who did what, one row per state-changing staff request (persistence.models.StaffAction).

Written after the request was answered (api.staff_audit), read by the admin's audit list newest
first, by actor and by UTC day. Every value is cut to its column: the row is a note about a request
that already happened, never a reason to refuse it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import limits
from persistence.models import StaffAction


@dataclass(frozen=True)
class ActionNote:
    """What the audit list keeps of one request: who, how they proved it, what, where, the answer."""

    at: datetime
    user_id: str | None
    actor: str
    role: str
    via: str
    method: str
    route: str
    action: str
    status: int
    order_id: str | None = None
    shipment_id: str | None = None
    location_id: str | None = None
    sku: str | None = None


def _cut(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


def record_action(session: Session, note: ActionNote) -> None:
    session.add(
        StaffAction(
            at=note.at,
            user_id=_cut(note.user_id, limits.STAFF_USER_ID),
            actor=note.actor[: limits.EMAIL],
            role=note.role[: limits.STAFF_ROLE],
            via=note.via[: limits.STAFF_VIA],
            method=note.method[: limits.HTTP_METHOD],
            route=note.route[: limits.ROUTE_TEMPLATE],
            action=note.action[: limits.STAFF_ACTION],
            order_id=_cut(note.order_id, limits.ORDER_ID),
            shipment_id=_cut(note.shipment_id, limits.SHIPMENT_ID),
            location_id=_cut(note.location_id, limits.LOCATION_ID),
            sku=_cut(note.sku, limits.SKU),
            status=note.status,
        )
    )


def list_actions(
    session: Session,
    *,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[StaffAction], int]:
    """Newest first, with how many match; `since`/`until` bound `at` as [since, until)."""
    query = select(StaffAction)
    if actor is not None:
        query = query.where(StaffAction.actor == actor)
    if since is not None:
        query = query.where(StaffAction.at >= since)
    if until is not None:
        query = query.where(StaffAction.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(StaffAction.at.desc(), StaffAction.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def actors(session: Session) -> list[str]:
    """Everybody the list has seen act, alphabetically (the audit screen's choice of user)."""
    return list(session.scalars(select(StaffAction.actor).distinct().order_by(StaffAction.actor)))
