"""The returns desk's lists: parcels a location expects (returns it shipped the goods of, still
REQUESTED, or EXPIRED and still welcome) and parcels received there that wait for a disposition."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from domain.return_lifecycle import ReturnState
from persistence.models import ReturnRecord, ShipmentRecord

EXPECTED = (ReturnState.REQUESTED.value, ReturnState.EXPIRED.value)


def expected_at(session: Session, location_ids: Collection[str], *, limit: int) -> list[ReturnRecord]:
    """Returns on their way back to one of these locations (where their order's goods left from):
    those still REQUESTED first, oldest first (the parcel that has waited longest is looked for
    first), then the EXPIRED ones, latest first (a late parcel is most likely a recent one)."""
    if not location_ids:
        return []
    shipped_from = select(ShipmentRecord.order_id).where(ShipmentRecord.location_id.in_(list(location_ids)))
    rows = session.scalars(
        select(ReturnRecord)
        .where(ReturnRecord.state.in_(EXPECTED), ReturnRecord.order_id.in_(shipped_from))
        .order_by(
            case((ReturnRecord.state == ReturnState.REQUESTED.value, 0), else_=1),
            case((ReturnRecord.state == ReturnState.REQUESTED.value, ReturnRecord.created_at), else_=None),
            ReturnRecord.expires_at.desc(),
            ReturnRecord.return_id,
        )
        .limit(limit)
    )
    return list(rows)


def to_dispose_at(session: Session, location_ids: Collection[str], *, limit: int) -> list[ReturnRecord]:
    """Parcels received at one of these locations whose units wait for a disposition."""
    if not location_ids:
        return []
    rows = session.scalars(
        select(ReturnRecord)
        .where(ReturnRecord.state == ReturnState.RECEIVED.value, ReturnRecord.location_id.in_(list(location_ids)))
        .order_by(ReturnRecord.updated_at, ReturnRecord.return_id)
        .limit(limit)
    )
    return list(rows)
