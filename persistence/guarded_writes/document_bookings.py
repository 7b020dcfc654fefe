"""Note that an accounting system holds one of our documents, once per system and number.

Written after the system answered, in a transaction of its own (no transaction is open while we
wait for the system). A second note of the same document (a retried push that found it at the
system by its number) keeps the first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from domain import limits
from persistence.models import AccountingBooking


def record_booking(
    session: Session, system: str, document_number: str, kind: str, external_id: str, at: datetime
) -> AccountingBooking:
    if len(external_id) > limits.BOOKING_EXTERNAL_ID:
        raise ValueError(f"{system} answered an id longer than {limits.BOOKING_EXTERNAL_ID} characters")
    existing = session.get(AccountingBooking, (system, document_number))
    if existing is not None:
        return existing
    booking = AccountingBooking(
        system=system, document_number=document_number, kind=kind, external_id=external_id, booked_at=at
    )
    session.add(booking)
    session.flush()
    return booking
