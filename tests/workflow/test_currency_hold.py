"""An order in a currency we do not sell in is accepted and held, naming the currency; a channel's
own `currencies` narrows the engine-wide list. HTTP → Temporal (real worker) → database."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import add_location, next_id, shopify_payload, signed, stock
from tests.workflow.conftest import Engine, api_client, running_engine

TOKEN = "currency-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


def _order(channel: str, currency: str, minor: int = 1250) -> dict:
    return {
        "channel": channel,
        "external_id": f"C-{next_id()}",
        "currency": currency,
        "lines": [{"sku": "MUG", "quantity": 1, "unit_price": {"amount_minor": minor, "currency": currency}}],
        "payment_collected": True,
    }


async def _call(api: TestClient, method: str, path: str, **kwargs: Any) -> dict:
    # Off the test's event loop: the in-process worker runs on it.
    response = await asyncio.to_thread(api.request, method, path, **kwargs)
    assert response.status_code in (200, 202), response.text
    return response.json()


async def _hold_reason(engine: Engine, api: TestClient, order_id: str, *statuses: str) -> str | None:
    await engine.wait_for_status(order_id, *statuses)
    view = (await asyncio.to_thread(api.get, f"/orders/{order_id}", headers=STAFF)).json()
    return view["hold_reason"]


async def test_an_order_in_a_currency_we_do_not_sell_in_is_held_naming_it(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"MUG": 10})
        with api_client(engine, TOKEN) as api:
            # Yen: a real currency with no minor unit, priced exactly, but not one this shop sells in.
            yen = await _call(api, "POST", "/orders", json=_order("webshop", "JPY", 1800), headers=STAFF)
            reason = await _hold_reason(engine, api, yen["order_id"], "ON_HOLD")
            assert reason == "currency JPY is not sold by this shop (sold: EUR, USD, GBP)"

            # A Shopify order in Moroccan dirham: mapped, accepted, held; never dropped with a 422.
            raw, headers = signed({**shopify_payload([("MUG", 1, "120.50")]), "currency": "MAD"})
            dirham = await asyncio.to_thread(api.post, "/webhooks/shopify", content=raw, headers=headers)
            assert dirham.status_code == 202, dirham.text
            reason = await _hold_reason(engine, api, dirham.json()["order_id"], "ON_HOLD")
            assert reason.startswith("currency MAD is not sold by this shop")

            euro = await _call(api, "POST", "/orders", json=_order("webshop", "EUR"), headers=STAFF)
            assert await _hold_reason(engine, api, euro["order_id"], "RESERVED", "IN_FULFILMENT", "SHIPPED") is None


async def test_a_channel_narrows_the_currencies_it_sells_in(temporal_client, database):
    async with running_engine(temporal_client, database, currencies="EUR,USD") as engine:
        add_location(database.session_factory, "AMS")
        stock(database.session_factory, "AMS", {"MUG": 10})
        with api_client(engine, TOKEN) as api:
            saved = await _call(api, "PUT", "/channels/pos", json={"currencies": ["EUR", "GBP"]}, headers=STAFF)
            assert saved["currencies"] == ["EUR", "GBP"]

            dollars = await _call(api, "POST", "/orders", json=_order("pos", "USD"), headers=STAFF)
            reason = await _hold_reason(engine, api, dollars["order_id"], "ON_HOLD")
            assert reason == "currency USD is not sold on pos (sold: EUR)"
            # GBP is the channel's, but not the engine's: the narrower list wins.
            pounds = await _call(api, "POST", "/orders", json=_order("pos", "GBP"), headers=STAFF)
            assert (await _hold_reason(engine, api, pounds["order_id"], "ON_HOLD")).startswith("currency GBP")

            # The web shop keeps the engine-wide list.
            webshop = await _call(api, "POST", "/orders", json=_order("webshop", "USD"), headers=STAFF)
            statuses = ("RESERVED", "IN_FULFILMENT", "SHIPPED")
            assert await _hold_reason(engine, api, webshop["order_id"], *statuses) is None
            euro = await _call(api, "POST", "/orders", json=_order("pos", "EUR"), headers=STAFF)
            assert await _hold_reason(engine, api, euro["order_id"], *statuses) is None


async def test_every_hold_reason_is_given_together(temporal_client, database):
    async with running_engine(temporal_client, database) as engine:
        with api_client(engine, TOKEN) as api:
            order = _order("webshop", "CHF")
            order["lines"][0]["sku"] = "NO-SUCH-SKU"
            held = await _call(api, "POST", "/orders", json=order, headers=STAFF)
            reason = await _hold_reason(engine, api, held["order_id"], "ON_HOLD")
            assert reason == "currency CHF is not sold by this shop (sold: EUR, USD, GBP); unknown SKU: NO-SUCH-SKU"
