"""An invoice or credit note as EN 16931 e-invoice XML: the UN/CEFACT Cross Industry Invoice (CII)
of the Factur-X / ZUGFeRD EN 16931 profile, the XML a Factur-X PDF embeds and that buyers' books
read without retyping.

The amounts are the VatDocument's (domain.invoicing), written out, never recomputed: per line the
net (BT-131) and its VAT category and rate, per rate one breakdown (BG-23) with its taxable amount
and VAT, and the totals as their sums, so the XML equals the document to the cent. The one-cent case
of domain.vat (a rate's VAT that no split can make exactly rate x net) is within the tolerance of the
official EN 16931 1.3 rules, so no rounding amount (BT-114) is written.

A line's price is its net over its quantity; when that does not divide to the cent the price is
given for the whole quantity (item price base quantity, BT-149), so price x quantity is the line's
net exactly. Credit notes (type code 381) carry positive amounts, like the VatDocument.

VAT categories (UNTDID 5305): S standard or reduced rate, Z zero rate, AE reverse charge with its
exemption reason (VATEX-EU-AE). Schema order matters in CII: elements are written in the order the
XSD lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from lxml import etree

from contracts.documents import BuyerDetails, SellerDetails
from domain.invoicing import REVERSE_CHARGE, DocumentKind, DocumentLine, RateTotal, VatDocument
from domain.money import Money, currency_exponent
from domain.vat import RATE_SCALE, REVERSE_CHARGE_NOTE

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}

EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
"""The specification identifier (BT-24) of the Factur-X / ZUGFeRD EN 16931 (comfort) profile."""

TYPE_CODES = {DocumentKind.INVOICE: "380", DocumentKind.CREDIT_NOTE: "381"}
"""UNTDID 1001: commercial invoice, credit note."""

REVERSE_CHARGE_EXEMPTION_CODE = "VATEX-EU-AE"
UNIT_CODE = "C62"
"""UN/ECE Recommendation 20 "one": our quantities are pieces."""
CREDIT_TRANSFER = "58"
"""UNTDID 4461: SEPA credit transfer, the means when the seller names an IBAN."""


class EInvoiceError(ValueError):
    """A document EN 16931 cannot carry as it stands (a required VAT id missing, say): retrying the
    same document cannot help, its data must change."""


def cross_industry_invoice(
    document: VatDocument,
    number: str,
    issued_on: date,
    seller: SellerDetails,
    buyer: BuyerDetails,
    *,
    corrects: str = "",
    paid: bool = False,
    due_on: date | None = None,
    delivered_on: date | None = None,
) -> bytes:
    """The CII XML (UTF-8, with declaration) of this document under this number and issue date.

    `corrects` is the number of the invoice a credit note corrects (BT-25), empty when not known.
    `paid`: the total was settled already (paid at checkout, or refunded): it is written as prepaid
    (BT-113) and nothing is due. Otherwise the total is due on `due_on`, by default on the issue date
    (EN 16931 BR-CO-25 wants a due date or terms whenever an amount is due). `delivered_on` is the
    day the goods were delivered (BT-72), when known.
    Refuses (EInvoiceError) what EN 16931 cannot carry: no seller VAT id, a reverse-charge document
    without the buyer's VAT id (BR-AE-02), a currency with more than two decimals, an amount on a
    line of no quantity."""
    _check(document, seller, buyer)
    root = etree.Element(_rsm("CrossIndustryInvoice"), nsmap=_NSMAP)
    context = _sub(root, _rsm("ExchangedDocumentContext"))
    _text(_sub(context, _ram("GuidelineSpecifiedDocumentContextParameter")), "ID", EN16931_GUIDELINE)
    _header(_sub(root, _rsm("ExchangedDocument")), document, number, issued_on)
    transaction = _sub(root, _rsm("SupplyChainTradeTransaction"))
    for position, line in enumerate(document.lines, start=1):
        _line_item(_sub(transaction, _ram("IncludedSupplyChainTradeLineItem")), position, line)
    agreement = _sub(transaction, _ram("ApplicableHeaderTradeAgreement"))
    _party(_sub(agreement, _ram("SellerTradeParty")), seller, seller.vat_id, seller.chamber_id)
    _party(_sub(agreement, _ram("BuyerTradeParty")), buyer, buyer.vat_id, "")
    delivery = _sub(transaction, _ram("ApplicableHeaderTradeDelivery"))
    if delivered_on is not None:
        _date(_sub(_sub(delivery, _ram("ActualDeliverySupplyChainEvent")), _ram("OccurrenceDateTime")), delivered_on)
    settlement = _sub(transaction, _ram("ApplicableHeaderTradeSettlement"))
    _settlement(settlement, document, seller, corrects, None if paid else due_on or issued_on)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _check(document: VatDocument, seller: SellerDetails, buyer: BuyerDetails) -> None:
    if currency_exponent(document.currency) > 2:
        raise EInvoiceError(f"EN 16931 amounts have at most two decimals: {document.currency} cannot be written")
    if not seller.vat_id.strip():
        raise EInvoiceError("a document with VAT categories needs the seller's VAT id (BR-S-02, BR-Z-02, BR-AE-02)")
    if document.reverse_charge and not buyer.vat_id.strip():
        raise EInvoiceError("a reverse-charge document needs the buyer's VAT id (BR-AE-02)")
    for line in document.lines:
        if line.quantity == 0 and line.net.amount_minor:
            raise EInvoiceError(f"{line.description}: a line with an amount needs a quantity")


def amount_text(amount: Money) -> str:
    """An amount as the XML writes it: a plain decimal with the currency's minor digits ("12.30")."""
    return f"{Decimal(amount.amount_minor).scaleb(-currency_exponent(amount.currency)):f}"


