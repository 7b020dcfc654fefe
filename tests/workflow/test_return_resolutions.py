"""Returns settled other than by a gateway refund, on a real worker and both databases: resolved as
store credit (issued once, nothing through the gateway), and an order paid partly with store credit
refunded in full, split (the gateway gives back what it took, the rest goes back as credit)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from contracts.returns import ReturnAccepted
from contracts.store_credit import IssueCreditInput
from domain.money import Money
from domain.status import OrderStatus
from domain.store_credit import CreditReason
from persistence.models import PaymentRecord, ReturnRecord, StoreCreditEntry
from persistence.read_model import orders as order_store
from services.store_credit import CreditAccounts
from services.unit_of_work import units_on
from tests.conftest import TestDatabase
from tests.factories import add_location, next_id, stock
from tests.workflow.conftest import Engine, api_client, running_engine
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


def _event_kinds(engine: Engine, order_id: str) -> list[str]:
    with engine.db.session() as session:
        return [event.kind for event in order_store.order_events(session, order_id)]


async def _shipped(engine: Engine, api: TestClient, order: dict[str, Any]) -> str:
    placed = await _post(api, "/orders", order)
    assert placed.status_code == 202, placed.text
    order_id: str = placed.json()["order_id"]
    await engine.wait_for_status(order_id, "SHIPPED")
    await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)
    return order_id


async def _received_and_restocked(api: TestClient, return_id: str, lines: dict[str, int]) -> dict[str, Any]:
    received = await _post(
        api,
        f"/returns/{return_id}/receive",
        {"location_id": "AMS", "lines": [{"sku": sku, "quantity": n} for sku, n in lines.items()]},
    )
    assert received.status_code == 200, received.text
    disposed = await _post(
        api,
        f"/returns/{return_id}/dispose",
        {"lines": [{"sku": sku, "quantity": n, "disposition": "restock"} for sku, n in lines.items()]},
    )
    assert disposed.status_code == 200, disposed.text
    done: dict[str, Any] = disposed.json()
    return done


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
            done = await _received_and_restocked(api, return_id, {"TEE": 2})
            assert (done["state"], done["status"]) == ("RESOLVED", "CREDITED")
            assert done["refund"] == {"amount_minor": 2000, "currency": "EUR"}

        # What a refund of the two would have been, as credit, once; nothing through the gateway.
        assert _balance(database) == 2000
        assert _credit_issued(engine, order_id) == [(f"{return_id}:credit", 2000, CreditReason.RETURN.value)]
        assert _payment(engine, order_id) == (4745, 0)
        with engine.db.session() as session:
            record = session.get(ReturnRecord, return_id)
            assert record is not None and (record.status, record.resolution) == ("CREDITED", "store_credit")
        kinds = _event_kinds(engine, order_id)
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
            done = await _received_and_restocked(api, first.json()["return_id"], {"MUG": 1})
            # The card gives back first: 12.50 of the 17.45 it paid.
            assert (done["status"], done["refund"]["amount_minor"]) == ("REFUNDED", 1250)
            assert _payment(engine, order_id) == (1745, 1250) and _balance(database) == 0

            second = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "TEE", "quantity": 3}]})
            assert second.status_code == 202, second.text
            return_id = second.json()["return_id"]
            done = await _received_and_restocked(api, return_id, {"TEE": 3})
            # 30.00 due: the 4.95 left on the card through the gateway, 25.05 back as credit.
            assert (done["status"], done["refund"]["amount_minor"]) == ("REFUNDED", 3000)

        assert _payment(engine, order_id) == (1745, 1745)
        assert _balance(database) == 2505
        assert _credit_issued(engine, order_id) == [(f"{return_id}:credit", 2505, CreditReason.RETURN.value)]
        kinds = _event_kinds(engine, order_id)
        assert kinds.count("refunded") == 2 and kinds.count("store_credit:issued") == 1, kinds
