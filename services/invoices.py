"""Issued invoices and credit notes for people: an order's list, and each document as PDF and as
EN 16931 XML (Factur-X CII), rendered from the amounts as issued and the seller in settings.

Staff read any order's documents; a customer reads only their own order's, through the signed
token of their tracking link (services.tracking): a number that is not of that order reads exactly
like one that does not exist, so guessing numbers learns nothing.
"""

from __future__ import annotations

from config import Settings
from contracts.documents import SellerDetails
from contracts.invoices import IssuedDocument
from integrations.documents.factur_x import EInvoiceError, cross_industry_invoice
from integrations.documents.pdf import render_pdf
from services.errors import Conflict, NotFound
from services.tracking import read_token
from services.unit_of_work import UnitOfWorkFactory


class Invoices:
    def __init__(self, settings: Settings, units: UnitOfWorkFactory) -> None:
        self._settings = settings
        self._units = units

    def of_order(self, order_id: str) -> list[IssuedDocument]:
        """The order's documents, oldest first; NotFound for an order we do not have."""
        with self._units(read_only=True) as uow:
            if uow.orders.get(order_id) is None:
                raise NotFound(f"no order {order_id}")
            return uow.payments.documents_of(order_id)

    def numbered(self, number: str) -> IssuedDocument:
        with self._units(read_only=True) as uow:
            document = uow.payments.document_numbered(number)
        if document is None:
            raise NotFound(f"no invoice or credit note {number}")
        return document

    def of_tracking_link(self, token: str) -> list[IssuedDocument]:
        """The documents of the order the tracking token was signed for ([] for a token that does not verify)."""
        order_id = read_token(self._settings.tracking_secret, token)
        if not order_id:
            return []
        with self._units(read_only=True) as uow:
            return uow.payments.documents_of(order_id)

    def numbered_for_tracking_link(self, token: str, number: str) -> IssuedDocument:
        """The document `number` when it is of the token's order; NotFound otherwise, alike."""
        for document in self.of_tracking_link(token):
            if document.number == number:
                return document
        raise NotFound("no such document")

    def pdf(self, document: IssuedDocument) -> bytes:
        return render_pdf(
            document.document,
            document.number,
            document.issued_at.date(),
            seller_of(self._settings),
            document.buyer,
            corrects=document.corrects,
        )

    def xml(self, document: IssuedDocument) -> bytes:
        """The CII XML; EInvoiceError when EN 16931 cannot carry it (no seller VAT id in settings).
        Paid: every document is issued once the money was taken or given back."""
        try:
            return cross_industry_invoice(
                document.document,
                document.number,
                document.issued_at.date(),
                seller_of(self._settings),
                document.buyer,
                corrects=document.corrects,
                paid=True,
            )
        except EInvoiceError as exc:
            raise Conflict(f"{document.number} cannot be written as an e-invoice: {exc}", refusal="e_invoice") from None


def seller_of(settings: Settings) -> SellerDetails:
    """The seller as invoices and credit notes name it (the OMS_SELLER_* settings)."""
    return SellerDetails(
        name=settings.seller_name,
        address_lines=tuple(line.strip() for line in settings.seller_address_lines.split("|") if line.strip()),
        postcode=settings.seller_postcode,
        city=settings.seller_city,
        country=settings.seller_country,
        vat_id=settings.seller_vat_id,
        chamber_id=settings.seller_chamber_id,
        iban=settings.seller_iban,
    )
