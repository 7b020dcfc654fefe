"""GET /audit: who did what (admin). Every state-changing request a staff member made, newest first
(services.staff_audit; written by api.staff_audit without any route's help)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.deps import StaffAuditDep, require
from api.paging import PageDep
from domain import limits
from domain.staff import Permission, StaffMember

router = APIRouter(tags=["audit"])


class StaffActionPublic(BaseModel):
    at: datetime
    user_id: str | None = Field(description="null for the bootstrap admin token (OMS_ADMIN_TOKEN)")
    actor: str = Field(description='The person: their e-mail, or "admin token"')
    role: str
    via: str = Field(description="session (a dashboard sign-in), token (a personal API token) or admin token")
    method: str
    route: str = Field(description="The route's template, e.g. /shipments/{shipment_id}/picked")
    action: str
    order_id: str | None = None
    shipment_id: str | None = None
    location_id: str | None = None
    sku: str | None = None
    status: int = Field(description="The status code the request was answered with")


class StaffActionsPublic(BaseModel):
    data: list[StaffActionPublic]
    count: int = Field(description="How many actions match the filters (all pages)")


@router.get("/audit", response_model=StaffActionsPublic)
def staff_actions(
    _: Annotated[StaffMember, Depends(require(Permission.AUDIT))],
    audit: StaffAuditDep,
    page: PageDep,
    user: Annotated[str | None, Query(max_length=limits.EMAIL, description='An actor: e-mail or "admin token"')] = None,
    day: Annotated[date | None, Query(description="A UTC calendar day, YYYY-MM-DD")] = None,
) -> Any:
    """State-changing requests (POST, PUT, PATCH, DELETE) by staff, API and screens alike, newest
    first: who, how they signed in, what (the route and the ids its path names) and the answer's
    status, refused ones included. Never a request body."""
    found = audit.page(actor=user or None, day=day, limit=page.limit, offset=page.offset)
    data = [
        StaffActionPublic(
            at=row.at,
            user_id=row.user_id,
            actor=row.actor,
            role=row.role,
            via=row.via,
            method=row.method,
            route=row.route,
            action=row.action,
            order_id=row.order_id,
            shipment_id=row.shipment_id,
            location_id=row.location_id,
            sku=row.sku,
            status=row.status,
        )
        for row in found.rows
    ]
    return StaffActionsPublic(data=data, count=found.count)
