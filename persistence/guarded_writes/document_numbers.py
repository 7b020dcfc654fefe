"""Invoice and credit note numbers, gapless and sequential per series and year, never given twice.

A number is taken in the caller's transaction, the one that records the document: the counter's row
is locked (SELECT ... FOR UPDATE on PostgreSQL; on SQLite a writer holds the database's write lock
from BEGIN IMMEDIATE), moved on by one, and the number written beside the document's id. If that
transaction rolls back, the counter goes back with it, so the number is issued to the next document
instead and no gap is left. Two documents at once queue on the lock: the second reads the counter
only after the first committed. A document that asks again (a retried activity) finds its number
by its id and gets that one, writing nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domain import limits
from domain.document_numbers import DocumentNumber, InvalidDocumentNumber, check_series
from persistence.models import DocumentNumberCounter, IssuedDocumentNumber, utcnow


class NumberedElsewhere(InvalidDocumentNumber):
    """The document has a number in another series or year already: a document has one number."""

    def __init__(self, document_id: str, issued: DocumentNumber) -> None:
        super().__init__(f"document {document_id!r} was numbered {issued} already")
        self.issued = issued


def issue_number(session: Session, series: str, year: int, document_id: str, at: datetime) -> str:
    """The number of document `document_id` in `series` and `year`, e.g. "INV-2026-000123": the next
    one in the sequence, or the one it was given before. Issued in `session`'s transaction, which
    the caller commits with the document. NumberedElsewhere when the document has a number in
    another series or year; InvalidDocumentNumber for a series, year or id no number can carry."""
    return str(issue(session, series, year, document_id, at))


def issue(session: Session, series: str, year: int, document_id: str, at: datetime) -> DocumentNumber:
    """issue_number, answering the number's parts."""
    check_series(series)
    DocumentNumber(series, year, 1)  # refuses a year no number can carry, before anything is written
    if not 0 < len(document_id) <= limits.DOCUMENT_ID:
        raise InvalidDocumentNumber(f"a document id is 1 to {limits.DOCUMENT_ID} characters")
    if at.utcoffset() is None:
        raise InvalidDocumentNumber("a number's issue time must carry its time zone")
    counter = _locked_counter(session, series, year)
    # Read after the lock: a repeat racing its first try sees the number that try committed.
    if (before := issued_to(session, document_id)) is not None:
        if (before.series, before.year) != (series, year):
            raise NumberedElsewhere(document_id, before)
        return before
    counter.last_number += 1
    counter.updated_at = utcnow()
    session.add(
        IssuedDocumentNumber(
            series=series, year=year, number=counter.last_number, document_id=document_id, issued_at=at
        )
    )
    session.flush()
    return DocumentNumber(series, year, counter.last_number)


def issued_to(session: Session, document_id: str) -> DocumentNumber | None:
    """The number document `document_id` was given, if any."""
    row = session.scalar(select(IssuedDocumentNumber).where(IssuedDocumentNumber.document_id == document_id))
    return None if row is None else DocumentNumber(row.series, row.year, row.number)


def _locked_counter(session: Session, series: str, year: int) -> DocumentNumberCounter:
    """The counter's row, made at 0 the first time the series meets the year, locked until the
    transaction ends."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"series": series, "year": year, "last_number": 0, "updated_at": utcnow()}
    session.execute(insert(DocumentNumberCounter).values(**values).on_conflict_do_nothing())
    counter = session.scalar(
        select(DocumentNumberCounter)
        .where(DocumentNumberCounter.series == series, DocumentNumberCounter.year == year)
        .with_for_update()  # PostgreSQL; SQLite's write lock is already held since BEGIN IMMEDIATE
        .execution_options(populate_existing=True)
    )
    assert counter is not None
    return counter
