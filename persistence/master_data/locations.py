"""Facts about the locations staff set up (warehouses, stores, drop-ship partners)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Location


def location_kind(session: Session, location_id: str) -> str | None:
    """warehouse, store or dropship; None for a location we do not know."""
    return session.scalar(select(Location.kind).where(Location.location_id == location_id))
