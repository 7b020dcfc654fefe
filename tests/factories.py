"""Small builders for realistic test data (orders, Shopify payloads, stock)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.money import Money
from domain.order import Address, Order, OrderLine
from integrations.channels import shopify
from persistence.db import SessionFactory
from persistence.guarded_writes import inventory
from persistence.models import Location
from persistence.unit_of_work import UnitOfWork

_ids = itertools.count(int(time.time() * 1000) * 1000)


def next_id() -> int:
    return next(_ids)


def make_order(
    lines: Sequence[tuple[str, int, int]],
    *,
    channel: str = "webshop",
    external_id: str | None = None,
    paid: bool = True,
    payment_method: str = "",
    shipping_minor: int = 495,
    pickup_location_id: str | None = None,
) -> Order:
    """lines: (sku, quantity, unit price in cents)."""
    order_lines = tuple(
        OrderLine(sku, qty, Money(price, "EUR"), Money(price * qty, "EUR"), title=f"Item {sku}")
        for sku, qty, price in lines
    )
    total = sum(qty * price for _, qty, price in lines) + shipping_minor
    return Order(
        channel=channel,
        external_id=external_id or str(next_id()),
        currency="EUR",
        lines=order_lines,
        placed_at=datetime.now(UTC),
        total=Money(total, "EUR"),
        shipping=Money(shipping_minor, "EUR"),
        reference="#T1",
        shipping_address=Address(
            name="Sam Tester", line1="Damrak 1", postcode="1012 LG", city="Amsterdam", country="NL"
        ),
        payment_collected=paid,
        payment_method=payment_method,
        customer_email="sam@example.org",
        pickup_location_id=pickup_location_id,
    )


def shopify_payload(
    lines: Sequence[tuple[str, int, str]],
    *,
    order_id: int | None = None,
    financial_status: str = "paid",
    shipping: str = "4.95",
) -> dict[str, Any]:
    """A Shopify REST orders/create body; lines: (sku, quantity, price string). Prices include tax."""
    oid = order_id or next_id()
    subtotal = sum((Decimal(price) * qty for _, qty, price in lines), Decimal(0))
    total = subtotal + Decimal(shipping)
    return {
        "id": oid,
        "admin_graphql_api_id": f"gid://shopify/Order/{oid}",
        "name": f"#{oid % 100000}",
        "order_number": oid % 100000,
        "email": "jan@example.nl",
        "created_at": "2026-11-20T14:03:11+01:00",
        "currency": "EUR",
        "presentment_currency": "EUR",
        "financial_status": financial_status,
        "fulfillment_status": None,
        "taxes_included": True,
        "subtotal_price": f"{subtotal:.2f}",
        "total_price": f"{total:.2f}",
        "total_tax": "0.00",
        "total_discounts": "0.00",
        "line_items": [
            {
                "id": oid * 10 + n,
                "variant_id": 4000 + n,
                "product_id": 3000 + n,
                "sku": sku,
                "title": f"Item {sku}",
                "quantity": qty,
                "price": price,
                "tax_lines": [],
                "discount_allocations": [],
                "requires_shipping": True,
            }
            for n, (sku, qty, price) in enumerate(lines, start=1)
        ],
        "shipping_lines": [
            {
                "id": 1,
                "title": "PostNL",
                "code": "postnl",
                "price": shipping,
                "tax_lines": [],
                "discount_allocations": [],
            }
        ],
        "shipping_address": {
            "first_name": "Jan",
            "last_name": "Jansen",
            "address1": "Damrak 1",
            "zip": "1012 LG",
            "city": "Amsterdam",
            "country": "Netherlands",
            "country_code": "NL",
        },
    }


def signed(payload: dict[str, Any], secret: str = "dev-shopify-secret") -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": shopify.sign(secret, body),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": "test-shop.myshopify.com",
        "X-Shopify-Webhook-Id": f"wh-{next_id()}",
    }


def add_location(
    session_factory: SessionFactory,
    location_id: str,
    *,
    priority: int = 100,
    kind: str = "warehouse",
    latitude: float = 52.37,
    longitude: float = 4.9,
    **extra: Any,
) -> None:
    with UnitOfWork(session_factory) as uow:
        uow.session.add(
            Location(
                location_id=location_id,
                name=f"{location_id} site",
                kind=kind,
                country="NL",
                postcode="1000 AA",
                latitude=latitude,
                longitude=longitude,
                priority=priority,
                **extra,
            )
        )
        uow.commit()


def stock(session_factory: SessionFactory, location_id: str, levels: dict[str, int]) -> None:
    with UnitOfWork(session_factory) as uow:
        for sku, quantity in levels.items():
            inventory.adjust_on_hand(uow.session, location_id, sku, quantity, kind="receipt", reason="test stock")
        uow.commit()
