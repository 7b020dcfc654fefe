"""Who did what: the audit list of staff actions (issue 14, item 2).

A row per state-changing request (POST, PUT, PATCH, DELETE) an identified staff member made, on the
API or the screens alike: api.staff_audit notes it once the request is answered, so no route does
anything for it. Admins read it newest first, by person and by UTC day. Rows say what and where
(the route's template, the ids its path names), never what the body held."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.staff import StaffMember
from persistence.models import StaffAction, utcnow
from persistence.read_model.staff_actions import ActionNote
from services.unit_of_work import UnitOfWorkFactory

PATH_IDS = ("order_id", "shipment_id", "location_id", "sku")
"""The path parameters a row keeps (the things an action is about); anything else stays out."""


@dataclass(frozen=True)
class AuditPage:
    rows: list[StaffAction]
    count: int
    """How many rows match the filters (all pages)."""


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A UTC calendar day as [start, next start)."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


class StaffAudit:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

    def record(
        self,
        member: StaffMember,
        *,
        method: str,
        route: str,
        action: str,
        status: int,
        path_ids: Mapping[str, object] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Keep one request: `route` is its template (`/shipments/{shipment_id}/picked`), never the
        raw path; of `path_ids` only PATH_IDS are kept."""
        ids = {key: str(value) for key, value in (path_ids or {}).items() if key in PATH_IDS}
        note = ActionNote(
            at=at or utcnow(),
            user_id=member.user_id,
            actor=member.label,
            role=str(member.role),
            via=member.via,
            method=method.upper(),
            route=route,
            action=action,
            status=status,
            **ids,
        )
        with self._units() as uow:
            uow.staff_actions.record(note)
            uow.commit()

    def page(self, *, actor: str | None = None, day: date | None = None, limit: int, offset: int) -> AuditPage:
        """Newest first; `actor` is a person's label (their e-mail, or "admin token"), `day` a UTC date."""
        since, until = day_bounds(day) if day is not None else (None, None)
        with self._units(read_only=True) as uow:
            rows, count = uow.staff_actions.page(actor=actor, since=since, until=until, limit=limit, offset=offset)
        return AuditPage(rows, count)

    def actors(self) -> list[str]:
        """Everybody seen acting, for the audit screen's choice of person."""
        with self._units(read_only=True) as uow:
            return uow.staff_actions.actors()
