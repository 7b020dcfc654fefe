"""POST /orders/{id}/edits through HTTP → Temporal (real worker) → database, on SQLite and
PostgreSQL: the new version in GET /orders/{id} and on the order page, 404, 409 and 422 with
{message, refusal}, never a 500."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.testclient import TestClient

from domain.status import OrderStatus
from services.intake import start_order
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import api_client, running_engine

TOKEN = "edits-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


async def _post(api: TestClient, path: str, body: Any) -> tuple[int, Any]:
    # Off the test's event loop: the in-process worker runs on it.
    response = await asyncio.to_thread(api.post, path, json=body, headers=STAFF)
    return response.status_code, response.json()


async def test_an_edit_through_the_api_and_its_refusals(temporal_client, database):
    async with running_engine(temporal_client, database, auto_confirm=False) as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"MUG": 5, "TEE": 5})
        order = make_order([("MUG", 2, 1000), ("TEE", 1, 2000)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        await engine.wait_for_live_status(order_id, OrderStatus.IN_FULFILMENT)
        path = f"/orders/{order_id}/edits"
        with api_client(engine, TOKEN) as api:
            status, body = await _post(api, path, {"changes": [{"kind": "reduce_line", "line": 0, "quantity": 1}]})
            assert status == 200, body
            assert (body["version"], body["total"]["amount_minor"], body["void"]["amount_minor"]) == (2, 3495, 1000)

            view = (await asyncio.to_thread(api.get, f"/orders/{order_id}", headers=STAFF)).json()
            assert [(v["number"], v["total"]["amount_minor"]) for v in view["versions"]] == [(1, 4495), (2, 3495)]
            assert view["versions"][1]["changed_by"] and view["versions"][0]["changes"] == ["placed"]
            assert [(line["sku"], line["quantity"]) for line in view["lines"]] == [("MUG", 1), ("TEE", 1)]
            assert view["total"]["amount_minor"] == 3495

            refusals = [
                ({"changes": [{"kind": "remove_line", "line": 9}]}, 422, "invalid"),
                ({"changes": [{"kind": "reduce_line", "line": 0, "quantity": 5}]}, 422, "invalid"),
                (
                    {"changes": [{"kind": "add_line", "sku": "NOPE", "quantity": 1, "unit_price": _eur(100)}]},
                    422,
                    "invalid",
                ),
                ({"changes": [{"kind": "change_address", "address": {"city": "Utrecht"}}]}, 422, "invalid"),
            ]
            for request, expected, refusal in refusals:
                status, body = await _post(api, path, request)
                assert (status, body["detail"]["refusal"]) == (expected, refusal), body
                assert body["detail"]["message"]
            status, body = await _post(api, path, {"changes": []})
            assert status == 422

            # More: a mug fits in the card's hold of 44.95; a tee beyond it is held on the card anew.
            mug = {"kind": "add_line", "sku": "MUG", "quantity": 1, "unit_price": _eur(1000)}
            status, body = await _post(api, path, {"changes": [mug]})
            assert (status, body["total"]["amount_minor"], body["authorized"]) == (200, 4495, None), body
            tee = {"kind": "add_line", "sku": "TEE", "quantity": 1, "unit_price": _eur(2000)}
            status, body = await _post(api, path, {"changes": [tee]})
            assert status == 200, body
            assert (body["version"], body["authorize"]["amount_minor"], body["authorized"]["amount_minor"]) == (
                4,
                2000,
                6495,
            )
            unknown_money = {
                "kind": "add_line",
                "sku": "TEE",
                "quantity": 1,
                "unit_price": {"amount_minor": 1, "currency": "XXX"},
            }
            status, body = await _post(api, path, {"changes": [unknown_money]})
            assert status == 422 and "XXX" in body["detail"]["message"]
            nul = {
                "kind": "change_address",
                "address": {"line1": "Damrak\u0000 1", "city": "Amsterdam", "country": "NL"},
            }
            status, body = await _post(api, path, {"changes": [nul]})
            assert status == 422, body
            status, body = await _post(
                api, "/orders/order-webshop-nope/edits", {"changes": [{"kind": "remove_line", "line": 0}]}
            )
            assert status == 404

            # The order page shows the versions too (signed in as people are).
            signed_in = await asyncio.to_thread(
                api.post, "/dashboard/login", data={"token": TOKEN, "next": "/dashboard"}, follow_redirects=False
            )
            assert signed_in.status_code == 303
            page = await asyncio.to_thread(api.get, f"/dashboard/orders/{order_id}")
            assert page.status_code == 200 and 'id="versions"' in page.text and "MUG: 2 → 1" in page.text


def _eur(minor: int) -> dict[str, Any]:
    return {"amount_minor": minor, "currency": "EUR"}