def category_code(category: str, rate: int) -> str:
    """The UNTDID 5305 VAT category code of a line or breakdown. A 0 % category of the rate table is
    zero-rated (Z), not exempt (E): our rate tables hold taxable supplies only."""
    if category == REVERSE_CHARGE:
        return "AE"
    return "S" if rate else "Z"


def _header(header: etree._Element, document: VatDocument, number: str, issued_on: date) -> None:
    _text(header, "ID", number)
    _text(header, "TypeCode", TYPE_CODES[document.kind])
    _date(_sub(header, _ram("IssueDateTime")), issued_on)
    for note in document.notes:
        _text(_sub(header, _ram("IncludedNote")), "Content", note)


def _line_item(item: etree._Element, position: int, line: DocumentLine) -> None:
    _text(_sub(item, _ram("AssociatedDocumentLineDocument")), "LineID", str(position))
    _text(_sub(item, _ram("SpecifiedTradeProduct")), "Name", line.description)
    price = _sub(_sub(item, _ram("SpecifiedLineTradeAgreement")), _ram("NetPriceProductTradePrice"))
    if line.quantity == 0 or line.net.amount_minor % line.quantity == 0:
        each = line.net.amount_minor // line.quantity if line.quantity else 0
        _text(price, "ChargeAmount", amount_text(Money(each, line.net.currency)))
    else:
        _text(price, "ChargeAmount", amount_text(line.net))
        _text(price, "BasisQuantity", str(line.quantity), unitCode=UNIT_CODE)
    _text(_sub(item, _ram("SpecifiedLineTradeDelivery")), "BilledQuantity", str(line.quantity), unitCode=UNIT_CODE)
    settlement = _sub(item, _ram("SpecifiedLineTradeSettlement"))
    tax = _sub(settlement, _ram("ApplicableTradeTax"))
    _text(tax, "TypeCode", "VAT")
    _text(tax, "CategoryCode", category_code(line.category, line.rate))
    _text(tax, "RateApplicablePercent", _percent(line.rate))
    summation = _sub(settlement, _ram("SpecifiedTradeSettlementLineMonetarySummation"))
    _text(summation, "LineTotalAmount", amount_text(line.net))


def _party(party: etree._Element, who: SellerDetails | BuyerDetails, vat_id: str, chamber_id: str) -> None:
    _text(party, "Name", who.name)
    if chamber_id:
        _text(_sub(party, _ram("SpecifiedLegalOrganization")), "ID", chamber_id)
    address = _sub(party, _ram("PostalTradeAddress"))
    if who.postcode:
        _text(address, "PostcodeCode", who.postcode)
    for tag, text in zip(("LineOne", "LineTwo", "LineThree"), _address_lines(who.address_lines), strict=False):
        _text(address, tag, text)
    if who.city:
        _text(address, "CityName", who.city)
    _text(address, "CountryID", who.country.strip().upper())
    if vat_id:
        _text(_sub(party, _ram("SpecifiedTaxRegistration")), "ID", vat_id, schemeID="VA")


