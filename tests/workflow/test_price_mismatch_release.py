"""An order whose channel total does not reconcile with its lines is held; a person accepts the
channel's total (who and why on the timeline) and it goes on, charged exactly that total; a plain
release is refused with the way out instead of holding it again forever (found from outside)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from domain.status import OrderStatus
from persistence.models import PaymentRecord
from persistence.read_model import orders as order_store
from tests.factories import add_location, next_id, stock
from tests.workflow.conftest import api_client, running_engine

TOKEN = "mismatch-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


def _order() -> dict:
    eur = lambda minor: {"amount_minor": minor, "currency": "EUR"}  # noqa: E731
    return {
        "channel": "webshop",
        "external_id": f"M-{next_id()}",
        "currency": "EUR",
        "lines": [{"sku": "MUG", "quantity": 2, "unit_price": eur(1250)}],
        "shipping": eur(495),
        "total": eur(2795),  # the shop charged 2.00 less than 2 x 12.50 + 4.95 (a coupon it did not send)
        "payment_method": "pm_card_visa",
        "customer_email": "sam@example.org",
    }


async def test_a_price_mismatch_is_released_by_accepting_the_channel_total(temporal_client, database):
    db = database
    async with running_engine(temporal_client, db, return_window=timedelta(seconds=2)) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"MUG": 10})
        with api_client(engine, TOKEN) as api:
            created = await asyncio.to_thread(api.post, "/orders", json=_order(), headers=STAFF)
            assert created.status_code == 202, created.text
            order_id = created.json()["order_id"]
            await engine.wait_for_status(order_id, "ON_HOLD")
            state = await engine.wait_for_live_status(order_id, OrderStatus.ON_HOLD)
            assert state.price_mismatch

            plain = await asyncio.to_thread(api.post, f"/orders/{order_id}/release", json={}, headers=STAFF)
            assert plain.status_code == 409
            assert "accept" in plain.json()["detail"] and "cancel" in plain.json()["detail"]
            no_reason = {"accept_channel_total": True}
            silent = await asyncio.to_thread(api.post, f"/orders/{order_id}/release", json=no_reason, headers=STAFF)
            assert silent.status_code == 409

            accept = {"accept_channel_total": True, "note": "coupon SPRING2 applied in the shop, not sent to us"}
            taken = await asyncio.to_thread(api.post, f"/orders/{order_id}/release", json=accept, headers=STAFF)
            assert taken.status_code == 202, taken.text
            await engine.wait_for_status(order_id, "COMPLETED", timeout=60)

        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            events = {e.kind: e.detail for e in order_store.order_events(session, order_id)}
        assert (payment.captured_minor, payment.voided_minor) == (2795, 0)
        assert "coupon SPRING2" in events["channel_total_accepted"]
        assert events["channel_total_accepted"].startswith("by admin token")  # the admin token named nobody
