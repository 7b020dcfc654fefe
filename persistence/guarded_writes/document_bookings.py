"""Note that an accounting system holds one of our documents (a system that books each document,
such as Moneybird), once per system and number, in the one `bookings` table every system shares
(persistence.guarded_writes.bookings): keyed "<channel>:<number>" on the document's day, its amount
the document's gross as booked (credit notes negative), so the reconciliation adds it up per channel
like any other system's bookings.

Written after the system answered, in a transaction of its own (no transaction is open while we
wait for the system). A second note of the same document (a retried push that found it at the
system by its number) keeps the first.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from contracts.invoices import IssuedDocument
from domain import limits
from persistence.guarded_writes.bookings import Booking, record_booking


def document_key(document: IssuedDocument) -> str:
    return f"{document.channel}:{document.number}"


def record_document_booking(
    session: Session, system: str, document: IssuedDocument, day: date, external_id: str, at: datetime
) -> Booking:
    if len(external_id) > limits.BOOKING_EXTERNAL_ID:
        raise ValueError(f"{system} answered an id longer than {limits.BOOKING_EXTERNAL_ID} characters")
    return record_booking(
        session,
        system=system,
        day=day,
        currency=document.document.currency,
        key=document_key(document),
        reference=document.number,
        external_id=external_id,
        amount=document.document.signed(document.document.gross),
        at=at,
    )
