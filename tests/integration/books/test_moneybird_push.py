"""Pushing a day of invoices and credit notes to Moneybird (sandboxes/moneybird.py over real HTTP),
against real SQLite and PostgreSQL: each document is booked once however often the push runs or
where it crashed, the rate limit is waited out, a refused token books nothing, and what Moneybird
totals equals our documents to the cent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.exceptions import ApplicationError

from activities.moneybird_push import MoneybirdActivities
from config import load_settings
from contracts.documents import BuyerDetails
from contracts.errors import ErrorType
from contracts.invoices import IssuedDocument
from contracts.moneybird import PushInput
from domain.invoicing import DocumentKind, Item, amount_credit_note, credit_note, invoice
from domain.money import Money
from domain.vat import DUTCH_RATES
from integrations.accounting.moneybird.client import (
    MoneybirdAuthFailed,
    MoneybirdClient,
    MoneybirdRefused,
    MoneybirdUnavailable,
)
from integrations.accounting.moneybird.mapping import MappingError
from persistence.guarded_writes.invoices import record_document
from persistence.models import BookingRecord
from sandboxes import moneybird as sandbox
from sandboxes.server import serve
from services.books import Books
from services.moneybird_books import MoneybirdBooks
from tests.conftest import TestDatabase

DAY = date(2026, 12, 7)
AT = datetime(2026, 12, 7, 9, tzinfo=UTC)
CONSUMER = BuyerDetails("A. Buyer", ("Kerkstraat 1",), "1011 AA", "Amsterdam", "NL")
BUSINESS = BuyerDetails("Muster GmbH", ("Hauptstr. 5",), "10115", "Berlin", "DE", vat_id="DE123456789")


@pytest.fixture
def moneybird() -> Iterator[str]:
    with serve(sandbox.create_app()) as url:
        yield url


def _client(url: str, token: str = sandbox.TOKEN) -> MoneybirdClient:
    return MoneybirdClient(f"{url}/api/v2", token, sandbox.ADMINISTRATION_ID)


def _books(db: TestDatabase, url: str, token: str = sandbox.TOKEN) -> MoneybirdBooks:
    return MoneybirdBooks(db.session_factory, _client(url, token), source_url="https://oms.example/invoices/{number}")


def _issue(db: TestDatabase) -> list[IssuedDocument]:
    """A day: two webshop invoices (21 % and 9 % goods with shipping; 21 % only), a reverse-charge
    invoice to a German business, a credit note for returned goods, a goodwill credit note spread
    over two rates and one on the reverse-charge invoice."""
    two_rates = invoice(
        [Item("Mug", "standard", Money(1299, "EUR")), Item("Book", "reduced", Money(2000, "EUR"), 2)],
        Money(495, "EUR"),
        DUTCH_RATES,
    )
    one_rate = invoice([Item("Hoodie", "standard", Money(5999, "EUR"))], Money(395, "EUR"), DUTCH_RATES)
    reverse = invoice(
        [Item("Mug", "standard", Money(12990, "EUR"), 10)], Money(1495, "EUR"), DUTCH_RATES, reverse_charge=True
    )
    returned = credit_note([Item("Mug", "standard", Money(1299, "EUR"))], Money.zero("EUR"), DUTCH_RATES)
    goodwill = amount_credit_note(Money(777, "EUR"), two_rates, "Goodwill")
    reverse_goodwill = amount_credit_note(Money(1000, "EUR"), reverse, "Goodwill")
    issued = []
    plan: list[tuple[str, Any, str, str, BuyerDetails, str]] = [
        ("inv:s1", two_rates, "order-webshop-1", "webshop", CONSUMER, ""),
        ("inv:s2", one_rate, "order-bol-2", "bol", CONSUMER, ""),
        ("inv:s3", reverse, "order-webshop-3", "webshop", BUSINESS, ""),
        ("cn:r1", returned, "order-webshop-1", "webshop", CONSUMER, "first"),
        ("cn:g1", goodwill, "order-webshop-1", "webshop", CONSUMER, "first"),
        ("cn:g3", reverse_goodwill, "order-webshop-3", "webshop", BUSINESS, "third"),
    ]
    numbers: dict[str, str] = {}
    for index, (document_id, document, order_id, channel, buyer, corrects) in enumerate(plan):
        with db.session() as session, session.begin():
            done = record_document(
                session,
                document_id,
                document,
                order_id=order_id,
                channel=channel,
                buyer=buyer,
                at=AT + timedelta(minutes=index),
                corrects={"first": numbers.get("inv:s1", ""), "third": numbers.get("inv:s3", "")}.get(corrects, ""),
            )
        numbers[document_id] = done.number
        issued.append(done)
    return issued


def _held(url: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/_sandbox/invoices")
    response.raise_for_status()
    return list(response.json())


def _posts(url: str) -> int:
    calls = httpx.get(f"{url}/_sandbox/calls").json()
    return sum(1 for c in calls if c["method"] == "POST" and c["path"].endswith("/external_sales_invoices.json"))


def _bookings(db: TestDatabase) -> int:
    with db.session() as session:
        return int(
            session.scalar(select(func.count()).select_from(BookingRecord).where(BookingRecord.system == "moneybird"))
            or 0
        )


def _signed_cents(document: IssuedDocument) -> int:
    return document.document.signed(document.document.gross).amount_minor


def _cents(amount: str) -> int:
    return Money.parse(amount, "EUR").amount_minor


def test_a_day_is_booked_once_and_totals_equal_our_documents(database, moneybird):
    issued = _issue(database)
    first = _books(database, moneybird).push()
    assert (first.booked, first.found, first.paid, first.left) == (6, 0, 6, 0)
    again = _books(database, moneybird).push()
    assert (again.booked, again.found, again.paid) == (0, 0, 0)
    held = {invoice["reference"]: invoice for invoice in _held(moneybird)}
    assert len(held) == 6 and _posts(moneybird) == 6 and _bookings(database) == 6
    for document in issued:
        at_moneybird = held[document.number]
        assert _cents(at_moneybird["total_price_incl_tax"]) == _signed_cents(document), document.number
        assert at_moneybird["state"] == "paid" and at_moneybird["date"] == "2026-12-07"
        assert at_moneybird["prices_are_incl_tax"] is True and at_moneybird["currency"] == "EUR"
        # One detail per VAT rate of the document, the reverse charge at Moneybird's "Btw verlegd".
        assert len(at_moneybird["details"]) == len(document.document.rate_totals)
        if document.document.reverse_charge:
            assert {d["tax_rate_id"] for d in at_moneybird["details"]} == {"453000000000000004"}
            assert at_moneybird["contact"]["tax_number"] == "DE123456789"
        else:
            assert at_moneybird["contact"]["customer_id"] == f"oms-{document.channel}"
            assert CONSUMER.name not in str(at_moneybird["contact"])  # no consumer's name in the books
        if document.kind is DocumentKind.CREDIT_NOTE:
            assert _cents(at_moneybird["total_price_incl_tax"]) < 0
            assert at_moneybird["details"][0]["description"].startswith(f"{document.number} (credit note, corrects ")
    two_rates = held[issued[0].number]
    assert {d["tax_rate_id"] for d in two_rates["details"]} == {"453000000000000001", "453000000000000002"}
    assert _cents(two_rates["total_price_excl_tax"]) == issued[0].document.net.amount_minor

    (day,) = _books(database, moneybird).booked_per_day(DAY, DAY)
    invoices = [d for d in issued if d.kind is DocumentKind.INVOICE]
    notes = [d for d in issued if d.kind is DocumentKind.CREDIT_NOTE]
    assert (day.day, day.currency, day.invoice_count, day.credit_note_count) == (DAY, "EUR", 3, 3)
    consumers = (1299 + 2000 + 495) + (5999 + 395)  # what the two consumer invoices charged, VAT included
    assert day.invoices.amount_minor == sum(_signed_cents(d) for d in invoices)
    assert day.invoices.amount_minor == consumers + invoices[2].document.gross.amount_minor
    assert day.credit_notes.amount_minor == sum(_signed_cents(d) for d in notes) < 0
    assert _books(database, moneybird).booked_per_day(DAY + timedelta(days=1), DAY + timedelta(days=2)) == []


class _CrashBeforeCommit(MoneybirdBooks):
    """The process dies after Moneybird answered and before the booking is committed."""

    def _record(self, document: IssuedDocument, external_id: str) -> None:
        raise RuntimeError(f"killed before booking {document.number}")


def test_a_crash_between_the_post_and_the_commit_books_nothing_twice(database, moneybird):
    issued = _issue(database)
    crashed = _CrashBeforeCommit(database.session_factory, _client(moneybird))
    with pytest.raises(RuntimeError, match="killed before booking"):
        crashed.push()
    assert len(_held(moneybird)) == 1 and _bookings(database) == 0  # posted and paid, not noted
    done = _books(database, moneybird).push()
    assert (done.booked, done.found, done.paid) == (5, 1, 5)  # found by reference, already paid
    held = _held(moneybird)
    assert len(held) == 6 and _posts(moneybird) == 6 and _bookings(database) == 6
    assert sorted(invoice["reference"] for invoice in held) == sorted(d.number for d in issued)
    assert all(invoice["state"] == "paid" and len(invoice["payments"]) == 1 for invoice in held)


def test_a_429_is_waited_out_for_its_retry_after(database, moneybird):
    _issue(database)
    httpx.post(
        f"{moneybird}/_sandbox/fail-next",
        json={"status": 429, "count": 1, "retry_after": "1", "path_contains": "external_sales_invoices"},
    ).raise_for_status()
    started = time.monotonic()
    done = _books(database, moneybird).push()
    assert time.monotonic() - started >= 1.0 and done.rate_limited_seconds >= 1.0
    assert done.booked == 6 and len(_held(moneybird)) == 6 and _posts(moneybird) == 6  # the 429 was asked again


def test_the_documented_rate_limit_is_respected(database):
    """A window of 10 requests per 2 s (Moneybird's is 150 per 5 minutes): the push waits for the
    window to reset instead of failing, and books everything once."""
    _issue(database)
    with serve(sandbox.create_app(rate_limit=10, window_seconds=2)) as url:
        done = _books(database, url).push()
        assert done.booked == 6 and done.rate_limited_seconds > 0
        assert len(_held(url)) == 6 and _posts(url) == 6 and _bookings(database) == 6


def test_a_refused_token_books_nothing_and_says_what_to_fix(database, moneybird):
    _issue(database)
    with pytest.raises(MoneybirdAuthFailed, match="OMS_MONEYBIRD_API_TOKEN"):
        _books(database, moneybird, token="not-the-token").push()
    assert _held(moneybird) == [] and _bookings(database) == 0
    assert _books(database, moneybird).push().booked == 6


def test_the_push_takes_at_most_its_limit(database, moneybird):
    _issue(database)
    part = _books(database, moneybird).push(limit=4)
    assert (part.booked, part.left) == (4, 2)
    rest = _books(database, moneybird).push()
    assert (rest.booked, rest.left) == (2, 0) and _posts(moneybird) == 6


def test_an_outage_books_nothing_and_the_next_run_books_everything(database, moneybird):
    _issue(database)
    httpx.post(f"{moneybird}/_sandbox/outage", json={"on": True}).raise_for_status()
    with pytest.raises(MoneybirdUnavailable, match="503"):
        _books(database, moneybird).push()
    assert _bookings(database) == 0
    httpx.post(f"{moneybird}/_sandbox/outage", json={"on": False}).raise_for_status()
    assert _books(database, moneybird).push().booked == 6 and _posts(moneybird) == 6


def test_moneybird_refusals_come_with_its_words(moneybird):
    client = _client(moneybird)
    body = {"contact_id": "1", "reference": "INV-X", "details_attributes": [{"price": "1.00"}]}
    with pytest.raises(MoneybirdRefused, match="contact_id: does not exist"):
        client.create_external_sales_invoice(body)
    assert client.external_sales_invoice("404404") is None
    assert client.contact_by_customer_id("nobody") is None


def test_a_ledger_account_that_is_not_revenue_stops_the_push_before_anything_is_posted(database, moneybird):
    _issue(database)
    books = MoneybirdBooks(database.session_factory, _client(moneybird), ledger_account_id="454000000000000003")
    with pytest.raises(MappingError, match="OMS_MONEYBIRD_LEDGER_ACCOUNT_ID"):
        books.push()
    assert _posts(moneybird) == 0 and _bookings(database) == 0


def test_the_activity_does_not_retry_a_refused_token(database, moneybird):
    _issue(database)
    settings = load_settings(
        _env_file=None,
        database_url=database.url,
        moneybird_enabled=True,
        moneybird_api_token="not-the-token",
        moneybird_administration_id=sandbox.ADMINISTRATION_ID,
        moneybird_api_url=f"{moneybird}/api/v2",
    )
    with pytest.raises(ApplicationError) as refused:
        MoneybirdActivities(settings, database.session_factory).push_to_moneybird(PushInput())
    assert refused.value.non_retryable and refused.value.type == ErrorType.BOOKS_REFUSED
    assert "OMS_MONEYBIRD_API_TOKEN" in refused.value.message
    off = settings.model_copy(update={"moneybird_enabled": False})
    assert MoneybirdActivities(off, database.session_factory).push_to_moneybird(PushInput()).booked == 0


def test_the_reconciliation_reads_moneybird_per_channel_to_the_cent(database, moneybird):
    issued = _issue(database)
    _books(database, moneybird).push()
    settings = load_settings(books_timezone="UTC")
    rows = Books(database.session_factory, settings).reconciliation(DAY, DAY, [_books(database, moneybird)])
    expected: dict[str, int] = {}
    for document in issued:
        expected[document.channel] = expected.get(document.channel, 0) + _signed_cents(document)
    assert {row.channel: row.sales.amount_minor for row in rows} == expected
    for row in rows:
        (system,) = row.systems
        assert system.system == "moneybird"
        assert system.recorded == row.sales and system.at_system == row.sales
        assert row.difference(system) == Money.zero("EUR")
