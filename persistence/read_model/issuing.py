"""Issue the invoices and credit notes the money records call for, in the money record's own transaction.

Invoices: one per shipment that left (shipped, or collected over the counter), when its money is
ours: in the transaction that records a capture (activities.payments: every shipment of the order
that has left and has no invoice yet gets one, so per parcel with multicapture and all at once with
the last parcel otherwise), or, when the channel (a marketplace, a paid web order, the POS) or
store credit took the money, in the transaction that marks the shipment handed over
(activities.fulfilment); a sale over a store's counter, whole, as it leaves the shelf
(activities.inventory.sell_at_counter). The amounts are domain.invoicing.shipment_items of the
order as it stands (its current version after edits) with the shipments that left before it, in
handover order: the
same arithmetic domain.allocation charges a parcel by, so an invoice equals its capture to the cent
and an order's invoices add up to its total. An exchange's replacement shipment is not a new sale:
no invoice (what the customer paid on top, the exchange's difference, is not invoiced yet).

Credit notes: one per refund, in the refund's transaction (a return's refund, a goodwill refund, a
refund the channel made). A refund for returned units that is exactly what those units were paid
for credits them per unit (domain.invoicing.returned_items, the categories and rates the invoices
used); any other refund (goodwill, a partial or second refund, an exchange's difference) is an
amount credit note split over the rates of the invoice it corrects: the newest invoice that covers
the amount, else the order's largest. Never more than the order's invoices hold less what was
credited; a refund before anything was invoiced (a cancel after a capture, no shipment) issues no
credit note: nothing was invoiced, so there is no VAT to correct.

Everything is keyed (`inv:<shipment id>`, `cn:<refund key>`), so a retried activity finds what it
issued and never issues twice. A document the rules cannot make (an order without lines, a SKU
that no longer is on the order after an edit) is not issued: the order's timeline says so and the
money record still commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from contracts.documents import BuyerDetails
from contracts.invoices import IssuedDocument
from domain import limits
from domain.document_numbers import CREDIT_NOTE, INVOICE
from domain.fulfilment import ShipmentKind
from domain.invoicing import (
    DocumentKind,
    VatDocument,
    amount_credit_note,
    credit_note,
    invoice,
    returned_items,
    shipment_items,
)
from domain.money import Money
from domain.order import InvalidOrder, Order, OrderLine
from domain.vat import DUTCH_RATES, STANDARD, VatError, reverse_charge_applies
from persistence.guarded_writes.invoices import record_document
from persistence.models import (
    IssuedDocumentRecord,
    OrderLineRecord,
    OrderRecord,
    PaymentRecord,
    Product,
    ReturnRecord,
    ShipmentRecord,
)
from persistence.read_model import invoices as invoice_store
from persistence.read_model import orders as order_store
from persistence.read_model.return_lifecycle import replacement_shipments
from persistence.read_model.returns import UNCLAIMED


@dataclass(frozen=True)
class IssuingPolicy:
    """The series documents are numbered in and the seller's country (reverse charge, rates)."""

    invoice_series: str = INVOICE
    credit_note_series: str = CREDIT_NOTE
    seller_country: str = "NL"
    rates: Mapping[str, int] = field(default_factory=lambda: dict(DUTCH_RATES))


def current_policy() -> IssuingPolicy:
    """The policy the settings name (OMS_INVOICE_SERIES, OMS_CREDIT_NOTE_SERIES, OMS_SELLER_COUNTRY)."""
    from config import get_settings  # settings are read where documents are issued, not at import

    settings = get_settings()
    return IssuingPolicy(settings.invoice_series, settings.credit_note_series, settings.seller_country)


