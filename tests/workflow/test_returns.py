"""Returns through HTTP with a real worker: refused when they cannot be right, and when taken the
goods are back on the shelf they left from and the refund is exactly what was paid for them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from domain.status import OrderStatus
from tests.factories import add_location, next_id, stock
from tests.workflow.conftest import api_client, on_hand, running_engine
from tests.workflow.histories import record_history

TOKEN = "returns-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


async def _post(api: TestClient, path: str, body: dict[str, Any]) -> Any:
    return await asyncio.to_thread(api.post, path, json=body, headers=STAFF)


async def _get(api: TestClient, path: str) -> dict[str, Any]:
    response = await asyncio.to_thread(api.get, path, headers=STAFF)
    assert response.status_code == 200, response.text
    return response.json()


def _webshop_order(**extra: Any) -> dict[str, Any]:
    return {
        "channel": "webshop",
        "external_id": f"RET-{next_id()}",
        "currency": "EUR",
        "lines": [
            {"sku": "TEE", "quantity": 3, "unit_price": {"amount_minor": 1000, "currency": "EUR"}},
            {"sku": "MUG", "quantity": 1, "unit_price": {"amount_minor": 1250, "currency": "EUR"}},
        ],
        "total": {"amount_minor": 3000 + 1250 + 495, "currency": "EUR"},
        "shipping": {"amount_minor": 495, "currency": "EUR"},
        "discount": None,
        "shipping_address": {"name": "Sam", "city": "Amsterdam", "country": "NL"},
        "payment_method": "pm_card_visa",
        **extra,
    }


async def test_a_return_restocks_where_it_shipped_from_and_refunds_what_was_paid(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"TEE": 10, "MUG": 5})
        with api_client(engine, TOKEN) as api:
            placed = await _post(api, "/orders", _webshop_order())
            assert placed.status_code == 202, placed.text
            order_id = placed.json()["order_id"]
            await engine.wait_for_status(order_id, "SHIPPED")
            await engine.wait_for_live_status(order_id, OrderStatus.SHIPPED)  # the returns window is open
            assert on_hand(engine, "AMS", "TEE") == 7

            too_many = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "TEE", "quantity": 4}]})
            assert too_many.status_code == 422, too_many.text
            assert too_many.json()["detail"]["refusal"] == "too_many"
            never = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "CAP", "quantity": 1}]})
            assert never.status_code == 409, never.text
            assert never.json()["detail"]["refusal"] == "not_shipped"

            first = await _post(
                api,
                f"/orders/{order_id}/returns",
                {"lines": [{"sku": "TEE", "quantity": 2}], "reason": "too small", "received": True},
            )
            assert first.status_code == 201, first.text
            assert first.json()["status"] == "REFUNDED"
            assert first.json()["refund"] == {"amount_minor": 2000, "currency": "EUR"}
            rest = await _post(
                api,
                f"/orders/{order_id}/returns",
                {
                    "lines": [{"sku": "TEE", "quantity": 1}, {"sku": "MUG", "quantity": 1}],
                    "restock": False,
                    "received": True,
                },
            )
            assert rest.status_code == 201, rest.text
            assert rest.json()["refund"]["amount_minor"] == 1000 + 1250
            again = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "MUG", "quantity": 1}]})
            assert again.status_code == 422, again.text  # nothing left to return

            assert on_hand(engine, "AMS", "TEE") == 9  # two back on the shelf; the damaged one not
            assert on_hand(engine, "AMS", "MUG") == 4
            view = await _get(api, f"/orders/{order_id}")
            assert [(r["status"], r["refund"]["amount_minor"]) for r in view["returns"]] == [
                ("REFUNDED", 2000),
                ("REFUNDED", 2250),
            ]
            assert view["payments"][0]["refunded"]["amount_minor"] == 4250
            kinds = [event["kind"] for event in view["events"]]
            assert kinds.count("return_requested") == 2 and kinds.count("refunded") == 2
            assert kinds.count("return_disposed") == 2 and kinds.count("return_resolved") == 2
            assert [(r["state"], r["rma"][-2:]) for r in view["returns"]] == [("RESOLVED", "-1"), ("RESOLVED", "-2")]
            await record_history(engine.client.get_workflow_handle(order_id), "returned_in_two_parts")


async def test_returns_are_refused_before_shipping_and_after_the_window(temporal_client, database):
    async with running_engine(temporal_client, database, return_window=timedelta(seconds=3)) as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"TEE": 10, "MUG": 5})
        with api_client(engine, TOKEN) as api:
            unknown = await _post(api, "/orders/order-webshop-nope/returns", {"lines": [{"sku": "TEE", "quantity": 1}]})
            assert unknown.status_code == 404
            held = await _post(
                api,
                "/orders",
                _webshop_order(
                    lines=[
                        {"sku": "NOT-STOCKED", "quantity": 1, "unit_price": {"amount_minor": 500, "currency": "EUR"}}
                    ],
                    total=None,
                    shipping=None,
                ),
            )
            assert held.status_code == 202, held.text
            held_id = held.json()["order_id"]
            await engine.wait_for_status(held_id, "ON_HOLD")
            early = await _post(api, f"/orders/{held_id}/returns", {"lines": [{"sku": "NOT-STOCKED", "quantity": 1}]})
            assert early.status_code == 409 and early.json()["detail"]["refusal"] == "not_shipped", early.text

            placed = await _post(api, "/orders", _webshop_order())
            order_id = placed.json()["order_id"]
            await engine.wait_for_status(order_id, "COMPLETED", timeout=30)
            late = await _post(api, f"/orders/{order_id}/returns", {"lines": [{"sku": "TEE", "quantity": 1}]})
            assert late.status_code == 409, late.text
            assert late.json()["detail"]["refusal"] == "window_closed"
            bad = await _post(api, f"/orders/{order_id}/returns", {"lines": []})
            assert bad.status_code == 422
