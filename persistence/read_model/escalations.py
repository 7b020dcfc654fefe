"""Late shipment steps, as ops see them: raised once per step, resolved when the step is done."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contracts.shipments import EscalationInput
from persistence.models import Escalation


def raise_once(session: Session, data: EscalationInput) -> None:
    exists = session.scalar(
        select(Escalation.id).where(Escalation.shipment_id == data.shipment_id, Escalation.step == data.step)
    )
    if exists is None:
        session.add(
            Escalation(
                order_id=data.order_id,
                shipment_id=data.shipment_id,
                location_id=data.location_id,
                step=data.step,
                due_at=data.due_at,
                raised_at=data.at,
            )
        )


def resolve(session: Session, shipment_id: str, step: str | None, at: datetime) -> None:
    """Close the shipment's open escalation for `step` (every step when None)."""
    statement = update(Escalation).where(Escalation.shipment_id == shipment_id, Escalation.resolved_at.is_(None))
    if step is not None:
        statement = statement.where(Escalation.step == step)
    session.execute(statement.values(resolved_at=at), execution_options={"synchronize_session": False})


def list_escalations(
    session: Session,
    *,
    open_only: bool = True,
    location_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
    location_ids: Collection[str] | None = None,
) -> tuple[list[Escalation], int]:
    query = select(Escalation)
    if location_ids is not None:
        query = query.where(Escalation.location_id.in_(sorted(location_ids)))
    if open_only:
        query = query.where(Escalation.resolved_at.is_(None))
    if location_id:
        query = query.where(Escalation.location_id == location_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Escalation.due_at, Escalation.id).limit(limit).offset(offset))
    return list(rows), total