def invoice_shipments(
    session: Session,
    order_id: str,
    at: datetime,
    policy: IssuingPolicy | None = None,
    *,
    captured: Money | None = None,
) -> list[IssuedDocument]:
    """An invoice for every shipment of the order that has left and has none yet (those issued now).

    `captured`: the capture this transaction records. Parcels that leave at the same moment are
    captured one by one in the order the workflow counted them, which the rows cannot tell; when
    one waiting parcel's invoice is exactly the capture, only that parcel is invoiced now (the
    others at their own captures), so every invoice is its capture to the cent."""
    order_row = session.get(OrderRecord, order_id)
    if order_row is None:
        return []
    order = _priced_order(session, order_row)
    if order is None:
        return []
    policy = policy or current_policy()
    replacements = {
        shipment.shipment_id
        for record in session.scalars(
            select(ReturnRecord).where(ReturnRecord.order_id == order_id, ReturnRecord.resolution == "exchange")
        )
        for shipment in replacement_shipments(session, record)
    }
    left = [
        shipment
        for shipment in session.scalars(select(ShipmentRecord).where(ShipmentRecord.order_id == order_id))
        if _handed_over(shipment) is not None and shipment.shipment_id not in replacements and shipment.lines
    ]
    left.sort(key=lambda shipment: (_handed_over(shipment), shipment.shipment_id))
    categories = _categories(session, order)
    reverse_charge = _reverse_charge(order_row, policy)

    def document_for(shipment: ShipmentRecord, before: Mapping[str, int]) -> VatDocument:
        items, shipping = shipment_items(order, categories, before, _units(shipment))
        return invoice(items, shipping, policy.rates, reverse_charge=reverse_charge)

    before: dict[str, int] = {}
    waiting: list[ShipmentRecord] = []
    for shipment in left:  # what was invoiced already came first, whenever it left
        if session.get(IssuedDocumentRecord, _document_id("inv", shipment.shipment_id)) is None:
            waiting.append(shipment)
        else:
            _add_units(before, _units(shipment))
    if captured is not None and len(waiting) > 1:
        for shipment in waiting:
            try:
                if document_for(shipment, before).gross == captured:
                    waiting = [shipment]
                    break
            except (VatError, InvalidOrder, ValueError):
                continue
    new: list[IssuedDocument] = []
    for shipment in waiting:
        try:
            document = document_for(shipment, before)
        except (VatError, InvalidOrder, ValueError) as exc:
            _not_issued(session, order_id, f"{shipment.shipment_id}: {exc}", at)
        else:
            document_id = _document_id("inv", shipment.shipment_id)
            cause = {"shipment_id": shipment.shipment_id}
            new.append(_record(session, document_id, document, order_row, at, policy.invoice_series, **cause))
        _add_units(before, _units(shipment))
    return new


def _units(shipment: ShipmentRecord) -> dict[str, int]:
    return {sku: units for sku, units in shipment.lines.items() if units > 0}


def _add_units(total: dict[str, int], units: Mapping[str, int]) -> None:
    for sku, count in units.items():
        total[sku] = total.get(sku, 0) + count


def invoice_counter_sale(
    session: Session, order_id: str, at: datetime, policy: IssuingPolicy | None = None
) -> IssuedDocument | None:
    """The invoice of a sale over a store's counter (no shipment: the goods left with the customer
    and the till took the money): everything the order holds, once (`inv:<order id>`)."""
    document_id = _document_id("inv", order_id)
    if (existing := invoice_store.by_id(session, document_id)) is not None:
        return existing
    order_row = session.get(OrderRecord, order_id)
    order = None if order_row is None else _priced_order(session, order_row)
    if order_row is None or order is None:
        return None
    policy = policy or current_policy()
    try:
        items, shipping = shipment_items(order, _categories(session, order), {}, order.demand())
        document = invoice(items, shipping, policy.rates, reverse_charge=_reverse_charge(order_row, policy))
    except (VatError, InvalidOrder, ValueError) as exc:
        _not_issued(session, order_id, f"counter sale: {exc}", at)
        return None
    return _record(session, document_id, document, order_row, at, policy.invoice_series)


