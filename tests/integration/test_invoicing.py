"""Invoices and credit notes issued by the money records themselves, on SQLite and PostgreSQL: a
capture invoices what has left (per parcel with multicapture, all at once otherwise), a handover
invoices what a channel was paid for, refunds credit what was invoiced (per returned unit, or as an
amount), numbers stay gapless across the mix, a retry issues nothing twice; the PDF and the XML of
an issued document read back, and a customer's tracking link reaches its own order's documents only."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import facturx  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select

from activities.fulfilment import ShipmentActivities
from activities.goodwill import GoodwillActivities
from activities.inventory import InventoryActivities
from activities.payments import PaymentActivities
from activities.returns import ReturnActivities
from api.main import create_app
from config import load_settings
from contracts.goodwill import GoodwillStep
from contracts.inventory import SellAtCounterInput
from contracts.invoices import IssuedDocument
from contracts.payments import AuthorizePaymentInput, PaymentStepInput
from contracts.returns import AcceptReturnInput, RefundReturnInput
from contracts.shipments import AutoStepsRequest
from domain.allocation import charge_for_parcel
from domain.goodwill import GoodwillForm
from domain.invoicing import DocumentKind
from domain.marketplace_returns import ChannelRefund
from domain.money import Money
from domain.order import Order
from domain.returns import refund_for
from domain.status import OrderStatus
from integrations.sandbox.payments import SandboxPaymentGateway
from integrations.sandbox.warehouse import SandboxWarehouse
from ops.temporal_dev import free_port
from persistence.guarded_writes import goodwill as goodwill_store
from persistence.guarded_writes import inventory
from persistence.models import OrderRecord, Product, ShipmentRecord
from persistence.read_model import invoices as invoice_store
from persistence.read_model import issuing
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.channel_refunds import ChannelRefunds
from services.tracking import make_token
from services.unit_of_work import units_on
from tests.channels.factories import channel_order, record
from tests.conftest import TestDatabase as Database
from tests.factories import add_location, make_order, stock

AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
TOKEN = "invoicing-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "invoicing-tracking-secret"


def _order(database: Database, *, buyer_vat_id: str = "", country: str = "NL") -> Order:
    """2 x mug at 12.50 (standard), 3 x book at 7.99 (reduced), 4.95 shipping: 53.92, paid through our gateway."""
    order = make_order([("MUG", 2, 1250), ("BOOK", 3, 799)], paid=False, payment_method="pm_card_visa")
    order = replace(
        order,
        shipping_address=replace(order.shipping_address, country=country),
        buyer_company="Example GmbH" if buyer_vat_id else "",
        buyer_vat_id=buyer_vat_id,
    )
    with UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, AT)
        uow.session.add(Product(sku="BOOK", name="A book", vat_category="reduced"))
        uow.commit()
    return order


def _shipped(database: Database, order: Order, suffix: str, lines: dict[str, int]) -> str:
    shipment_id = f"shipment-{order.order_id}-{suffix}"
    with UnitOfWork(database.session_factory) as uow:
        uow.session.add(
            ShipmentRecord(
                shipment_id=shipment_id,
                order_id=order.order_id,
                location_id="AMS",
                status="SHIPPED",
                kind="delivery",
                lines=lines,
                carrier="PostNL",
                tracking_number=f"3S{suffix}",
                shipped_at=AT,
            )
        )
        uow.commit()
    return shipment_id


def _documents(database: Database, order_id: str) -> list[IssuedDocument]:
    with UnitOfWork(database.session_factory) as uow:
        return invoice_store.for_order(uow.session, order_id)


def _authorized(payments: PaymentActivities, order: Order) -> str:
    key = f"{order.order_id}:authorize"
    paid = payments.authorize_payment(AuthorizePaymentInput(order.order_id, order.total, "pm_card_visa", key, AT))
    return paid.payment_id


def _capture(payments: PaymentActivities, order: Order, payment_id: str, minor: int, key: str) -> None:
    payments.capture_payment(PaymentStepInput(order.order_id, payment_id, Money(minor, "EUR"), key, AT))


def test_two_parcels_with_multicapture_get_two_invoices_equal_to_their_captures(database):
    order = _order(database)
    payments = PaymentActivities(database.session_factory, SandboxPaymentGateway())
    payment_id = _authorized(payments, order)

    first, second = {"MUG": 2, "BOOK": 1}, {"BOOK": 2}
    one = _shipped(database, order, "AMS", first)
    value_one = charge_for_parcel(order, {}, first).amount_minor
    _capture(payments, order, payment_id, value_one, f"{order.order_id}:capture:1")
    two = _shipped(database, order, "RTM", second)
    value_two = charge_for_parcel(order, first, second).amount_minor
    _capture(payments, order, payment_id, value_two, f"{order.order_id}:capture:2")
    # A retried capture activity (and a second worker's instance of it) issues nothing again.
    _capture(payments, order, payment_id, value_two, f"{order.order_id}:capture:2")
    again = PaymentActivities(database.session_factory, SandboxPaymentGateway())
    _capture(again, order, payment_id, value_two, f"{order.order_id}:capture:2")

    invoices = _documents(database, order.order_id)
    assert [(doc.number, doc.shipment_id) for doc in invoices] == [
        ("INV-2026-000001", one),
        ("INV-2026-000002", two),
    ]
    assert [doc.document.gross.amount_minor for doc in invoices] == [value_one, value_two]
    assert value_one + value_two == order.total.amount_minor == 5392
    first_doc = invoices[0].document
    assert {(total.category, total.rate) for total in first_doc.rate_totals} == {("standard", 2100), ("reduced", 900)}
    for doc in invoices:
        assert doc.document.net + doc.document.vat == doc.document.gross
    assert invoices[0].buyer.country == "NL"


def test_without_multicapture_the_one_capture_invoices_every_parcel_that_left(database):
    order = _order(database)
    payments = PaymentActivities(database.session_factory, SandboxPaymentGateway())
    payment_id = _authorized(payments, order)
    _shipped(database, order, "AMS", {"MUG": 2})
    _shipped(database, order, "RTM", {"BOOK": 3})

    _capture(payments, order, payment_id, order.total.amount_minor, f"{order.order_id}:capture:1")

    invoices = _documents(database, order.order_id)
    assert len(invoices) == 2
    assert sum(doc.document.gross.amount_minor for doc in invoices) == order.total.amount_minor
    assert invoices[0].document.gross.amount_minor == 2500 + 495  # the first parcel carries the shipping


def test_a_marketplace_order_gets_its_invoice_when_it_ships(database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"TEE": 5})
    order = channel_order("bol", [("TEE", 2, "11")])
    assert order.payment_collected
    order_id = record(database.session_factory, order)
    shipment_id = f"shipment-{order_id}-AMS"
    with UnitOfWork(database.session_factory) as uow:
        inventory.reserve(uow.session, "AMS", {"TEE": 2}, order_id)
        uow.session.add(
            ShipmentRecord(
                shipment_id=shipment_id, order_id=order_id, location_id="AMS", status="RESERVED", lines={"TEE": 2}
            )
        )
        uow.commit()
    assert _documents(database, order_id) == []
    steps = ShipmentActivities(database.session_factory, SandboxWarehouse())
    request = AutoStepsRequest(order_id, shipment_id, "AMS", ["pick", "pack", "ship"], "ship", {"TEE": 2}, "k", AT)
    steps.perform_steps_automatically(request)
    steps.perform_steps_automatically(request)  # retried

    [invoice] = _documents(database, order_id)
    assert (invoice.kind, invoice.shipment_id, invoice.channel) == (DocumentKind.INVOICE, shipment_id, "bol")
    assert invoice.document.gross == order.total


def _invoiced(database: Database, order: Order) -> list[IssuedDocument]:
    payments = PaymentActivities(database.session_factory, SandboxPaymentGateway())
    payment_id = _authorized(payments, order)
    _shipped(database, order, "AMS", {"MUG": 2, "BOOK": 3})
    _capture(payments, order, payment_id, order.total.amount_minor, f"{order.order_id}:capture:1")
    return _documents(database, order.order_id)


def test_a_return_is_credited_per_returned_unit_at_the_invoices_rates_and_goodwill_as_an_amount(database):
    order = _order(database)
    [invoice] = _invoiced(database, order)
    units = {"BOOK": 2}
    refund = refund_for(order, {}, units)

    with UnitOfWork(database.session_factory) as uow:
        returned = issuing.credit_refund(
            uow.session, order.order_id, "return-1:refund", refund, AT, return_id="return-1", units=units
        )
        retried = issuing.credit_refund(
            uow.session, order.order_id, "return-1:refund", refund, AT, return_id="return-1", units=units
        )
        goodwill = issuing.credit_refund(
            uow.session, order.order_id, "goodwill-1:refund", Money(500, "EUR"), AT, description="Goodwill"
        )
        too_much = issuing.credit_refund(uow.session, order.order_id, "goodwill-2:refund", Money(10**6, "EUR"), AT)
        uow.commit()

    assert returned is not None and goodwill is not None and too_much is not None
    assert retried == returned
    assert returned.number == "CN-2026-000001" and returned.corrects == invoice.number
    [line] = returned.document.lines
    assert (line.quantity, line.category, line.rate) == (2, "reduced", 900)
    assert returned.document.gross == refund == Money(1598, "EUR")
    book_rate = next(total for total in invoice.document.rate_totals if total.category == "reduced")
    assert returned.document.rate_totals[0].rate == book_rate.rate
    # Goodwill: an amount, split over the invoice's rates in proportion to their gross.
    assert goodwill.number == "CN-2026-000002"
    assert goodwill.document.gross == Money(500, "EUR")
    assert {total.category for total in goodwill.document.rate_totals} == {"standard", "reduced"}
    # Never more than was invoiced: the rest of the invoice, and nothing once it is all credited.
    assert too_much.document.gross.amount_minor == 5392 - 1598 - 500
    with UnitOfWork(database.session_factory) as uow:
        assert issuing.credit_refund(uow.session, order.order_id, "goodwill-3:refund", Money(1, "EUR"), AT) is None


def test_a_refund_before_anything_was_invoiced_issues_no_credit_note(database):
    order = _order(database)
    with UnitOfWork(database.session_factory) as uow:
        assert issuing.credit_refund(uow.session, order.order_id, "cancel:refund", order.total, AT) is None


def test_numbers_are_gapless_per_series_across_invoices_and_credit_notes_of_several_orders(database):
    first = _order(database)
    _invoiced(database, first)
    with UnitOfWork(database.session_factory) as uow:
        issuing.credit_refund(uow.session, first.order_id, "g1", Money(100, "EUR"), AT)
        uow.commit()
    with UnitOfWork(database.session_factory) as uow:
        uow.session.delete(uow.session.get(Product, "BOOK"))
        uow.commit()
    second = _order(database)
    _invoiced(database, second)
    with UnitOfWork(database.session_factory) as uow:
        issuing.credit_refund(uow.session, second.order_id, "g2", Money(100, "EUR"), AT)
        uow.commit()
    numbers = [doc.number for order in (first, second) for doc in _documents(database, order.order_id)]
    assert sorted(numbers) == ["CN-2026-000001", "CN-2026-000002", "INV-2026-000001", "INV-2026-000002"]


def test_reverse_charge_for_an_eu_business_buyer_in_another_member_state(database):
    order = _order(database, buyer_vat_id="DE123456789", country="DE")
    [invoice] = _invoiced(database, order)
    assert invoice.document.reverse_charge
    assert invoice.document.vat == Money.zero("EUR")
    assert (invoice.buyer.name, invoice.buyer.vat_id) == ("Example GmbH", "DE123456789")


# -- documents through the API ---------------------------------------------------------------------


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=database.url,
        admin_token=TOKEN,
        tracking_secret=SECRET,
        temporal_address=f"localhost:{free_port()}",
        _env_file=None,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_staff_list_and_download_an_orders_documents_as_pdf_and_valid_xml(database, api):
    order = _order(database)
    [invoice] = _invoiced(database, order)
    with UnitOfWork(database.session_factory) as uow:
        issuing.credit_refund(uow.session, order.order_id, "g1", Money(500, "EUR"), AT + timedelta(hours=1))
        uow.commit()

    assert api.get(f"/orders/{order.order_id}/invoices").status_code == 401
    listed = api.get(f"/orders/{order.order_id}/invoices", headers=STAFF).json()["documents"]
    assert [(doc["number"], doc["kind"], doc["gross_minor"]) for doc in listed] == [
        ("INV-2026-000001", "invoice", 5392),
        ("CN-2026-000001", "credit_note", 500),
    ]
    assert listed[1]["corrects"] == invoice.number
    assert api.get("/orders/order-webshop-nope/invoices", headers=STAFF).status_code == 404

    pdf = api.get(listed[0]["links"]["pdf"], headers=STAFF)
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "INV-2026-000001" in text
    assert "VAT breakdown" in text
    for total in invoice.document.rate_totals:  # each rate's line: its label, net and VAT as issued
        assert f"{total.rate // 100}%" in text
        assert f"{total.net.amount_minor / 100:.2f}" in text and f"{total.vat.amount_minor / 100:.2f}" in text
    for doc in listed:
        xml = api.get(doc["links"]["xml"], headers=STAFF)
        assert xml.status_code == 200
        assert facturx.xml_check_xsd(xml.content, flavor="factur-x", level="en16931") is True
        root = etree.fromstring(xml.content)
        assert doc["number"] in xml.text
        assert str(root.tag).endswith("CrossIndustryInvoice")
    assert api.get("/invoices/INV-2026-999999.pdf", headers=STAFF).status_code == 404


def test_the_tracking_link_reaches_its_own_orders_documents_and_nothing_else(database, api):
    mine = _order(database)
    [my_invoice] = _invoiced(database, mine)
    with UnitOfWork(database.session_factory) as uow:
        uow.session.delete(uow.session.get(Product, "BOOK"))
        uow.commit()
    theirs = _order(database)
    [their_invoice] = _invoiced(database, theirs)
    token = make_token(SECRET, mine.order_id)

    page = api.get(f"/track/{token}")
    assert page.status_code == 200 and my_invoice.number in page.text and their_invoice.number not in page.text
    own = api.get(f"/track/{token}/invoices/{my_invoice.number}.pdf")
    assert (own.status_code, own.headers["content-type"]) == (200, "application/pdf")
    assert api.get(f"/track/{token}/invoices/{my_invoice.number}.xml").status_code == 200
    # Another order's number, a number that does not exist, a forged token: the same 404.
    guessed = [
        f"/track/{token}/invoices/{their_invoice.number}.pdf",
        f"/track/{token}/invoices/{their_invoice.number}.xml",
        f"/track/{token}/invoices/INV-2026-000003.pdf",
        f"/track/{token}x/invoices/{my_invoice.number}.pdf",
        f"/track/{make_token('another-secret', mine.order_id)}/invoices/{my_invoice.number}.pdf",
    ]
    answers = [api.get(url) for url in guessed]
    assert [answer.status_code for answer in answers] == [404] * len(guessed)
    assert len({answer.text for answer in answers}) == 1
    # The staff download is not reachable with the customer's link.
    assert api.get(f"/invoices/{my_invoice.number}.pdf").status_code == 401


def test_the_order_intake_keeps_a_business_buyer(database):
    order = _order(database, buyer_vat_id="BE0123456789", country="BE")
    with UnitOfWork(database.session_factory) as uow:
        row = uow.session.scalar(select(OrderRecord).where(OrderRecord.order_id == order.order_id))
        assert row is not None
        assert (row.buyer_company, row.buyer_vat_id) == ("Example GmbH", "BE0123456789")


def test_the_return_refund_activity_issues_the_credit_note_in_its_own_transaction_once(database):
    order = _order(database)
    [invoice] = _invoiced(database, order)
    returns = ReturnActivities(database.session_factory, SandboxPaymentGateway())
    return_id = f"return-{order.order_id}-1"
    accepted = returns.accept_return(
        AcceptReturnInput(
            order, return_id, {"MUG": 1, "BOOK": 1}, "damaged", "support", False, AT + timedelta(days=30), AT
        )
    )
    refund = RefundReturnInput(order.order_id, return_id, accepted.refund, AT + timedelta(days=1))
    returns.refund_return(refund)
    returns.refund_return(refund)  # retried

    [_, credit] = _documents(database, order.order_id)
    assert (credit.kind, credit.return_id, credit.corrects) == (DocumentKind.CREDIT_NOTE, return_id, invoice.number)
    assert credit.document.gross == accepted.refund == refund_for(order, {}, {"MUG": 1, "BOOK": 1})
    assert sorted((line.quantity, line.rate) for line in credit.document.lines) == [(1, 900), (1, 2100)]


def test_the_goodwill_refund_activity_issues_an_amount_credit_note_once(database):
    order = _order(database)
    [invoice] = _invoiced(database, order)
    goodwill_id = f"goodwill-{order.order_id}-1"
    with UnitOfWork(database.session_factory) as uow:
        order_store.set_status(uow.session, order.order_id, OrderStatus.SHIPPED, at=AT)
        goodwill_store.reserve(
            uow.session,
            goodwill_id=goodwill_id,
            order_id=order.order_id,
            form=GoodwillForm.REFUND,
            amount=Money(750, "EUR"),
            reason="late",
            given_by="support",
            at=AT,
        )
        uow.commit()
    steps = GoodwillActivities(database.session_factory, SandboxPaymentGateway())
    steps.refund_goodwill(GoodwillStep(goodwill_id, AT + timedelta(days=1)))
    steps.refund_goodwill(GoodwillStep(goodwill_id, AT + timedelta(days=1)))  # retried

    [_, credit] = _documents(database, order.order_id)
    assert (credit.kind, credit.corrects, credit.document.gross) == (
        DocumentKind.CREDIT_NOTE, invoice.number, Money(750, "EUR")
    )  # fmt: skip
    assert {line.description for line in credit.document.lines} == {"Goodwill"}


def test_a_refund_the_channel_made_is_credited_per_unit(database):
    order = _order(database)
    _invoiced(database, order)
    units = {"MUG": 1}
    refund = ChannelRefund("webshop", "r-1", order.external_id, units, refund_for(order, {}, units), {"MUG": ()})
    recorded = ChannelRefunds(units_on(database.session_factory))._record(refund)
    assert not recorded.duplicate

    [_, credit] = _documents(database, order.order_id)
    assert (credit.return_id, credit.document.gross) == (refund.return_id, refund.amount)
    [line] = credit.document.lines
    assert (line.quantity, line.rate) == (1, 2100)


def test_the_order_page_lists_its_documents_and_a_signed_in_person_downloads_them(database, api):
    order = _order(database)
    [invoice] = _invoiced(database, order)
    download = f"/dashboard/invoices/{invoice.number}.pdf"
    assert api.get(download, follow_redirects=False).status_code in (303, 401)  # not signed in: the login

    signed_in = api.post("/dashboard/login", data={"token": TOKEN, "next": "/dashboard"}, follow_redirects=False)
    assert signed_in.status_code == 303
    page = api.get(f"/dashboard/orders/{order.order_id}").text
    table = page.split('id="invoices"')[1].split("</table>")[0]
    assert invoice.number in table and download in table and "53.92 EUR" in table
    pdf = api.get(download)
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    xml = api.get(f"/dashboard/invoices/{invoice.number}.xml")
    assert xml.status_code == 200 and invoice.number in xml.text
    assert api.get("/dashboard/invoices/INV-2026-000404.pdf").status_code == 404


def test_a_reverse_charged_orders_return_is_credited_as_refunded_per_unit(database):
    order = _order(database, buyer_vat_id="DE123456789", country="DE")
    [invoice] = _invoiced(database, order)
    units = {"BOOK": 1}
    with UnitOfWork(database.session_factory) as uow:
        credit = issuing.credit_refund(
            uow.session, order.order_id, "r:refund", refund_for(order, {}, units), AT, return_id="r", units=units
        )
        uow.commit()
    assert credit is not None and credit.document.reverse_charge
    [line] = credit.document.lines
    assert (line.quantity, line.vat) == (1, Money.zero("EUR"))
    assert credit.document.gross == Money(799, "EUR")  # the book's 7.99 as refunded: the business price, no VAT
    assert invoice.document.reverse_charge


def test_a_counter_sale_is_invoiced_whole_when_it_leaves_the_shelf_once(database):
    add_location(database.session_factory, "UTR", kind="store")
    stock(database.session_factory, "UTR", {"MUG": 5})
    order = replace(
        make_order([("MUG", 2, 1250)], channel="pos", shipping_minor=0),
        fulfilled_by="counter",
        pickup_location_id="UTR",
    )
    with UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, AT)
        uow.commit()
    steps = InventoryActivities(database.session_factory)
    sale = SellAtCounterInput(order.order_id, "UTR", {"MUG": 2}, f"{order.order_id}:counter", AT)
    steps.sell_at_counter(sale)
    steps.sell_at_counter(sale)  # retried

    [invoice] = _documents(database, order.order_id)
    assert (invoice.document_id, invoice.shipment_id, invoice.channel) == (f"inv:{order.order_id}", "", "pos")
    assert invoice.document.gross == order.total == Money(2500, "EUR")


def test_parcels_that_left_at_the_same_moment_are_invoiced_as_the_workflow_captured_them(database):
    order = _order(database)
    payments = PaymentActivities(database.session_factory, SandboxPaymentGateway())
    payment_id = _authorized(payments, order)
    ams, rtm = {"MUG": 2}, {"BOOK": 3}
    _shipped(database, order, "AMS", ams)
    second = _shipped(database, order, "RTM", rtm)
    # The workflow counted Rotterdam's parcel first: it carries the shipping.
    first_value = charge_for_parcel(order, {}, rtm).amount_minor
    second_value = charge_for_parcel(order, rtm, ams).amount_minor
    _capture(payments, order, payment_id, first_value, f"{order.order_id}:capture:1")
    [only] = _documents(database, order.order_id)
    assert (only.shipment_id, only.document.gross.amount_minor) == (second, first_value)

    _capture(payments, order, payment_id, second_value, f"{order.order_id}:capture:2")
    invoices = _documents(database, order.order_id)
    assert sorted(doc.document.gross.amount_minor for doc in invoices) == sorted([first_value, second_value])
    assert sum(doc.document.gross.amount_minor for doc in invoices) == order.total.amount_minor
