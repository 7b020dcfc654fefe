"""The books as the rest of the engine sees them: a push of our invoices and credit notes to an
accounting system, what it did, and what the system holds per day (for the reconciliation report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from temporalio import activity

from domain.money import Money

MONEYBIRD = "moneybird"
"""The accounting system name in the booking table (persistence.models.BookingRecord.system)."""


@dataclass(frozen=True)
class PushResult:
    system: str
    booked: int = 0
    """Documents posted now."""
    found: int = 0
    """Documents the system already held under our number (a run that crashed before its commit)."""
    paid: int = 0
    """Payments registered now (money collected, or paid back on a credit note)."""
    left: int = 0
    """Documents still not booked (a run stopped by its limit)."""
    rate_limited_seconds: float = 0.0


@dataclass(frozen=True)
class BookedDay:
    """What a system holds of our documents for one day and currency, amounts as booked (VAT
    included; credit notes negative)."""

    day: date
    currency: str
    invoices: Money
    credit_notes: Money
    invoice_count: int
    credit_note_count: int

    @property
    def total(self) -> Money:
        return self.invoices + self.credit_notes


@dataclass(frozen=True)
class PushInput:
    limit: int | None = None
    """At most this many documents in one run (None: all)."""


class MoneybirdPush:
    """The Moneybird push activity (activities.moneybird_push implements it)."""

    @activity.defn
    def push_to_moneybird(self, data: PushInput) -> PushResult:
        raise NotImplementedError