def money_collected_elsewhere(session: Session, order_id: str) -> bool:
    """The channel or store credit took the order's money (no gateway payment of ours captures it):
    its invoices are issued when its shipments leave."""
    order = session.get(OrderRecord, order_id)
    if order is None:
        return False
    if order.payment_collected:
        return True
    return session.scalar(select(PaymentRecord.payment_id).where(PaymentRecord.order_id == order_id).limit(1)) is None


def credit_refund(
    session: Session,
    order_id: str,
    refund_key: str,
    amount: Money,
    at: datetime,
    *,
    description: str = "Refund",
    return_id: str = "",
    units: Mapping[str, int] | None = None,
    policy: IssuingPolicy | None = None,
) -> IssuedDocument | None:
    """The credit note for a refund of `amount` (`units`: the returned units it pays back, per SKU);
    None when nothing is left to credit (nothing invoiced yet, or all credited already)."""
    document_id = _document_id("cn", refund_key)
    if (existing := invoice_store.by_id(session, document_id)) is not None:
        return existing
    order_row = session.get(OrderRecord, order_id)
    if order_row is None or amount.amount_minor <= 0:
        return None
    documents = invoice_store.for_order(session, order_id)
    invoices = [doc for doc in documents if doc.kind is DocumentKind.INVOICE]
    if not invoices:
        return None
    credited = sum(doc.document.gross.amount_minor for doc in documents if doc.kind is DocumentKind.CREDIT_NOTE)
    left = sum(doc.document.gross.amount_minor for doc in invoices) - credited
    if left <= 0:
        return None
    policy = policy or current_policy()
    document = None
    if units:
        document = _for_units(session, order_row, units, amount, return_id, policy)
        if document is not None and document.gross.amount_minor > left:
            document = None
    capped = Money(min(amount.amount_minor, left), amount.currency)
    corrects = _corrected(invoices, capped)
    if document is None:
        try:
            document = amount_credit_note(capped, corrects.document, description)
        except VatError as exc:
            _not_issued(session, order_id, f"{refund_key}: {exc}", at)
            return None
    return _record(
        session,
        document_id,
        document,
        order_row,
        at,
        policy.credit_note_series,
        corrects=corrects.number,
        return_id=return_id,
        refund_key=refund_key,
    )


def _for_units(
    session: Session,
    order_row: OrderRecord,
    units: Mapping[str, int],
    amount: Money,
    return_id: str,
    policy: IssuingPolicy,
) -> VatDocument | None:
    """The credit note of the returned units, when `amount` is exactly what they were paid for
    (None otherwise: credited as an amount). Reverse charged like the order's invoices."""
    order = _priced_order(session, order_row)
    if order is None:
        return None
    # The units the order's other returns claimed before this one: what domain.returns priced it after.
    this = session.get(ReturnRecord, return_id) if return_id else None
    before: dict[str, int] = {}
    for other in session.scalars(
        select(ReturnRecord).where(
            ReturnRecord.order_id == order_row.order_id,
            ReturnRecord.return_id != return_id,
            ReturnRecord.state.is_(None) | ReturnRecord.state.not_in(UNCLAIMED),
        )
    ):
        if this is None or (other.created_at, other.return_id) < (this.created_at, this.return_id):
            for sku, count in other.lines.items():
                before[sku] = before.get(sku, 0) + count
    returning = {sku: count for sku, count in units.items() if count > 0}
    try:
        items = returned_items(order, _categories(session, order), before, returning)
        if sum(item.gross.amount_minor for item in items) != amount.amount_minor:
            return None
        return credit_note(
            items,
            Money.zero(order.currency),
            policy.rates,
            reverse_charge=_reverse_charge(order_row, policy),
        )
    except (VatError, InvalidOrder, ValueError):
        return None


def _corrected(invoices: list[IssuedDocument], amount: Money) -> IssuedDocument:
    """The invoice an amount credit note corrects: the newest that covers the amount, else the largest."""
    for candidate in reversed(invoices):
        if candidate.document.gross.amount_minor >= amount.amount_minor:
            return candidate
    return max(invoices, key=lambda doc: doc.document.gross.amount_minor)


