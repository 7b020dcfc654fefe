"""Our invoice or credit note as a Moneybird external sales invoice, and back.

One detail per VAT rate of the document (its rate totals: goods and the shipping that follows them,
domain.invoicing), with the price including VAT (`prices_are_incl_tax`), so Moneybird takes the
VAT out of each rate's gross once, as we did: the total at Moneybird is the document's total to the
cent. A credit note is the same with negative prices (Moneybird's way: an external sales invoice
with negative amounts). `reference` is our number: what the push looks a document up by.

Tax rates are matched by percentage among the administration's active sales invoice rates; reverse
charge takes a 0 % rate whose name says so ("verlegd", "reverse") before any other 0 % rate. The
settings may name the rate id per VAT category instead (OMS_MONEYBIRD_TAX_RATE_IDS).

Contacts: consumers' documents go to one collective contact per channel (no personal data leaves
the engine for the books: the buyer's name and address stay on our documents). A reverse-charge
document goes to a contact per business (its VAT id, name and country), because Moneybird's EU
sales listing (ICP) needs the buyer's VAT id; that is a business's, not a consumer's, data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, tzinfo
from decimal import Decimal
from typing import Any

from contracts.invoices import IssuedDocument
from domain.invoicing import REVERSE_CHARGE, DocumentKind, RateTotal
from domain.money import Money, currency_exponent

SOURCE = "OMS"


class MappingError(Exception):
    """The administration has no tax rate or ledger account for what we book."""


def decimal_amount(amount: Money) -> str:
    """`-12.10` for Money(-1210, "EUR"): Moneybird's decimal strings."""
    exponent = currency_exponent(amount.currency)
    return str(Decimal(amount.amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))


def booking_day(document: IssuedDocument, zone: tzinfo = UTC) -> date:
    """The invoice date at Moneybird: the day it was issued in the books' time zone (UTC unless the
    caller names one), the day the journal counts it in."""
    return document.issued_at.astimezone(zone).date()


@dataclass(frozen=True)
class TaxRates:
    """Moneybird tax rate ids for our VAT rates."""

    by_percentage: Mapping[Decimal, str]
    reverse_charge: str
    named: Mapping[str, str]
    """OMS_MONEYBIRD_TAX_RATE_IDS: VAT category (standard, reduced, zero, reverse_charge) -> id."""

    def id_for(self, total: RateTotal) -> str:
        if total.category in self.named:
            return self.named[total.category]
        if total.category == REVERSE_CHARGE:
            if not self.reverse_charge:
                raise MappingError("Moneybird has no active 0 % sales tax rate for reverse charge")
            return self.reverse_charge
        percentage = Decimal(total.rate) / 100
        try:
            return self.by_percentage[percentage]
        except KeyError:
            raise MappingError(
                f"Moneybird has no active sales tax rate of {percentage.normalize():f} %: add one, "
                "or name it in OMS_MONEYBIRD_TAX_RATE_IDS"
            ) from None


def tax_rates(rates: Iterable[Mapping[str, Any]], named: Mapping[str, str]) -> TaxRates:
    """The administration's active sales invoice rates (GET tax_rates.json), first of each percentage."""
    by_percentage: dict[Decimal, str] = {}
    reverse = ""
    for rate in rates:
        if rate.get("tax_rate_type") != "sales_invoice" or rate.get("active") is False:
            continue
        try:
            percentage = Decimal(str(rate.get("percentage")))
        except ArithmeticError:
            continue
        name = str(rate.get("name") or "").lower()
        rate_id = str(rate["id"])
        if percentage == 0 and ("verlegd" in name or "reverse" in name):
            reverse = reverse or rate_id
            continue
        by_percentage.setdefault(percentage, rate_id)
    return TaxRates(by_percentage, reverse or by_percentage.get(Decimal(0), ""), dict(named))


def revenue_account(accounts: Iterable[Mapping[str, Any]], wanted: str) -> str:
    """The ledger account the revenue is booked on: `wanted` (OMS_MONEYBIRD_LEDGER_ACCOUNT_ID) when
    set, else the administration's first revenue account."""
    revenue = [str(account["id"]) for account in accounts if account.get("account_type") == "revenue"]
    if wanted:
        if wanted not in revenue:
            raise MappingError("OMS_MONEYBIRD_LEDGER_ACCOUNT_ID is not a revenue ledger account of the administration")
        return wanted
    if not revenue:
        raise MappingError("Moneybird has no revenue ledger account: add one or set OMS_MONEYBIRD_LEDGER_ACCOUNT_ID")
    return revenue[0]


def contact_for(document: IssuedDocument) -> tuple[str, dict[str, Any]]:
    """(customer_id, the contact to create when Moneybird has none with that customer id)."""
    buyer = document.buyer
    if document.document.reverse_charge and buyer.vat_id:
        vat_id = buyer.vat_id.replace(" ", "").upper()
        # The customer id is the VAT id's digest: the same business finds the same contact.
        customer_id = "oms-b2b-" + hashlib.sha256(vat_id.encode()).hexdigest()[:24]
        return customer_id, {
            "company_name": buyer.name,
            "country": buyer.country,
            "tax_number": vat_id,
            "address1": buyer.address_lines[0] if buyer.address_lines else "",
            "zipcode": buyer.postcode,
            "city": buyer.city,
            "customer_id": customer_id,
        }
    customer_id = f"oms-{document.channel}"
    return customer_id, {"company_name": f"{document.channel} customers (OMS)", "customer_id": customer_id}


def _rate_words(total: RateTotal) -> str:
    if total.category == REVERSE_CHARGE:
        return "reverse charge, 0 % (VAT reverse charged / btw verlegd)"
    return f"{total.category}, {Decimal(total.rate) / 100:f} % VAT".replace(".00 %", " %")


def invoice_body(
    document: IssuedDocument,
    contact_id: str,
    rates: TaxRates,
    ledger_account_id: str,
    source_url: str = "",
    zone: tzinfo = UTC,
) -> dict[str, Any]:
    """The `external_sales_invoice` to POST for this document."""
    vat = document.document
    kind = "invoice" if document.kind is DocumentKind.INVOICE else "credit note"
    if document.corrects:
        kind += f", corrects {document.corrects}"
    details = [
        {
            "description": f"{document.number} ({kind}): {_rate_words(total)}",
            "price": decimal_amount(vat.signed(total.gross)),
            "amount": "1",
            "tax_rate_id": rates.id_for(total),
            "ledger_account_id": ledger_account_id,
        }
        for total in vat.rate_totals
    ]
    day = booking_day(document, zone).isoformat()
    body: dict[str, Any] = {
        "contact_id": contact_id,
        "reference": document.number,
        "date": day,
        "due_date": day,
        "currency": vat.currency,
        "prices_are_incl_tax": True,
        "source": SOURCE,
        "details_attributes": details,
    }
    if source_url:
        body["source_url"] = source_url
    return body


def payment_body(document: IssuedDocument, unpaid: Money, zone: tzinfo = UTC) -> dict[str, Any]:
    """The money already collected (an invoice) or paid back (a credit note: negative), on the day
    the document was issued."""
    return {
        "payment_date": booking_day(document, zone).isoformat(),
        "price": decimal_amount(unpaid),
        "transaction_identifier": document.number,
    }


def money_of(invoice: Mapping[str, Any], field: str) -> Money:
    """An amount of a Moneybird invoice (e.g. `total_price_incl_tax`) in its currency."""
    return Money.parse(str(invoice[field]), str(invoice.get("currency") or "EUR"))
