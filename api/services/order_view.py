"""Read-model rows to the public order shapes."""

from __future__ import annotations

from api.schemas import (
    EventPublic,
    Money,
    OrderLinePublic,
    OrderPublic,
    OrderSummary,
    PaymentPublic,
    ShipmentPublic,
)
from domain.status import OrderStatus
from persistence.models import OrderEvent, OrderRecord


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


def detail(record: OrderRecord, events: list[OrderEvent]) -> OrderPublic:
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
        completed_at=record.completed_at,
        cancelled_at=record.cancelled_at,
        shipments=[
            ShipmentPublic(
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
                transfer_to=s.transfer_to,
                fulfilment_cost=(
                    _money(s.fulfilment_cost_minor, currency) if s.fulfilment_cost_minor is not None else None
                ),
            )
            for s in record.shipments
        ],
        payments=[
            PaymentPublic(
                payment_id=p.payment_id,
                provider=p.provider,
                status=p.status,
                authorized=_money(p.authorized_minor, p.currency),
                captured=_money(p.captured_minor, p.currency),
                voided=_money(p.voided_minor, p.currency),
                refunded=_money(p.refunded_minor, p.currency),
            )
            for p in record.payments
        ],
        returns=[],
        sourcing=[EventPublic(kind=e.kind, detail=e.detail, at=e.at) for e in events if e.kind == "sourcing"],
        events=[EventPublic(kind=e.kind, detail=e.detail, at=e.at) for e in events],
    )
