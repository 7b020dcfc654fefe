"""A day's facts for the books (domain.journal): the invoices and credit notes issued in a window,
each with how its order's money was taken, and the store credit ledger's entries of the window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.journal import CreditFact, DocumentFact, Settlement
from domain.money import Money
from domain.store_credit import CreditEntryKind
from persistence.models import IssuedDocumentRecord, OrderRecord, PaymentMovement, StoreCreditEntry
from persistence.read_model.invoices import issued_between


def _settlements(session: Session, order_ids: Iterable[str]) -> dict[str, tuple[str, Settlement]]:
    """Per order id: its channel, and who took its money (the channel, or our gateway)."""
    wanted = sorted(set(order_ids))
    found: dict[str, tuple[str, Settlement]] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(OrderRecord.order_id, OrderRecord.channel, OrderRecord.payment_collected).where(
                OrderRecord.order_id.in_(wanted[start : start + 500])
            )
        )
        for order_id, channel, collected in rows:
            found[order_id] = (channel, Settlement.CHANNEL if collected else Settlement.GATEWAY)
    return found


def document_facts(session: Session, start: datetime, end: datetime, currency: str) -> list[DocumentFact]:
    """The documents issued in [start, end) in `currency`. A document whose order is not stored
    (never the case for the engine's own) settles on the gateway."""
    documents = [doc for doc in issued_between(session, start, end) if doc.document.currency == currency]
    orders = _settlements(session, (doc.order_id for doc in documents))
    return [
        DocumentFact(
            doc.number, doc.channel, orders.get(doc.order_id, (doc.channel, Settlement.GATEWAY))[1], doc.document
        )
        for doc in documents
    ]


def credit_facts(session: Session, start: datetime, end: datetime, currency: str) -> list[CreditFact]:
    """The store credit ledger's entries in [start, end) in `currency`, with their orders' channel."""
    rows = list(
        session.execute(
            select(
                StoreCreditEntry.entry_id,
                StoreCreditEntry.kind,
                StoreCreditEntry.amount_minor,
                StoreCreditEntry.order_id,
            )
            .where(StoreCreditEntry.at >= start, StoreCreditEntry.at < end, StoreCreditEntry.currency == currency)
            .order_by(StoreCreditEntry.at, StoreCreditEntry.id)
        )
    )
    orders = _settlements(session, (order_id for *_, order_id in rows if order_id))
    facts: list[CreditFact] = []
    for entry_id, kind, amount, order_id in rows:
        channel, settlement = orders.get(order_id, ("", None)) if order_id else ("", None)
        facts.append(CreditFact(entry_id, CreditEntryKind(kind), Money(amount, currency), channel, settlement))
    return facts


def currencies_between(session: Session, start: datetime, end: datetime) -> list[str]:
    """The currencies with a document or a store credit entry in [start, end)."""
    documents = session.scalars(
        select(IssuedDocumentRecord.currency)
        .where(IssuedDocumentRecord.issued_at >= start, IssuedDocumentRecord.issued_at < end)
        .distinct()
    )
    credits = session.scalars(
        select(StoreCreditEntry.currency).where(StoreCreditEntry.at >= start, StoreCreditEntry.at < end).distinct()
    )
    return sorted({*documents, *credits})


def payment_movements(session: Session, start: datetime, end: datetime, currency: str) -> dict[str, dict[str, int]]:
    """Per channel, what our gateway captured, refunded and voided in [start, end) (the dated ledger,
    persistence.guarded_writes.payment_ledger), in minor units of `currency`."""
    rows = session.execute(
        select(OrderRecord.channel, PaymentMovement.kind, func.sum(PaymentMovement.amount_minor))
        .join(OrderRecord, OrderRecord.order_id == PaymentMovement.order_id)
        .where(PaymentMovement.at >= start, PaymentMovement.at < end, PaymentMovement.currency == currency)
        .group_by(OrderRecord.channel, PaymentMovement.kind)
    )
    moved: dict[str, dict[str, int]] = {}
    for channel, kind, amount in rows:
        moved.setdefault(str(channel), {})[str(kind)] = int(amount or 0)
    return moved
