"""Recording issued invoices and credit notes against real SQLite and PostgreSQL: the number is taken
with the document, a document asked for again is answered as first issued, and what is read back
(for the PDF, the XML and the books) carries the amounts exactly as issued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.documents import BuyerDetails
from contracts.invoices import IssuedDocument, document_from_json, document_json
from domain.invoicing import Item, VatDocument, amount_credit_note, credit_note, invoice
from domain.money import Money
from domain.vat import DUTCH_RATES
from persistence.guarded_writes.invoices import record_document
from persistence.read_model import invoices
from tests.conftest import TestDatabase

AT = datetime(2026, 12, 7, 12, tzinfo=UTC)
BUYER = BuyerDetails("A. Buyer", ("Kerkstraat 1",), "1011 AA", "Amsterdam", "NL")


def _invoice() -> VatDocument:
    items = [Item("Mug", "standard", Money(1299, "EUR"), 1), Item("Book", "reduced", Money(2000, "EUR"), 2)]
    return invoice(items, Money(495, "EUR"), DUTCH_RATES)


def _record(
    db: TestDatabase, document_id: str, document: VatDocument, at: datetime = AT, **extra: str
) -> IssuedDocument:
    with db.session() as session, session.begin():
        return record_document(
            session, document_id, document, order_id="order-1", channel="webshop", buyer=BUYER, at=at, **extra
        )


def test_the_stored_document_reads_back_as_issued():
    document = _invoice()
    assert document_from_json(document_json(document)) == document
    goodwill = amount_credit_note(Money(500, "EUR"), document, "Goodwill")
    assert document_from_json(document_json(goodwill)) == goodwill


def test_a_document_is_numbered_once_and_answered_as_first_issued(database):
    first = _record(database, "inv:shipment-1", _invoice(), shipment_id="shipment-1")
    assert first.number == "INV-2026-000001"
    again = _record(database, "inv:shipment-1", _invoice(), at=AT + timedelta(hours=1))
    assert again == first  # a retried activity: same number, same time, nothing new
    note = credit_note([Item("Mug", "standard", Money(1299, "EUR"))], Money.zero("EUR"), DUTCH_RATES)
    credited = _record(
        database, "cn:refund-1", note, at=AT + timedelta(seconds=1), corrects=first.number, refund_key="refund-1"
    )
    assert credited.number == "CN-2026-000001" and credited.corrects == "INV-2026-000001"
    second = _record(database, "inv:shipment-2", _invoice(), at=AT + timedelta(minutes=5))
    assert second.number == "INV-2026-000002"
    with database.session() as session:
        listed = invoices.for_order(session, "order-1")
        assert [doc.number for doc in listed] == ["INV-2026-000001", "CN-2026-000001", "INV-2026-000002"]
        assert listed[0].document == _invoice() and listed[0].buyer == BUYER
        assert invoices.by_number(session, "CN-2026-000001") == credited
        assert invoices.by_number(session, "INV-2026-000009") is None
        day = invoices.issued_between(session, AT, AT + timedelta(minutes=1))
        assert [doc.number for doc in day] == ["INV-2026-000001", "CN-2026-000001"]


def test_a_failed_transaction_keeps_neither_the_document_nor_its_number(database):
    with pytest.raises(RuntimeError), database.session() as session, session.begin():
        record_document(session, "inv:lost", _invoice(), order_id="order-1", channel="webshop", buyer=BUYER, at=AT)
        raise RuntimeError("the capture's transaction failed")
    kept = _record(database, "inv:kept", _invoice())
    assert kept.number == "INV-2026-000001"
    with database.session() as session:
        assert invoices.by_id(session, "inv:lost") is None
