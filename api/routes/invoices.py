"""Issued invoices and credit notes for staff: an order's list, and each document as PDF or as
EN 16931 XML (Factur-X CII), by its number. Customers download theirs from the tracking page
(api.routes.tracking), never here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from starlette.responses import Response

from api.deps import InvoicesDep, require
from contracts.invoices import IssuedDocument
from domain.staff import Permission, StaffMember

router = APIRouter(tags=["invoices"])

OrdersView = Annotated[StaffMember, Depends(require(Permission.ORDERS_VIEW))]

PDF, XML = "application/pdf", "application/xml"


class DocumentLinks(BaseModel):
    pdf: str
    xml: str


class IssuedDocumentPublic(BaseModel):
    number: str
    kind: str
    """invoice or credit_note"""
    issued_at: datetime
    currency: str
    net_minor: int
    vat_minor: int
    gross_minor: int
    """What the document totals (given back, on a credit note); amounts are positive on both kinds."""
    reverse_charge: bool
    corrects: str
    """On a credit note: the number of the invoice it corrects."""
    shipment_id: str
    return_id: str
    links: DocumentLinks


class IssuedDocumentsPublic(BaseModel):
    order_id: str
    documents: list[IssuedDocumentPublic]


def public(document: IssuedDocument, base: str = "/invoices") -> IssuedDocumentPublic:
    vat_document = document.document
    return IssuedDocumentPublic(
        number=document.number,
        kind=document.kind.value,
        issued_at=document.issued_at,
        currency=vat_document.currency,
        net_minor=vat_document.net.amount_minor,
        vat_minor=vat_document.vat.amount_minor,
        gross_minor=vat_document.gross.amount_minor,
        reverse_charge=vat_document.reverse_charge,
        corrects=document.corrects,
        shipment_id=document.shipment_id,
        return_id=document.return_id,
        links=DocumentLinks(pdf=f"{base}/{document.number}.pdf", xml=f"{base}/{document.number}.xml"),
    )


def attachment(body: bytes, media_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(body, media_type=media_type, headers=headers)


@router.get(
    "/orders/{order_id}/invoices",
    response_model=IssuedDocumentsPublic,
    responses={404: {"description": "no such order"}},
)
def order_invoices(order_id: str, _: OrdersView, invoices: InvoicesDep) -> IssuedDocumentsPublic:
    """The order's invoices and credit notes as issued, oldest first, with their download links."""
    return IssuedDocumentsPublic(order_id=order_id, documents=[public(doc) for doc in invoices.of_order(order_id)])


@router.get(
    "/invoices/{number}.pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}, 404: {"description": "no document of that number"}},
)
def invoice_pdf(number: str, _: OrdersView, invoices: InvoicesDep) -> Response:
    """The invoice or credit note as PDF (rendered from the amounts as issued)."""
    return attachment(invoices.pdf(invoices.numbered(number)), PDF, f"{number}.pdf")


@router.get(
    "/invoices/{number}.xml",
    response_class=Response,
    responses={
        200: {"content": {XML: {}}},
        404: {"description": "no document of that number"},
        409: {"description": "EN 16931 cannot carry it (no seller VAT id in settings)"},
    },
)
def invoice_xml(number: str, _: OrdersView, invoices: InvoicesDep) -> Response:
    """The invoice or credit note as EN 16931 XML (UN/CEFACT CII, Factur-X EN 16931 profile)."""
    return attachment(invoices.xml(invoices.numbered(number)), XML, f"{number}.xml")
