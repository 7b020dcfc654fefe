"""Returns settled other than by a gateway refund, on a real worker and both databases: resolved as
store credit (issued once, nothing through the gateway), and an order paid partly with store credit
refunded in full, split (the gateway gives back what it took, the rest goes back as credit)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from activities.stock_feed import StockFeedActivities
from contracts.returns import ReturnAccepted
from contracts.store_credit import IssueCreditInput
from domain.money import Money
from domain.status import OrderStatus
from domain.store_credit import CreditReason
from persistence.models import PaymentRecord, ReturnRecord, ShipmentRecord, StoreCreditEntry
from services.store_credit import CreditAccounts
from services.unit_of_work import units_on
from tests.conftest import TestDatabase
from tests.factories import add_location, next_id, stock
from tests.workflow.conftest import (
    Engine,
    api_client,
    ask_exchange,
    event_kinds,
    received_and_restocked,
    return_record,
    running_engine,
    stock_of,
    until,
)
from tests.workflow.histories import record_history

TOKEN = "resolutions-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
EMAIL = "robin@example.org"


async def _post(api: TestClient, path: str, body: dict[str, Any] | None = None) -> Any:
    return await asyncio.to_thread(api.post, path, json=body or {}, headers=STAFF)


def _order(**extra: Any) -> dict[str, Any]:
    return {
        "channel": "webshop",
        "external_id": f"RS-{next_id()}",
        "currency": "EUR",
        "lines": [
            {"sku": "TEE", "quantity": 3, "unit_price": {"amount_minor": 1000, "currency": "EUR"}},
            {"sku": "MUG", "quantity": 1, "unit_price": {"amount_minor": 1250, "currency": "EUR"}},
        ],
        "total": {"amount_minor": 3000 + 1250 + 495, "currency": "EUR"},
        "shipping": {"amount_minor": 495, "currency": "EUR"},
        "shipping_address": {"name": "Robin", "city": "Amsterdam", "country": "NL"},
        "customer_email": EMAIL,
        "payment_method": "pm_card_visa",
        **extra,
    }


def _stocked(database: TestDatabase) -> None:
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"TEE": 10, "MUG": 5})


def _accounts(database: TestDatabase) -> CreditAccounts:
    return CreditAccounts(units_on(database.session_factory), None)


def _balance(database: TestDatabase) -> int:
    summary = _accounts(database).statement(EMAIL, "default").summary
    return summary.balance.amount_minor if summary else 0


def _payment(engine: Engine, order_id: str) -> tuple[int, int]:
    with engine.db.session() as session:
        payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
        assert payment is not None
        return payment.captured_minor, payment.refunded_minor


def _credit_issued(engine: Engine, order_id: str) -> list[tuple[str, int, str | None]]:
    with engine.db.session() as session:
        rows = session.scalars(
            select(StoreCreditEntry)
            .where(StoreCreditEntry.order_id == order_id, StoreCreditEntry.kind == "issue")
            .order_by(StoreCreditEntry.id)
        )
        return [(row.entry_id, row.amount_minor, row.reason) for row in rows]


async def _shipped(engine: Engine, api: TestClient, order: dict[str, Any]) -> str:
    placed = await _post(api, "/orders", order)
    assert placed.status_code == 202, placed.text
    order_id: str = placed.json()["order_id"]
    await engine.wait_for_status(order_id, "SHIPPED")
    await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
    return order_id


async def test_a_return_resolved_as_store_credit_credits_the_customer_once(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        _stocked(database)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped(engine, api, _order())
            unknown = await _post(
                api,
                f"/orders/{order_id}/returns",
                {"lines": [{"sku": "TEE", "quantity": 1}], "resolution": "voucher"},
            )
            assert unknown.status_code == 422 and unknown.json()["detail"]["refusal"] == "invalid", unknown.text
            asked = await _post(
                api,
                f"/orders/{order_id}/returns",
                {"lines": [{"sku": "TEE", "quantity": 2}], "reason": "too small", "resolution": "store_credit"},
            )
            assert asked.status_code == 202, asked.text
            return_id = asked.json()["return_id"]
            done = await received_and_restocked(api, STAFF, return_id, {"TEE": 2})
            assert (done["state"], done["status"]) == ("RESOLVED", "CREDITED")
            assert done["refund"] == {"amount_minor": 2000, "currency": "EUR"}

        # What a refund of the two would have been, as credit, once; nothing through the gateway.
        assert _balance(database) == 2000
        assert _credit_issued(engine, order_id) == [(f"{return_id}:credit", 2000, CreditReason.RETURN.value)]
        assert _payment(engine, order_id) == (4745, 0)
        with engine.db.session() as session:
            record = session.get(ReturnRecord, return_id)
            assert record is not None and (record.status, record.resolution) == ("CREDITED", "store_credit")
        kinds = event_kinds(engine, order_id)
        assert kinds.count("store_credit:issued") == 1 and "refunded" not in kinds, kinds
        handle = engine.client.get_workflow_handle(return_id, result_type=ReturnAccepted)
        assert (await handle.result()).status == "CREDITED"
        await record_history(handle, "return_resolved_as_store_credit")


async def test_an_order_paid_partly_with_credit_is_refunded_in_full_split(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        _stocked(database)
        _accounts(database).issue(
            IssueCreditInput(
                "test:gift", Money(3000, "EUR"), CreditReason.GOODWILL, datetime.now(UTC), email=EMAIL, shop="default"
            )
        )
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped(engine, api, _order(store_credit={"amount_minor": 3000, "currency": "EUR"}))
            assert _balance(database) == 0
            assert _payment(engine, order_id) == (1745, 0)  # the card paid only what credit did not
            first = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "MUG", "quantity": 1}]})
            assert first.status_code == 202, first.text
            done = await received_and_restocked(api, STAFF, first.json()["return_id"], {"MUG": 1})
            # The card gives back first: 12.50 of the 17.45 it paid.
            assert (done["status"], done["refund"]["amount_minor"]) == ("REFUNDED", 1250)
            assert _payment(engine, order_id) == (1745, 1250) and _balance(database) == 0

            second = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "TEE", "quantity": 3}]})
            assert second.status_code == 202, second.text
            return_id = second.json()["return_id"]
            done = await received_and_restocked(api, STAFF, return_id, {"TEE": 3})
            # 30.00 due: the 4.95 left on the card through the gateway, 25.05 back as credit.
            assert (done["status"], done["refund"]["amount_minor"]) == ("REFUNDED", 3000)

        assert _payment(engine, order_id) == (1745, 1745)
        assert return_record(engine, return_id).refund_minor == 495  # the money back; the credit is on the ledger
        assert _balance(database) == 2505
        assert _credit_issued(engine, order_id) == [(f"{return_id}:credit", 2505, CreditReason.RETURN.value)]
        kinds = event_kinds(engine, order_id)
        assert kinds.count("refunded") == 2 and kinds.count("store_credit:issued") == 1, kinds


# --- Exchanges ----------------------------------------------------------------------------------------


def _shipment(engine: Engine, shipment_id: str) -> ShipmentRecord | None:
    with engine.db.session() as session:
        return session.get(ShipmentRecord, shipment_id)


async def _resolved(engine: Engine, return_id: str, timeout: float = 90) -> ReturnRecord:
    deadline = time.monotonic() + timeout
    while True:
        record = await asyncio.to_thread(return_record, engine, return_id)
        if record.state == "RESOLVED" or time.monotonic() > deadline:
            return record
        await asyncio.sleep(0.2)


async def test_an_exchange_like_for_like_ships_the_replacement_as_a_new_shipment_of_the_order(
    temporal_client, database
):
    async with running_engine(temporal_client, database) as engine:
        _stocked(database)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped(engine, api, _order())
            return_id = await ask_exchange(api, STAFF, order_id, {"TEE": 1}, [{"sku": "TEE", "quantity": 1}])
            disposed = await received_and_restocked(api, STAFF, return_id, {"TEE": 1})
            assert disposed["state"] in ("DISPOSED", "RESOLVED"), disposed
            record = await _resolved(engine, return_id)
            assert record.state == "RESOLVED" and record.resolution == "exchange"
            assert record.refund_minor == 0  # the returned units paid for the replacement
            shipment_id = record.replacement_shipment_id
            assert shipment_id == f"shipment-{order_id}-AMS-x1"
            seen = await asyncio.to_thread(api.get, f"/returns/{return_id}", headers=STAFF)
            assert seen.json()["replacement_shipment_id"] == shipment_id, seen.text
            order = (await asyncio.to_thread(api.get, f"/orders/{order_id}", headers=STAFF)).json()
            assert len(order["shipments"]) == 2 and order["status"] == "SHIPPED", order

        shipment = _shipment(engine, shipment_id)
        assert shipment is not None and (shipment.order_id, shipment.lines, shipment.status) == (
            order_id,
            {"TEE": 1},
            "SHIPPED",
        )
        # 10 - 3 shipped + 1 back on the shelf - 1 replacement gone; nothing left reserved.
        assert stock_of(engine, "AMS", "TEE") == (7, 0)
        assert _payment(engine, order_id) == (4745, 0)  # like for like: no money moves
        kinds = event_kinds(engine, order_id)
        for kind in ("exchange_reserved", "exchange_shipped", "return_resolved"):
            assert kinds.count(kind) == 1, (kind, kinds)
        handle = engine.client.get_workflow_handle(return_id, result_type=ReturnAccepted)
        await handle.result()
        await record_history(handle, "return_exchanged_like_for_like")


async def test_a_cheaper_replacement_refunds_the_difference(temporal_client, database):
    """(A dearer one is charged the difference: tests/workflow/test_exchange_differences.py.)"""
    async with running_engine(temporal_client, database) as engine:
        _stocked(database)
        stock(database.session_factory, "AMS", {"CAP": 4})
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped(engine, api, _order())
            unpriced = await _post(
                api,
                f"/orders/{order_id}/returns",
                {
                    "lines": [{"sku": "TEE", "quantity": 1}],
                    "resolution": "exchange",
                    "replacement": [{"sku": "CAP", "quantity": 1}],
                },
            )
            assert unpriced.status_code == 422 and "unit_price" in unpriced.text, unpriced.text
            cap = {"sku": "CAP", "quantity": 1, "unit_price": {"amount_minor": 600, "currency": "EUR"}}
            return_id = await ask_exchange(api, STAFF, order_id, {"TEE": 1}, [cap])
            await received_and_restocked(api, STAFF, return_id, {"TEE": 1})
            record = await _resolved(engine, return_id)

        assert record.state == "RESOLVED" and record.status == "REFUNDED"
        assert _payment(engine, order_id) == (4745, 400)  # 10.00 returned, 6.00 sent: 4.00 back
        assert record.refund_minor == 400
        assert stock_of(engine, "AMS", "CAP") == (3, 0)
        assert record.replacement_shipment_id is not None


async def test_an_exchange_out_of_stock_is_refunded_instead(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        _stocked(database)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped(engine, api, _order())
            cap = {"sku": "CAP", "quantity": 1, "unit_price": {"amount_minor": 1000, "currency": "EUR"}}
            return_id = await ask_exchange(api, STAFF, order_id, {"TEE": 1}, [cap])
            await received_and_restocked(api, STAFF, return_id, {"TEE": 1})
            record = await _resolved(engine, return_id)

        assert (record.state, record.status, record.replacement_shipment_id) == ("RESOLVED", "REFUNDED", None)
        assert record.refund_minor == 1000
        assert _payment(engine, order_id) == (4745, 1000)
        assert "exchange_refunded_instead" in event_kinds(engine, order_id)


async def test_an_exchange_out_of_stock_waits_as_a_backorder_then_ships_on_restock(temporal_client, database):
    async with running_engine(temporal_client, database, exchange_out_of_stock="backorder") as engine:
        _stocked(database)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped(engine, api, _order())
            cap = {"sku": "CAP", "quantity": 1, "unit_price": {"amount_minor": 1000, "currency": "EUR"}}
            return_id = await ask_exchange(api, STAFF, order_id, {"TEE": 1}, [cap])
            await received_and_restocked(api, STAFF, return_id, {"TEE": 1})
            await until(lambda: "exchange_waiting" in event_kinds(engine, order_id))
            assert return_record(engine, return_id).state == "DISPOSED"
            stock(database.session_factory, "AMS", {"CAP": 2})
            feed = StockFeedActivities(database.session_factory, {}, engine.client)
            assert await feed.wake_backorders({"MUG"}) == 0  # a restock of another SKU wakes nobody
            assert await feed.wake_backorders({"CAP"}) == 1  # the stock feed's pass after the restock
            record = await _resolved(engine, return_id)

        assert record.state == "RESOLVED" and record.replacement_shipment_id == f"shipment-{order_id}-AMS-x1"
        assert _payment(engine, order_id) == (4745, 0)
        assert stock_of(engine, "AMS", "CAP") == (1, 0)


async def test_an_exchange_at_the_desk_answers_at_once_and_ships_the_replacement(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        _stocked(database)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped(engine, api, _order())
            asked = await _post(
                api,
                f"/orders/{order_id}/returns",
                {
                    "lines": [{"sku": "MUG", "quantity": 1}],
                    "received": True,
                    "resolution": "exchange",
                    "replacement": [{"sku": "MUG", "quantity": 1}],
                },
            )
            assert asked.status_code == 202, asked.text
            record = await _resolved(engine, asked.json()["return_id"])

        assert record.state == "RESOLVED" and record.replacement_shipment_id == f"shipment-{order_id}-AMS-x1"
        assert stock_of(engine, "AMS", "MUG") == (4, 0)  # 5 - 1 shipped + 1 back - 1 replacement
        assert _payment(engine, order_id) == (4745, 0)
