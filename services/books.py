"""The books: a day's journal per currency (domain.journal), the accounting systems it is pushed to
(`Bookkeeper`: Exact Online here, Moneybird beside it), and the reconciliation of what the engine
took against what was booked.

A books day is a calendar day in the `books_timezone` setting (Europe/Amsterdam by default): its
window is that day's local midnight to the next, in UTC, so a late-evening sale in Amsterdam is
booked on the day the shop saw it.

An accounting system plugs in as a `Bookkeeper`: `push_day(day, currency)` books what the day's
`Books.sales` say (or its documents one by one), once (the `bookings` table, generic by `system`,
keyed by channel or "<channel>:<document number>", plus a look-up at the system before posting), and
`booked(day, currency)` reads back what the system holds per channel, for the reconciliation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from config import Settings
from domain.journal import ChartOfAccounts, DocumentFact, Journal, SalesLine, Settlement, gross, journal, sales
from domain.money import Money
from persistence.db import SessionFactory, readers_of
from persistence.guarded_writes.bookings import Booking, bookings_between
from persistence.read_model.books import credit_facts, currencies_between, document_facts, payment_movements
from services.errors import Unprocessable

LONGEST_RANGE = timedelta(days=92)
"""The most days one reconciliation reads (it may read every one back from the systems)."""


def day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The books day `day` in `timezone` as [start, end) in UTC (23 or 25 hours on a DST change)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def books_today(timezone: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


def chart_of_accounts(settings: Settings) -> ChartOfAccounts:
    return ChartOfAccounts(
        revenue=settings.books_account_revenue,
        shipping_revenue=settings.books_account_shipping_revenue,
        vat_payable=settings.books_account_vat_payable,
        gateway_clearing=settings.books_account_gateway_clearing,
        channel_receivable=settings.books_account_channel_receivable,
        store_credit=settings.books_account_store_credit,
        credit_adjustments=settings.books_account_credit_adjustments,
        expired_credit=settings.books_account_expired_credit,
    )


@dataclass(frozen=True)
class PushReport:
    system: str
    day: date
    currency: str
    posted: list[str] = field(default_factory=list)
    """Keys (channels) booked by this run."""
    found: list[str] = field(default_factory=list)
    """Keys the system already held (a run that crashed after posting): recorded, not posted again."""
    already: list[str] = field(default_factory=list)
    """Keys booked by an earlier run."""


class Bookkeeper(Protocol):
    """An accounting system the books are pushed to (Exact Online, Moneybird)."""

    system: str
    """Its name in the bookings table ("exact", "moneybird")."""

    def push_day(self, day: date, currency: str) -> PushReport:
        """Book the day's sales in `currency` (Books.sales), each key once however often it runs."""
        ...

    def booked(self, day: date, currency: str) -> dict[str, Money]:
        """What the system holds for the day and currency per channel (VAT included, credit notes
        negative), read back from it."""
        ...


@dataclass(frozen=True)
class SystemAmounts:
    system: str
    recorded: Money | None
    """What our bookings table says was booked (None: nothing)."""
    at_system: Money | None
    """What the system holds, read back (None: nothing there)."""


@dataclass(frozen=True)
class ReconciliationRow:
    day: date
    currency: str
    channel: str
    sales: Money
    """What the day's invoices less its credit notes came to (VAT included): what must be booked."""
    gateway: Money
    """Of that: settled through our payment gateway (captured, less refunded)."""
    marketplace: Money
    """Of that: collected by the channel (a receivable on it)."""
    systems: tuple[SystemAmounts, ...]
    captured: Money
    """What our gateway captured that day for the channel's orders (the dated payment ledger)."""
    refunded: Money
    """What our gateway gave back that day for the channel's orders."""

    @property
    def unexplained(self) -> Money:
        """Money our gateway moved that the day's documents do not account for (captured less
        refunded, less what the documents settled through the gateway): zero when every capture was
        invoiced and every refund credited."""
        return self.captured - self.refunded - self.gateway

    def difference(self, system: SystemAmounts) -> Money:
        """What the system holds less what the engine's documents came to, to the cent."""
        held = system.at_system or Money.zero(self.currency)
        return held - self.sales


