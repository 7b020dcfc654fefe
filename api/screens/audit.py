"""The audit list (admin): who did what, newest first, by person and by UTC day (services.staff_audit)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from api.deps import StaffAuditDep
from api.paging import PageNumber
from api.screens.pages import PAGE_SIZE, SignedIn, screen
from api.screens.pages import page as render
from domain import limits
from domain.staff import Permission

router = APIRouter(prefix="/dashboard/admin/audit", include_in_schema=False, default_response_class=HTMLResponse)

Auditor = Annotated[SignedIn, Depends(screen(Permission.AUDIT))]


def _day(typed: str) -> date | None:
    """The day filter as typed (a date input sends YYYY-MM-DD); ValueError for anything else."""
    return date.fromisoformat(typed) if typed else None


@router.get("")
def audit_page(
    request: Request,
    user: Auditor,
    audit: StaffAuditDep,
    who: Annotated[str, Query(alias="user", max_length=limits.EMAIL)] = "",
    day: Annotated[str, Query(max_length=100)] = "",
    page: PageNumber = 1,
) -> Response:
    filters = {"user": who.strip(), "day": day.strip()}
    context: dict[str, Any] = {
        "filters": filters,
        "actors": audit.actors(),
        "query": urlencode({k: v for k, v in filters.items() if v}),
    }
    try:
        chosen_day = _day(filters["day"])
    except ValueError:
        return render(
            request,
            "audit/list.html",
            user,
            code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            rows=[],
            count=0,
            page=1,
            pages=1,
            day_error="A day is written YYYY-MM-DD.",
            **context,
        )
    found = audit.page(actor=filters["user"] or None, day=chosen_day, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(
        request,
        "audit/list.html",
        user,
        rows=found.rows,
        count=found.count,
        page=page,
        pages=max(1, -(-found.count // PAGE_SIZE)),
        day_error=None,
        **context,
    )
