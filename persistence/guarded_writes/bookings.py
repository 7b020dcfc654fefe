"""What was booked in an accounting system (services.books), and that system's OAuth2 tokens.

A booking row is written after the system answered, in its own short transaction (no transaction
is open across the call). Its unique key (system, day, currency, key) makes a second writer find
the first one's row; a crash between the system's answer and this row is caught by the push
looking its reference up at the system first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.money import Money
from persistence.models import AccountingToken, BookingRecord, utcnow


@dataclass(frozen=True)
class Booking:
    system: str
    day: date
    currency: str
    key: str
    reference: str
    external_id: str
    amount: Money
    booked_at: datetime


def _booking(row: BookingRecord) -> Booking:
    return Booking(
        row.system,
        row.day,
        row.currency,
        row.key,
        row.reference,
        row.external_id,
        Money(row.amount_minor, row.currency),
        row.booked_at,
    )


def booking(session: Session, system: str, day: date, currency: str, key: str) -> Booking | None:
    row = session.scalar(
        select(BookingRecord).where(
            BookingRecord.system == system,
            BookingRecord.day == day,
            BookingRecord.currency == currency,
            BookingRecord.key == key,
        )
    )
    return None if row is None else _booking(row)


def record_booking(
    session: Session,
    *,
    system: str,
    day: date,
    currency: str,
    key: str,
    reference: str,
    external_id: str,
    amount: Money,
    at: datetime | None = None,
) -> Booking:
    """Record what was booked; already recorded (a run racing this one): the first record."""
    row = BookingRecord(
        system=system,
        day=day,
        currency=currency,
        key=key,
        reference=reference,
        external_id=external_id,
        amount_minor=amount.amount_minor,
        booked_at=at or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = booking(session, system, day, currency, key)
        assert existing is not None
        return existing
    return _booking(row)


def bookings_between(session: Session, system: str, first: date, last: date) -> list[Booking]:
    rows = session.scalars(
        select(BookingRecord)
        .where(BookingRecord.system == system, BookingRecord.day >= first, BookingRecord.day <= last)
        .order_by(BookingRecord.day, BookingRecord.currency, BookingRecord.key)
    )
    return [_booking(row) for row in rows]


def systems_booked(session: Session, first: date, last: date) -> list[str]:
    rows = session.scalars(
        select(BookingRecord.system).where(BookingRecord.day >= first, BookingRecord.day <= last).distinct()
    )
    return sorted(rows)


def load_tokens(session: Session, system: str) -> tuple[str, str, datetime | None] | None:
    """(refresh token, access token, its expiry), or None before the first connection."""
    row = session.get(AccountingToken, system)
    return None if row is None else (row.refresh_token, row.access_token, row.access_expires_at)


def save_tokens(
    session: Session, system: str, refresh_token: str, access_token: str, expires_at: datetime | None
) -> None:
    row = session.get(AccountingToken, system, with_for_update=True)
    if row is None:
        session.add(
            AccountingToken(
                system=system,
                refresh_token=refresh_token,
                access_token=access_token,
                access_expires_at=expires_at,
                updated_at=utcnow(),
            )
        )
    else:
        row.refresh_token, row.access_token = refresh_token, access_token
        row.access_expires_at, row.updated_at = expires_at, utcnow()
    session.flush()