class Books:
    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self._sessions = sessions
        self._readers = readers_of(sessions)
        self._settings = settings
        self._chart = chart_of_accounts(settings)

    @property
    def timezone(self) -> str:
        return self._settings.books_timezone

    def _documents(self, day: date, currency: str) -> list[DocumentFact]:
        start, end = day_window(day, self.timezone)
        with self._readers() as session:
            return document_facts(session, start, end, currency)

    def _moved(self, day: date, currency: str) -> dict[str, dict[str, int]]:
        start, end = day_window(day, self.timezone)
        with self._readers() as session:
            return payment_movements(session, start, end, currency)

    def journal(self, day: date, currency: str) -> Journal:
        start, end = day_window(day, self.timezone)
        with self._readers() as session:
            documents = document_facts(session, start, end, currency)
            credits = credit_facts(session, start, end, currency)
        return journal(currency, documents, credits, self._chart)

    def sales(self, day: date, currency: str) -> dict[str, tuple[SalesLine, ...]]:
        """Per channel, what one sales entry for the day carries (domain.journal.sales)."""
        return sales(currency, self._documents(day, currency), self._chart)

    def currencies(self, first: date, last: date) -> list[str]:
        start, _ = day_window(first, self.timezone)
        _, end = day_window(last, self.timezone)
        with self._readers() as session:
            return currencies_between(session, start, end)

    def bookings(self, system: str, first: date, last: date) -> list[Booking]:
        with self._readers() as session:
            return bookings_between(session, system, first, last)

    def reconciliation(
        self, first: date, last: date, bookkeepers: Sequence[Bookkeeper] = ()
    ) -> list[ReconciliationRow]:
        """Per day, currency and channel: what the engine's documents came to, and per system what
        our bookings say and what the system holds (read back)."""
        if first > last:
            raise Unprocessable("from must not be after to")
        if last - first > LONGEST_RANGE:
            raise Unprocessable(f"at most {LONGEST_RANGE.days} days at once")
        rows: list[ReconciliationRow] = []
        currencies = self.currencies(first, last)
        recorded: dict[tuple[str, date, str, str], Money] = {}
        for keeper in bookkeepers:
            for b in self.bookings(keeper.system, first, last):
                # A key is a channel, or "<channel>:<what>" for a system that books per document.
                where = (keeper.system, b.day, b.currency, channel_of(b.key))
                recorded[where] = recorded.get(where, Money.zero(b.currency)) + b.amount
        currencies = sorted({*currencies, *(currency for _, _, currency, _ in recorded)})
        day = first
        while day <= last:
            for currency in currencies:
                documents = self._documents(day, currency)
                moved = self._moved(day, currency)
                per_channel = sales(currency, documents, self._chart)
                read_back = {keeper.system: keeper.booked(day, currency) for keeper in bookkeepers}
                channels = sorted(
                    {
                        *per_channel,
                        *moved,
                        *(k for (s, d, c, k) in recorded if d == day and c == currency),
                        *(k for amounts in read_back.values() for k in amounts),
                    }
                )
                for channel in channels:
                    rows.append(
                        ReconciliationRow(
                            day,
                            currency,
                            channel,
                            gross(per_channel.get(channel, ()), currency),
                            _settled(documents, channel, Settlement.GATEWAY, currency),
                            _settled(documents, channel, Settlement.CHANNEL, currency),
                            tuple(
                                SystemAmounts(
                                    keeper.system,
                                    recorded.get((keeper.system, day, currency, channel)),
                                    read_back[keeper.system].get(channel),
                                )
                                for keeper in bookkeepers
                            ),
                            Money(moved.get(channel, {}).get("captured", 0), currency),
                            Money(moved.get(channel, {}).get("refunded", 0), currency),
                        )
                    )
            day += timedelta(days=1)
        return rows


def channel_of(key: str) -> str:
    """The channel of a booking key: the key itself (Exact: a sales entry per channel), or its part
    before the first ":" (a system that books each document, e.g. "bol:INV-2026-000123")."""
    return key.split(":", 1)[0]


def _settled(documents: Sequence[DocumentFact], channel: str, settlement: Settlement, currency: str) -> Money:
    return Money(
        sum(
            fact.document.signed(fact.document.gross).amount_minor
            for fact in documents
            if fact.channel == channel and fact.settlement is settlement
        ),
        currency,
    )
