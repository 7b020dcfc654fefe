"""An issued invoice or credit note as the rest of the engine sees it: its number, what it is for,
and its amounts exactly as issued (domain.invoicing.VatDocument).

The document is stored as issued (`document_json`), never recomputed from an order that may have
changed since: the PDF and the e-invoice XML rendered later, the journal and the accounting push all
read the same amounts. The buyer snapshot holds personal data: it goes into documents, never into
logs, search attributes or workflow ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.documents import BuyerDetails
from domain.invoicing import DocumentKind, DocumentLine, RateTotal, VatDocument
from domain.money import Money


@dataclass(frozen=True)
class IssuedDocument:
    document_id: str
    """Stable per cause (e.g. `inv:<shipment id>`, `cn:<refund key>`): asking again finds this document."""
    number: str
    """E.g. `INV-2026-000123` (domain.document_numbers), gapless per series and year."""
    order_id: str
    channel: str
    issued_at: datetime
    document: VatDocument
    buyer: BuyerDetails
    corrects: str = ""
    """On a credit note: the number of the invoice it corrects."""
    shipment_id: str = ""
    return_id: str = ""
    refund_key: str = ""

    @property
    def kind(self) -> DocumentKind:
        return self.document.kind


def document_json(document: VatDocument) -> dict[str, Any]:
    """The document's amounts as JSON (minor units), for storage and for `document_from_json`."""
    return {
        "kind": document.kind.value,
        "currency": document.currency,
        "reverse_charge": document.reverse_charge,
        "lines": [
            {
                "description": line.description,
                "category": line.category,
                "rate": line.rate,
                "quantity": line.quantity,
                "net": line.net.amount_minor,
                "vat": line.vat.amount_minor,
            }
            for line in document.lines
        ],
        "rate_totals": [
            {
                "category": total.category,
                "rate": total.rate,
                "net": total.net.amount_minor,
                "vat": total.vat.amount_minor,
            }
            for total in document.rate_totals
        ],
    }


def document_from_json(data: dict[str, Any]) -> VatDocument:
    currency = str(data["currency"])
    return VatDocument(
        kind=DocumentKind(data["kind"]),
        currency=currency,
        lines=tuple(
            DocumentLine(
                str(line["description"]),
                str(line["category"]),
                int(line["rate"]),
                int(line["quantity"]),
                Money(int(line["net"]), currency),
                Money(int(line["vat"]), currency),
            )
            for line in data["lines"]
        ),
        rate_totals=tuple(
            RateTotal(
                str(total["category"]),
                int(total["rate"]),
                Money(int(total["net"]), currency),
                Money(int(total["vat"]), currency),
            )
            for total in data["rate_totals"]
        ),
        reverse_charge=bool(data["reverse_charge"]),
    )


def buyer_json(buyer: BuyerDetails) -> dict[str, Any]:
    return {
        "name": buyer.name,
        "address_lines": list(buyer.address_lines),
        "postcode": buyer.postcode,
        "city": buyer.city,
        "country": buyer.country,
        "vat_id": buyer.vat_id,
    }


def buyer_from_json(data: dict[str, Any]) -> BuyerDetails:
    return BuyerDetails(
        name=str(data["name"]),
        address_lines=tuple(str(line) for line in data["address_lines"]),
        postcode=str(data["postcode"]),
        city=str(data["city"]),
        country=str(data["country"]),
        vat_id=str(data.get("vat_id", "")),
    )
