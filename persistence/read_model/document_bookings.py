"""What the books hold: documents not yet booked in a system, and the bookings of a system."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from contracts.invoices import IssuedDocument
from persistence.guarded_writes.invoices import issued_document
from persistence.models import BookingRecord, IssuedDocumentRecord


@dataclass(frozen=True)
class Booking:
    document_number: str
    kind: str
    external_id: str
    booked_at: datetime
    channel: str


def _not_booked(system: str) -> Select[IssuedDocumentRecord]:
    return (
        select(IssuedDocumentRecord)
        .outerjoin(
            BookingRecord,
            and_(BookingRecord.system == system, BookingRecord.reference == IssuedDocumentRecord.number),
        )
        .where(BookingRecord.id.is_(None))
    )


def not_booked_count(session: Session, system: str) -> int:
    return int(session.scalar(select(func.count()).select_from(_not_booked(system).subquery())) or 0)


def not_booked(session: Session, system: str, limit: int | None = None) -> list[IssuedDocument]:
    """Issued documents `system` does not hold yet, oldest first (invoices before the credit notes
    that correct them)."""
    query = _not_booked(system).order_by(IssuedDocumentRecord.issued_at, IssuedDocumentRecord.number)
    if limit is not None:
        query = query.limit(limit)
    return [issued_document(row) for row in session.scalars(query)]


def bookings(session: Session, system: str, external_ids: Iterable[str] | None = None) -> dict[str, Booking]:
    """A system's bookings by the id it gave them (only those ids when given)."""
    query = (
        select(BookingRecord, IssuedDocumentRecord.kind, IssuedDocumentRecord.channel)
        .join(IssuedDocumentRecord, IssuedDocumentRecord.number == BookingRecord.reference)
        .where(BookingRecord.system == system)
    )
    if external_ids is not None:
        query = query.where(BookingRecord.external_id.in_(list(external_ids)))
    return {
        row.external_id: Booking(row.reference, kind, row.external_id, row.booked_at, channel)
        for row, kind, channel in session.execute(query)
    }
