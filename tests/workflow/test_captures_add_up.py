"""What a split order captures adds up to its total, to the cent, whichever way it is split
(found from outside: two lines of one SKU were valued twice, uneven lines lost a cent per parcel)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from domain.money import Money
from domain.order import Address, Order, OrderLine
from domain.status import OrderStatus
from persistence.models import PaymentRecord, ShipmentRecord
from services.intake import start_order
from tests.factories import add_location, next_id, stock
from tests.workflow.conftest import running_engine
from workflows.order import OrderWorkflow


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def unpaid(lines: list[tuple[str, int, int]], shipping: int) -> Order:
    """lines: (sku, quantity, line total in cents)."""
    return Order(
        channel="webshop",
        external_id=str(next_id()),
        currency="EUR",
        lines=tuple(OrderLine(sku, qty, eur(total // qty), eur(total)) for sku, qty, total in lines),
        placed_at=datetime.now(UTC),
        total=eur(sum(total for _, _, total in lines) + shipping),
        shipping=eur(shipping),
        shipping_address=Address(name="Sam", line1="Damrak 1", postcode="1012 LG", city="Amsterdam", country="NL"),
        payment_method="pm_card_visa",
    )


@pytest.mark.parametrize(
    ("lines", "shipping"),
    [
        ([("MUG", 3, 1000)], 0),  # 10.00 for three units, one per location: 3.33 + 3.33 + 3.34
        ([("TEE", 1, 1000), ("TEE", 1, 0)], 495),  # one SKU on two lines (one free), one per location
    ],
    ids=["uneven-line-over-three-parcels", "one-sku-on-two-lines"],
)
async def test_every_parcel_captures_its_share_and_they_add_up_to_the_total(
    temporal_client, sqlite_database, lines, shipping
):
    db = sqlite_database
    async with running_engine(temporal_client, db, return_window=timedelta(seconds=1)) as engine:
        sku = lines[0][0]
        for name, lat in (("AMS", 52.37), ("UTR", 52.09), ("RTM", 51.92)):
            add_location(db.session_factory, name, latitude=lat, longitude=4.9)
            stock(db.session_factory, name, {sku: 1})
        order = unpaid(lines, shipping)
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert (await asyncio.wait_for(handle.result(), 60)).status is OrderStatus.COMPLETED

        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            parcels = session.scalars(select(ShipmentRecord).where(ShipmentRecord.order_id == order_id)).all()
        assert len([p for p in parcels if p.status == "SHIPPED"]) == sum(qty for _, qty, _ in lines)
        assert (payment.captured_minor, payment.voided_minor) == (order.total.amount_minor, 0)
