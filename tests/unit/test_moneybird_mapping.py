"""Our documents as Moneybird external sales invoices: amounts as decimal strings in the currency's
own decimals, credit notes negative, tax rates matched by percentage (reverse charge to a 0 % rate
named so), and a rate the administration lacks named in the error."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.documents import BuyerDetails
from contracts.invoices import IssuedDocument
from domain.invoicing import Item, credit_note, invoice
from domain.money import Money
from domain.vat import DUTCH_RATES
from integrations.accounting.moneybird import mapping

RATES = [
    {"id": "21", "name": "21% btw", "percentage": "21.0", "tax_rate_type": "sales_invoice", "active": True},
    {"id": "9", "name": "9% btw", "percentage": "9.0", "tax_rate_type": "sales_invoice", "active": True},
    {"id": "0", "name": "0% btw", "percentage": "0.0", "tax_rate_type": "sales_invoice", "active": True},
    {"id": "rc", "name": "Btw verlegd", "percentage": "0.0", "tax_rate_type": "sales_invoice", "active": True},
    {"id": "p21", "name": "inkoop", "percentage": "21.0", "tax_rate_type": "purchase_invoice", "active": True},
    {"id": "old9", "name": "old", "percentage": "6.0", "tax_rate_type": "sales_invoice", "active": False},
]
BUYER = BuyerDetails("A. Buyer", ("Kerkstraat 1",), "1011 AA", "Amsterdam", "NL")
AT = datetime(2026, 12, 7, 23, 59, tzinfo=UTC)


@given(st.integers(-(10**12), 10**12))
def test_amounts_are_exact_decimal_strings(minor):
    text = mapping.decimal_amount(Money(minor, "EUR"))
    assert Money.parse(text, "EUR").amount_minor == minor and len(text.partition(".")[2]) == 2
    assert mapping.decimal_amount(Money(minor, "JPY")) == str(minor)


def test_tax_rates_by_percentage_and_reverse_charge_by_name():
    rates = mapping.tax_rates(RATES, {})
    assert dict(rates.by_percentage) == {Decimal("21.0"): "21", Decimal("9.0"): "9", Decimal("0.0"): "0"}
    assert rates.reverse_charge == "rc"
    without_reverse = mapping.tax_rates([rate for rate in RATES if rate["id"] != "rc"], {"reduced": "named9"})
    assert without_reverse.reverse_charge == "0"  # any 0 % rate when none is named for it
    (total,) = invoice([Item("Book", "reduced", Money(1090, "EUR"))], Money.zero("EUR"), DUTCH_RATES).rate_totals
    assert without_reverse.id_for(total) == "named9"  # OMS_MONEYBIRD_TAX_RATE_IDS wins


def test_a_rate_the_administration_lacks_is_named():
    rates = mapping.tax_rates([RATES[0]], {})
    (total,) = invoice([Item("Book", "reduced", Money(1090, "EUR"))], Money.zero("EUR"), DUTCH_RATES).rate_totals
    with pytest.raises(mapping.MappingError, match="9 %"):
        rates.id_for(total)


def test_a_credit_note_is_booked_negative_on_its_utc_day():
    note = credit_note([Item("Mug", "standard", Money(1299, "EUR"))], Money(495, "EUR"), DUTCH_RATES)
    issued = IssuedDocument("cn:1", "CN-2026-000001", "order-1", "webshop", AT, note, BUYER, corrects="INV-2026-000001")
    body = mapping.invoice_body(issued, "c1", mapping.tax_rates(RATES, {}), "ledger")
    assert body["reference"] == "CN-2026-000001" and body["date"] == body["due_date"] == "2026-12-07"
    assert body["prices_are_incl_tax"] is True
    (detail,) = body["details_attributes"]
    assert detail["price"] == "-17.94" and detail["tax_rate_id"] == "21"
    assert "corrects INV-2026-000001" in detail["description"]
    assert mapping.contact_for(issued) == (
        "oms-webshop",
        {"company_name": "webshop customers (OMS)", "customer_id": "oms-webshop"},
    )
    assert mapping.payment_body(issued, Money(-1794, "EUR"))["price"] == "-17.94"


def test_a_document_is_dated_by_the_books_time_zone_when_one_is_named():
    late = IssuedDocument(
        "inv:1",
        "INV-2026-000009",
        "order-1",
        "webshop",
        AT,
        invoice([Item("Mug", "standard", Money(1299, "EUR"))], Money.zero("EUR"), DUTCH_RATES),
        BUYER,
    )
    assert mapping.booking_day(late).isoformat() == "2026-12-07"  # 23:59 UTC
    amsterdam = ZoneInfo("Europe/Amsterdam")
    body = mapping.invoice_body(late, "c1", mapping.tax_rates(RATES, {}), "ledger", zone=amsterdam)
    assert body["date"] == "2026-12-08" == mapping.payment_body(late, Money(1299, "EUR"), amsterdam)["payment_date"]
