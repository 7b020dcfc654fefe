"""Read-model rows to the public order shapes (the JSON API's and the dashboard's)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from api.schemas import (
    EditPaymentLinkPublic,
    EventPublic,
    Money,
    OrderLinePublic,
    OrderPublic,
    OrderSummary,
    OrderVersionPublic,
    PaymentPublic,
    ShipmentPublic,
)
from domain.order_edits import OrderVersion
from domain.status import OrderStatus
from persistence.models import OrderEvent, OrderRecord, PaymentRecord, ReturnRecord, ShipmentRecord
from services.order_views import OrderDetails


def _money(amount_minor: int, currency: str) -> Money:
    return Money(amount_minor=amount_minor, currency=currency)


def summary(record: OrderRecord) -> OrderSummary:
    return OrderSummary(
        order_id=record.order_id,
        channel=record.channel,
        external_id=record.external_id,
        reference=record.reference,
        status=OrderStatus(record.status),
        hold_reason=record.hold_reason,
        total=_money(record.total_minor, record.currency),
        placed_at=record.placed_at,
        received_at=record.received_at,
        shipped_at=record.shipped_at,
    )


def detail(
    record: OrderRecord,
    events: list[OrderEvent],
    notified: Mapping[str, datetime] | None = None,
    returns: list[ReturnRecord] | None = None,
    tracking_url: str | None = None,
) -> OrderPublic:
    """`notified`: shipment id → when its channel accepted the confirmation; `returns`: the order's
    returns; `tracking_url`: the customer's tracking page (absolute: it goes into e-mails)."""
    currency = record.currency
    return OrderPublic(
        **summary(record).model_dump(),
        lines=[
            OrderLinePublic(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=_money(line.unit_price_minor, currency),
                total=_money(line.total_minor, currency),
                title=line.title,
            )
            for line in record.lines
        ],
        shipping=_money(record.shipping_minor, currency),
        discount=_money(record.discount_minor, currency),
        shipping_address=dict(record.shipping_address or {}),
        customer_email=record.customer_email,
        payment_collected=record.payment_collected,
        fulfilled_by=record.fulfilled_by,
        completed_at=record.completed_at,
        cancelled_at=record.cancelled_at,
        delivered_at=record.delivered_at,
        shipments=[_shipment(s, currency, (notified or {}).get(s.shipment_id)) for s in record.shipments],
        payments=[_payment(p) for p in record.payments],
        returns=[_return(r) for r in returns or []],
        sourcing=[EventPublic(kind=e.kind, detail=e.detail, at=e.at) for e in events if e.kind == "sourcing"],
        events=[EventPublic(kind=e.kind, detail=e.detail, at=e.at) for e in events],
        tracking_url=tracking_url,
    )


def _shipment(s: ShipmentRecord, currency: str, notified_at: datetime | None) -> ShipmentPublic:
    return ShipmentPublic(
        shipment_id=s.shipment_id,
        location_id=s.location_id,
        status=s.status,
        carrier=s.carrier,
        tracking_number=s.tracking_number,
        label_ref=s.label_ref,
        picked_at=s.picked_at,
        packed_at=s.packed_at,
        shipped_at=s.shipped_at,
        kind=s.kind,
        lines=dict(s.lines),
        short_lines=s.short_lines,
        parcels=s.parcels,
        ready_at=s.ready_at,
        collected_at=s.collected_at,
        cancelled_at=s.cancelled_at,
        channel_notified_at=notified_at,
        delivered_at=s.delivered_at,
        transfer_to=s.transfer_to,
        fulfilment_cost=(_money(s.fulfilment_cost_minor, currency) if s.fulfilment_cost_minor is not None else None),
    )


def _payment(p: PaymentRecord) -> PaymentPublic:
    return PaymentPublic(
        payment_id=p.payment_id,
        provider=p.provider,
        status=p.status,
        authorized=_money(p.authorized_minor, p.currency),
        captured=_money(p.captured_minor, p.currency),
        voided=_money(p.voided_minor, p.currency),
        refunded=_money(p.refunded_minor, p.currency),
        purpose=p.purpose or "order",
        return_id=p.return_id,
    )


def _return(r: ReturnRecord) -> dict[str, object]:
    return {
        "return_id": r.return_id,
        "status": r.status,
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in sorted(r.lines.items())],
        "reason": r.reason,
        "refund": {"amount_minor": r.refund_minor, "currency": r.currency},
        "requested_by": r.requested_by,
        "created_at": r.created_at.isoformat(),
        "refunded_at": r.refunded_at.isoformat() if r.refunded_at else None,
        "state": r.state or "RESOLVED",
        "rma": r.rma,
    }


def public(details: OrderDetails) -> OrderPublic:
    """One order as GET /orders/{id} answers it."""
    view = detail(details.record, details.events, details.notified, details.returns, tracking_url=details.tracking_url)
    view.versions = [_version(version) for version in details.versions]
    if (link := details.edit_link) is not None:
        amount = Money(amount_minor=link.amount_minor, currency=link.currency)
        view.edit_payment_link = EditPaymentLinkPublic(url=link.url, amount=amount, expires_at=link.expires_at)
    return view


def _version(version: OrderVersion) -> OrderVersionPublic:
    return OrderVersionPublic(
        number=version.number,
        changes=list(version.changes),
        changed_by=version.changed_by,
        reason=version.reason,
        at=version.at,
        total=_money(version.total.amount_minor, version.total.currency),
    )