def _address_lines(lines: Sequence[str]) -> list[str]:
    """At most three address lines (BT-35, BT-36, BT-162): any beyond the third join the third."""
    kept = [line for line in lines if line.strip()]
    return [*kept[:2], ", ".join(kept[2:])] if len(kept) > 3 else kept


def _settlement(
    settlement: etree._Element, document: VatDocument, seller: SellerDetails, corrects: str, due_on: date | None
) -> None:
    """The header settlement; `due_on` is None when the document was paid (or refunded) already."""
    currency = document.currency
    _text(settlement, "InvoiceCurrencyCode", currency)
    if seller.iban:
        means = _sub(settlement, _ram("SpecifiedTradeSettlementPaymentMeans"))
        _text(means, "TypeCode", CREDIT_TRANSFER)
        _text(_sub(means, _ram("PayeePartyCreditorFinancialAccount")), "IBANID", seller.iban)
    for total in breakdowns(document.rate_totals):
        _breakdown(_sub(settlement, _ram("ApplicableTradeTax")), total)
    due = Money.zero(currency) if due_on is None else document.gross
    if due_on is not None and due.amount_minor:
        _date(_sub(_sub(settlement, _ram("SpecifiedTradePaymentTerms")), _ram("DueDateDateTime")), due_on)
    summation = _sub(settlement, _ram("SpecifiedTradeSettlementHeaderMonetarySummation"))
    lines_net = Money(sum(line.net.amount_minor for line in document.lines), currency)
    _text(summation, "LineTotalAmount", amount_text(lines_net))
    _text(summation, "TaxBasisTotalAmount", amount_text(document.net))
    _text(summation, "TaxTotalAmount", amount_text(document.vat), currencyID=currency)
    _text(summation, "GrandTotalAmount", amount_text(document.gross))
    if due_on is None:
        _text(summation, "TotalPrepaidAmount", amount_text(document.gross))
    _text(summation, "DuePayableAmount", amount_text(due))
    if corrects:
        _text(_sub(settlement, _ram("InvoiceReferencedDocument")), "IssuerAssignedID", corrects)


def breakdowns(totals: Sequence[RateTotal]) -> list[RateTotal]:
    """One VAT breakdown per category code and rate, as EN 16931 wants (BR-S-08, BR-Z-08): two
    categories of a rate table with the same rate (two zero-rated ones, say) are written as one,
    their taxable amounts and VAT added up. Order of first appearance."""
    merged: dict[tuple[str, int], RateTotal] = {}
    for total in totals:
        key = (category_code(total.category, total.rate), total.rate)
        if key in merged:
            first = merged[key]
            merged[key] = RateTotal(first.category, first.rate, first.net + total.net, first.vat + total.vat)
        else:
            merged[key] = total
    return list(merged.values())


def _breakdown(tax: etree._Element, total: RateTotal) -> None:
    code = category_code(total.category, total.rate)
    _text(tax, "CalculatedAmount", amount_text(total.vat))
    _text(tax, "TypeCode", "VAT")
    if code == "AE":
        _text(tax, "ExemptionReason", REVERSE_CHARGE_NOTE)
    _text(tax, "BasisAmount", amount_text(total.net))
    _text(tax, "CategoryCode", code)
    if code == "AE":
        _text(tax, "ExemptionReasonCode", REVERSE_CHARGE_EXEMPTION_CODE)
    _text(tax, "RateApplicablePercent", _percent(total.rate))


def _percent(rate: int) -> str:
    """Basis points as a percentage: 2100 -> "21"."""
    return f"{Decimal(rate) * 100 / RATE_SCALE:f}"


def _date(parent: etree._Element, day: date) -> None:
    element = _sub(parent, f"{{{UDT}}}DateTimeString")
    element.set("format", "102")
    element.text = day.strftime("%Y%m%d")


def _text(parent: etree._Element, name: str, text: str, **attributes: str) -> etree._Element:
    element = _sub(parent, _ram(name))
    for key, value in attributes.items():
        element.set(key, value)
    element.text = text
    return element


def _sub(parent: etree._Element, tag: str) -> etree._Element:
    return etree.SubElement(parent, tag)


def _rsm(name: str) -> str:
    return f"{{{RSM}}}{name}"


def _ram(name: str) -> str:
    return f"{{{RAM}}}{name}"
