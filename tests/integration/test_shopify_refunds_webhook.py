"""Shopify `refunds/create`: a refund made in Shopify's admin, recorded on its order once (both
databases, the real app): its units count as returned, its money stays Shopify's, nothing restocked."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.main import create_app
from config import load_settings
from domain.returns import ReturnStatus
from integrations.channels import shopify
from ops.temporal_dev import DevServer
from persistence.models import ChannelMessage, OrderEvent, ReturnRecord, StockMovement
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.returns import Returns
from services.unit_of_work import units_on
from tests.factories import make_order, next_id

if TYPE_CHECKING:  # imported at run time, pytest would try to collect it as a test class
    from tests.conftest import TestDatabase

SECRET = "refunds-shopify-secret"

# Shopify's documented Refund (REST Admin API), as the refunds/create webhook sends it.
REFUND: dict[str, Any] = {
    "id": 929361463,
    "order_id": 0,
    "created_at": "2026-12-07T13:48:12-05:00",
    "note": "Customer changed their mind",
    "user_id": 548380009,
    "processed_at": "2026-12-07T13:48:12-05:00",
    "restock": False,
    "duties": [],
    "total_duties_set": {
        "shop_money": {"amount": "0.00", "currency_code": "EUR"},
        "presentment_money": {"amount": "0.00", "currency_code": "EUR"},
    },
    "return": None,
    "admin_graphql_api_id": "gid://shopify/Refund/929361463",
    "refund_line_items": [
        {
            "id": 104689539,
            "quantity": 1,
            "line_item_id": 703073504,
            "location_id": 487838322,
            "restock_type": "return",
            "subtotal": "19.99",
            "total_tax": "3.47",
            "subtotal_set": {
                "shop_money": {"amount": "19.99", "currency_code": "EUR"},
                "presentment_money": {"amount": "19.99", "currency_code": "EUR"},
            },
            "line_item": {
                "id": 703073504,
                "variant_id": 457924702,
                "title": "Tee",
                "quantity": 2,
                "sku": "TEE-M",
                "price": "19.99",
                "fulfillable_quantity": 0,
                "fulfillment_status": "fulfilled",
            },
        }
    ],
    "transactions": [
        {
            "id": 389404469,
            "order_id": 0,
            "kind": "refund",
            "gateway": "bogus",
            "status": "success",
            "message": "Bogus Gateway: Forced success",
            "created_at": "2026-12-07T13:48:12-05:00",
            "test": True,
            "parent_id": 389404468,
            "amount": "19.99",
            "currency": "EUR",
        },
        {"id": 389404470, "kind": "refund", "status": "pending", "amount": "5.00", "currency": "EUR"},
    ],
    "order_adjustments": [],
}


@pytest.fixture
def api(database: TestDatabase, temporal_server: DevServer) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=database.url,
        shopify_webhook_secret=SECRET,
        temporal_address=temporal_server.address,
        task_queue=f"refunds-{uuid.uuid4()}",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def shopify_order(db: TestDatabase) -> tuple[str, int]:
    """A Shopify order recorded here: 2 x TEE-M, 1 x CAP."""
    external = next_id()
    order = make_order([("TEE-M", 2, 1999), ("CAP", 1, 1250)], channel="shopify", external_id=str(external))
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.commit()
    return order.order_id, external


def refund_for(order_external_id: int, **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(REFUND)
    body["order_id"] = order_external_id
    body.update(changes)
    return body


def deliver(api: TestClient, body: dict[str, Any] | bytes, *, secret: str = SECRET, sign: bool = True) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": "refunds/create"}
    if sign:
        headers["X-Shopify-Hmac-Sha256"] = shopify.sign(secret, raw)
    return api.post("/webhooks/shopify", content=raw, headers=headers)


def recorded(db: TestDatabase, order_id: str) -> list[ReturnRecord]:
    with db.session() as session:
        rows = list(session.scalars(select(ReturnRecord).where(ReturnRecord.order_id == order_id)))
        session.expunge_all()
        return rows


def events(db: TestDatabase, order_id: str) -> list[str]:
    with UnitOfWork(db.session_factory) as uow:
        rows = uow.session.scalars(
            select(OrderEvent.detail).where(OrderEvent.order_id == order_id, OrderEvent.kind == "refunded_on_channel")
        )
        return list(rows)


def test_a_partial_refund_is_recorded_on_its_order(api: TestClient, database: TestDatabase) -> None:
    order_id, external = shopify_order(database)
    answer = deliver(api, refund_for(external))
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"refund_id": "929361463", "order_id": order_id, "duplicate": False}
    [record] = recorded(database, order_id)
    assert record.return_id == "shopify-refund-929361463"
    assert record.status == ReturnStatus.REFUND_ON_CHANNEL
    assert record.lines == {"TEE-M": 1}
    assert (record.source, record.external_rma) == ("shopify", "929361463")
    assert (record.refund_minor, record.currency) == (1999, "EUR")  # the pending transaction paid nothing yet
    assert events(database, order_id) == [
        "shopify-refund-929361463: 1 x TEE-M, 19.99 EUR refunded on shopify; "
        "restock in shopify: return (our stock moves when the goods reach us)"
    ]
    # Counted as returned: a return asked here may only take back what Shopify has not refunded.
    options = Returns(units_on(database.session_factory), workflows=None).options(order_id)  # type: ignore[arg-type]
    assert options.returned == {"TEE-M": 1}
    view = api.get(f"/orders/{order_id}", headers={"Authorization": "Bearer dev-admin-token"}).json()
    [shown] = view["returns"]
    assert (shown["return_id"], shown["status"], shown["lines"]) == (
        "shopify-refund-929361463",
        "REFUND_ON_CHANNEL",
        [{"sku": "TEE-M", "quantity": 1}],
    )
    assert shown["refund"] == {"amount_minor": 1999, "currency": "EUR"}
    with UnitOfWork(database.session_factory) as uow:  # and no stock moved
        assert uow.session.scalar(select(func.count()).select_from(StockMovement)) == 0


def test_a_redelivery_answers_the_same_and_records_nothing_more(api: TestClient, database: TestDatabase) -> None:
    order_id, external = shopify_order(database)
    body = refund_for(external)
    first, again = deliver(api, body), deliver(api, body)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == {**first.json(), "duplicate": True}
    assert len(recorded(database, order_id)) == 1
    assert len(events(database, order_id)) == 1


def test_a_second_refund_of_the_same_order_adds_up(api: TestClient, database: TestDatabase) -> None:
    order_id, external = shopify_order(database)
    deliver(api, refund_for(external))
    second = refund_for(external, id=929361464)
    second["refund_line_items"][0]["line_item"]["sku"] = "CAP"
    second["refund_line_items"][0]["restock_type"] = "no_restock"
    second["transactions"] = [{"id": 1, "kind": "refund", "status": "success", "amount": "12.50", "currency": "EUR"}]
    assert deliver(api, second).status_code == 202
    options = Returns(units_on(database.session_factory), workflows=None).options(order_id)  # type: ignore[arg-type]
    assert options.returned == {"TEE-M": 1, "CAP": 1}
    assert sorted(r.refund_minor for r in recorded(database, order_id)) == [1250, 1999]


def test_a_refund_of_money_only(api: TestClient, database: TestDatabase) -> None:
    order_id, external = shopify_order(database)
    body = refund_for(external, refund_line_items=[])
    body["transactions"] = [{"id": 2, "kind": "refund", "status": "success", "amount": "4.95", "currency": "EUR"}]
    assert deliver(api, body).status_code == 202
    [record] = recorded(database, order_id)
    assert (record.lines, record.refund_minor) == ({}, 495)


def test_an_unknown_order_is_accepted_and_kept_for_a_person(api: TestClient, database: TestDatabase) -> None:
    answer = deliver(api, refund_for(next_id()))
    assert answer.status_code == 202  # anything else, and Shopify retries for two days, then drops the webhook
    assert answer.json()["order_id"] is None
    with UnitOfWork(database.session_factory) as uow:
        outcomes = list(
            uow.session.scalars(select(ChannelMessage.outcome).where(ChannelMessage.kind == "refunds/create"))
        )
    assert outcomes == ["refund for an order not known here: kept for a person"]


def test_a_bad_or_missing_signature_is_401(api: TestClient, database: TestDatabase) -> None:
    order_id, external = shopify_order(database)
    assert deliver(api, refund_for(external), secret="not-the-secret").status_code == 401
    assert deliver(api, refund_for(external), sign=False).status_code == 401
    assert recorded(database, order_id) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"id": None},
        {"order_id": "not a number"},
        {"refund_line_items": [{"quantity": -1, "line_item": {"sku": "TEE-M"}}]},
        {"transactions": [{"kind": "refund", "status": "success", "amount": "1.001", "currency": "EUR"}]},
        {"transactions": [{"kind": "refund", "status": "success", "amount": "NaN-ish", "currency": "EUR"}]},
    ],
)
def test_a_body_that_is_not_a_refund_is_422(api: TestClient, database: TestDatabase, changes: dict[str, Any]) -> None:
    _, external = shopify_order(database)
    answer = deliver(api, refund_for(external, **changes))
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]["message"]


def test_not_json_is_400(api: TestClient, database: TestDatabase) -> None:
    assert deliver(api, b"{not json").status_code == 400
