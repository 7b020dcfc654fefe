"""Push our invoices and credit notes to Moneybird, each once, and read back what it holds per day.

A run reads the documents not yet booked (a short read), then for each day among them asks
Moneybird for that day's external sales invoices and posts only those whose number it does not
hold: a run that crashed after Moneybird answered and before our booking was committed finds its
document again by `reference` and books it without posting twice. Each document is then marked paid
(our documents follow money already collected or paid back) unless Moneybird shows it paid, and
its booking is committed in a transaction of its own. No transaction is open during a request.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from config import Settings
from contracts.invoices import IssuedDocument
from contracts.moneybird import MONEYBIRD, BookedDay, PushResult
from domain.invoicing import DocumentKind
from domain.money import Money
from integrations.accounting.moneybird import mapping
from integrations.accounting.moneybird.client import MoneybirdClient
from persistence.db import SessionFactory
from persistence.guarded_writes.document_bookings import record_document_booking
from persistence.read_model import document_bookings as bookings
from services.books import PushReport

log = logging.getLogger("oms.books.moneybird")

LOOKUP_CHUNK = 500


@dataclass
class _Accounts:
    rates: mapping.TaxRates
    ledger_account_id: str
    contacts: dict[str, str] = field(default_factory=dict)


class MoneybirdBooks:
    system = MONEYBIRD

    def __init__(
        self,
        session_factory: SessionFactory,
        client: MoneybirdClient,
        *,
        tax_rate_ids: dict[str, str] | None = None,
        ledger_account_id: str = "",
        source_url: str = "",
        zone: tzinfo = UTC,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`source_url`: where a booked document links back to (`{number}` is filled in), e.g. the
        engine's public address; empty: no link. `zone`: the books' time zone, whose day a document
        is dated (UTC by default: the day `read_model.invoices.issued_between` counts it in)."""
        self._sessions = session_factory
        self._client = client
        self._named_rates = dict(tax_rate_ids or {})
        self._ledger_account_id = ledger_account_id
        self._source_url = source_url
        self._zone = zone
        self._clock = clock

    def close(self) -> None:
        self._client.close()

    def push(self, *, limit: int | None = None, progress: Callable[[str], None] = lambda _number: None) -> PushResult:
        """Book every document Moneybird does not hold yet (at most `limit`); `progress` is called
        with each number booked (an activity's heartbeat)."""
        with self._sessions() as session:
            documents = bookings.not_booked(session, self.system, limit)
            left = 0 if limit is None else bookings.not_booked_count(session, self.system) - len(documents)
        if not documents:
            return PushResult(self.system, left=left, rate_limited_seconds=self._client.waited)
        accounts = _Accounts(
            mapping.tax_rates(self._client.tax_rates(), self._named_rates),
            mapping.revenue_account(self._client.ledger_accounts(), self._ledger_account_id),
        )
        booked = found = paid = 0
        by_day: dict[date, list[IssuedDocument]] = defaultdict(list)
        for document in documents:
            by_day[mapping.booking_day(document, self._zone)].append(document)
        for day, todays in sorted(by_day.items()):
            held = {str(each.get("reference")): each for each in self._client.external_sales_invoices(day, day)}
            for document in todays:
                invoice = held.get(document.number)
                if invoice is None:
                    invoice = self._client.create_external_sales_invoice(
                        mapping.invoice_body(
                            document,
                            self._contact(accounts, document),
                            accounts.rates,
                            accounts.ledger_account_id,
                            self._source_url.replace("{number}", document.number),
                            self._zone,
                        )
                    )
                    booked += 1
                else:
                    found += 1
                paid += self._mark_paid(document, invoice)
                self._record(document, str(invoice["id"]))
                progress(document.number)
        log.info("moneybird push: %d booked, %d found already booked, %d paid", booked, found, paid)
        return PushResult(self.system, booked, found, paid, left, self._client.waited)

    def _contact(self, accounts: _Accounts, document: IssuedDocument) -> str:
        customer_id, contact = mapping.contact_for(document)
        if customer_id not in accounts.contacts:
            existing = self._client.contact_by_customer_id(customer_id)
            made = existing if existing is not None else self._client.create_contact(contact)
            accounts.contacts[customer_id] = str(made["id"])
        return accounts.contacts[customer_id]

    def _mark_paid(self, document: IssuedDocument, invoice: dict[str, Any]) -> int:
        """Register what is still unpaid at Moneybird (all of it, for a document just posted): our
        documents follow money collected (an invoice) or paid back (a credit note)."""
        if invoice.get("state") == "paid":
            return 0
        unpaid = mapping.money_of(invoice, "total_unpaid")
        if unpaid.amount_minor == 0:
            return 0
        self._client.add_payment(str(invoice["id"]), mapping.payment_body(document, unpaid, self._zone))
        return 1

    def _record(self, document: IssuedDocument, external_id: str) -> None:
        with self._sessions() as session, session.begin():
            day = mapping.booking_day(document, self._zone)
            record_document_booking(session, self.system, document, day, external_id, self._clock())

    def booked_per_day(self, first: date, last: date) -> list[BookedDay]:
        """What Moneybird holds of our booked documents dated `first` to `last` (both included), per
        day and currency, as it totals them (VAT included; credit notes negative). Read from
        Moneybird's invoices (GET) joined with our booking table by Moneybird's id, so an invoice
        someone typed in Moneybird by hand is not counted as ours."""
        invoices = self._client.external_sales_invoices(first, last)
        ours: dict[str, bookings.Booking] = {}
        ids = [str(invoice["id"]) for invoice in invoices]
        with self._sessions() as session:
            for start in range(0, len(ids), LOOKUP_CHUNK):
                ours.update(bookings.bookings(session, self.system, ids[start : start + LOOKUP_CHUNK]))
        days: dict[tuple[date, str], list[tuple[str, Money]]] = defaultdict(list)
        for invoice in invoices:
            booking = ours.get(str(invoice["id"]))
            if booking is None:
                continue
            total = mapping.money_of(invoice, "total_price_incl_tax")
            days[(date.fromisoformat(str(invoice["date"])), total.currency)].append((booking.kind, total))
        return [_day(day, currency, entries) for (day, currency), entries in sorted(days.items())]

    # The reconciliation's Bookkeeper (services.books): what Moneybird holds per channel.
    def booked(self, day: date, currency: str) -> dict[str, Money]:
        """Our documents Moneybird holds dated `day` in `currency`, per channel (VAT included, credit
        notes negative), as Moneybird totals them (read back, joined with our bookings by its id)."""
        invoices = [each for each in self._client.external_sales_invoices(day, day) if each.get("currency") == currency]
        with self._sessions() as session:
            ours = bookings.bookings(session, self.system, [str(each["id"]) for each in invoices])
        held: dict[str, Money] = {}
        for invoice in invoices:
            booking = ours.get(str(invoice["id"]))
            if booking is not None:
                total = mapping.money_of(invoice, "total_price_incl_tax")
                held[booking.channel] = held.get(booking.channel, Money.zero(currency)) + total
        return held

    def push_day(self, day: date, currency: str) -> PushReport:
        """Moneybird books each document as it is issued (`push`), whatever its day: this pushes
        every document not booked yet and reports the day's numbers it booked now."""
        numbers: list[str] = []
        self.push(progress=numbers.append)
        report = PushReport(self.system, day, currency)
        report.posted.extend(numbers)
        return report


def _day(day: date, currency: str, entries: Iterable[tuple[str, Money]]) -> BookedDay:
    invoices = credit_notes = Money.zero(currency)
    invoice_count = credit_note_count = 0
    for kind, total in entries:
        if kind == DocumentKind.CREDIT_NOTE.value:
            credit_notes, credit_note_count = credit_notes + total, credit_note_count + 1
        else:
            invoices, invoice_count = invoices + total, invoice_count + 1
    return BookedDay(day, currency, invoices, credit_notes, invoice_count, credit_note_count)


def moneybird_books(settings: Settings, session_factory: SessionFactory) -> MoneybirdBooks | None:
    """The push the settings connect (OMS_MONEYBIRD_*), or None when Moneybird is not enabled."""
    if not settings.moneybird_enabled:
        return None
    client = MoneybirdClient(
        settings.moneybird_api_url, settings.moneybird_api_token, settings.moneybird_administration_id
    )
    return MoneybirdBooks(
        session_factory,
        client,
        tax_rate_ids=settings.moneybird_tax_rate_ids,
        ledger_account_id=settings.moneybird_ledger_account_id,
        zone=ZoneInfo(settings.books_timezone),
    )
