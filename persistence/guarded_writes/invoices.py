"""Record an invoice or credit note once, with its number taken in the same transaction.

`record_document` is what every issuing path calls (a shipment's capture, a refund): the number
comes from persistence.guarded_writes.document_numbers in the caller's transaction, so a document
whose transaction fails gives its number back and the series stays gapless. A document asked for
again (a retried activity) is found by its `document_id` and answered as it was first issued,
never issued twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from contracts.documents import BuyerDetails
from contracts.invoices import IssuedDocument, buyer_from_json, buyer_json, document_from_json, document_json
from domain.document_numbers import CREDIT_NOTE, INVOICE, numbering_year
from domain.invoicing import DocumentKind, VatDocument
from domain.outbound_events import EventType, money
from persistence.guarded_writes.document_numbers import issue_number
from persistence.guarded_writes.events_outbox import emit
from persistence.models import IssuedDocumentRecord


def record_document(
    session: Session,
    document_id: str,
    document: VatDocument,
    *,
    order_id: str,
    channel: str,
    buyer: BuyerDetails,
    at: datetime,
    series: str | None = None,
    corrects: str = "",
    shipment_id: str = "",
    return_id: str = "",
    refund_key: str = "",
) -> IssuedDocument:
    """The document `document_id`, numbered in `series` (INV for invoices, CN for credit notes unless
    the settings name others) and the year of `at` (UTC). Already recorded: answered as it was issued
    (what was asked now is not compared: the first issue is the legal document)."""
    existing = session.get(IssuedDocumentRecord, document_id)
    if existing is None:
        if series is None:
            series = INVOICE if document.kind is DocumentKind.INVOICE else CREDIT_NOTE
        number = issue_number(session, series, numbering_year(at), document_id, at)
        # Read again after the counter's lock: a retry racing its first try finds what that try committed.
        existing = session.get(IssuedDocumentRecord, document_id, populate_existing=True)
    if existing is None:
        existing = IssuedDocumentRecord(
            document_id=document_id,
            number=number,
            kind=document.kind.value,
            order_id=order_id,
            channel=channel,
            issued_at=at,
            currency=document.currency,
            net_minor=document.net.amount_minor,
            vat_minor=document.vat.amount_minor,
            gross_minor=document.gross.amount_minor,
            reverse_charge=document.reverse_charge,
            corrects=corrects or None,
            shipment_id=shipment_id or None,
            return_id=return_id or None,
            refund_key=refund_key or None,
            document=document_json(document),
            buyer=buyer_json(buyer),
        )
        session.add(existing)
        session.flush()
        if document.kind is DocumentKind.INVOICE:  # credit notes: refund.issued tells of the money
            _emit_issued(session, existing)
    return issued_document(existing)


def _emit_issued(session: Session, row: IssuedDocumentRecord) -> None:
    """invoice.issued for subscribers, once, with the invoice (a retry finds it and emits nothing)."""
    data = {
        "order_id": row.order_id,
        "invoice_id": row.document_id,
        "number": row.number,
        "total": money(row.gross_minor, row.currency),
        "issued_at": row.issued_at.isoformat(),
    }
    emit(session, EventType.INVOICE_ISSUED, data, ordering_key=row.order_id, at=row.issued_at)


def issued_document(row: IssuedDocumentRecord) -> IssuedDocument:
    return IssuedDocument(
        document_id=row.document_id,
        number=row.number,
        order_id=row.order_id,
        channel=row.channel,
        issued_at=row.issued_at,
        document=document_from_json(row.document),
        buyer=buyer_from_json(row.buyer),
        corrects=row.corrects or "",
        shipment_id=row.shipment_id or "",
        return_id=row.return_id or "",
        refund_key=row.refund_key or "",
    )
