"""Issued invoices and credit notes, read back as issued (contracts.invoices.IssuedDocument): for
an order's page, a download by number, and the books (a day's documents)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.invoices import IssuedDocument
from persistence.guarded_writes.invoices import issued_document
from persistence.models import IssuedDocumentRecord


def for_order(session: Session, order_id: str) -> list[IssuedDocument]:
    """An order's documents in the order they were issued."""
    rows = session.scalars(
        select(IssuedDocumentRecord)
        .where(IssuedDocumentRecord.order_id == order_id)
        .order_by(IssuedDocumentRecord.issued_at, IssuedDocumentRecord.number)
    )
    return [issued_document(row) for row in rows]


def by_number(session: Session, number: str) -> IssuedDocument | None:
    row = session.scalar(select(IssuedDocumentRecord).where(IssuedDocumentRecord.number == number))
    return None if row is None else issued_document(row)


def by_id(session: Session, document_id: str) -> IssuedDocument | None:
    row = session.get(IssuedDocumentRecord, document_id)
    return None if row is None else issued_document(row)


def issued_between(session: Session, start: datetime, end: datetime) -> list[IssuedDocument]:
    """Documents issued in [start, end) (UTC), by time then number: a day's documents for the books."""
    rows = session.scalars(
        select(IssuedDocumentRecord)
        .where(IssuedDocumentRecord.issued_at >= start, IssuedDocumentRecord.issued_at < end)
        .order_by(IssuedDocumentRecord.issued_at, IssuedDocumentRecord.number)
    )
    return [issued_document(row) for row in rows]