def _record(
    session: Session,
    document_id: str,
    document: VatDocument,
    order_row: OrderRecord,
    at: datetime,
    series: str,
    **cause: str,
) -> IssuedDocument:
    record = record_document(
        session,
        document_id,
        document,
        order_id=order_row.order_id,
        channel=order_row.channel,
        buyer=buyer_of(order_row),
        at=at,
        series=series,
        **cause,
    )
    kind = "invoice_issued" if document.kind is DocumentKind.INVOICE else "credit_note_issued"
    order_store.add_event(session, order_row.order_id, kind, f"{record.number}: {document.gross.format()}", at)
    return record


def buyer_of(order: OrderRecord) -> BuyerDetails:
    """The buyer as the order names it: the business when it gave a company name, else the addressee."""
    address = order.shipping_address or {}
    lines = tuple(str(address.get(name) or "") for name in ("line1", "line2") if address.get(name))
    return BuyerDetails(
        name=order.buyer_company or str(address.get("name") or ""),
        address_lines=lines,
        postcode=str(address.get("postcode") or ""),
        city=str(address.get("city") or ""),
        country=str(address.get("country") or ""),
        vat_id=order.buyer_vat_id or "",
    )


def _reverse_charge(order: OrderRecord, policy: IssuingPolicy) -> bool:
    country = str((order.shipping_address or {}).get("country") or "")
    return reverse_charge_applies(policy.seller_country, country, order.buyer_vat_id or "")


def _categories(session: Session, order: Order) -> dict[str, str]:
    """Each of the order's SKUs' VAT category (the catalogue's; not in it: standard)."""
    skus = {line.sku for line in order.lines}
    rows = session.execute(select(Product.sku, Product.vat_category).where(Product.sku.in_(skus)))
    known = {sku: category for sku, category in rows}
    return {sku: known.get(sku) or STANDARD for sku in skus}


def _handed_over(shipment: ShipmentRecord) -> datetime | None:
    """When the shipment's goods left us for the customer: shipped to their address, or collected."""
    if shipment.kind == ShipmentKind.DELIVERY:
        return shipment.shipped_at
    return shipment.collected_at


def _priced_order(session: Session, record: OrderRecord) -> Order | None:
    """The order as it stands (its current version), rebuilt from its record; None without lines."""
    rows = list(
        session.scalars(
            select(OrderLineRecord).where(OrderLineRecord.order_id == record.order_id).order_by(OrderLineRecord.line_no)
        )
    )
    if not rows:
        return None
    set_committed_value(record, "lines", rows)
    currency = record.currency
    charges = record.charges_minor
    if charges is None:
        lines_total = sum(line.total_minor for line in rows)
        charges = max(0, record.total_minor - lines_total - record.shipping_minor + record.discount_minor)
    try:
        return Order(
            channel=record.channel,
            external_id=record.external_id,
            currency=currency,
            lines=tuple(
                OrderLine(
                    line.sku,
                    line.quantity,
                    Money(line.unit_price_minor, currency),
                    Money(line.total_minor, currency),
                    title=line.title,
                )
                for line in rows
            ),
            placed_at=record.placed_at,
            total=Money(record.total_minor, currency),
            shipping=Money(record.shipping_minor, currency),
            discount=Money(record.discount_minor, currency),
            charges=Money(charges, currency),
        )
    except InvalidOrder:
        return None


def _document_id(prefix: str, key: str) -> str:
    """`<prefix>:<key>`, or the key's digest when that would not fit a document id."""
    document_id = f"{prefix}:{key}"
    if len(document_id) <= limits.DOCUMENT_ID:
        return document_id
    return f"{prefix}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _not_issued(session: Session, order_id: str, why: str, at: datetime) -> None:
    order_store.add_event(session, order_id, "document_not_issued", why[:500], at)
