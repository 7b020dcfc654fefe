"""What the chaos run sells: scarce stock over three warehouses, and a mix of orders racing for it.

Most orders come from the web shop (`POST /orders`, not yet paid: the engine authorizes the card at
intake and captures when the goods leave); a tenth are signed Shopify webhooks (already paid),
each delivered twice as Shopify does when it misses an answer. The mix is drawn from a seed, so a
run can be repeated exactly.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from bench.orders import SHIPPING_PRICE, UNIT_PRICE, shopify_order
from integrations.channels.shopify import sign

SKU_PRICES = {"CHAOS-TEE": 1999, "CHAOS-HOODIE": 4995, "CHAOS-MUG": 1250, "CHAOS-CAP": 1495, "CHAOS-SOCKS": 699}
"""Unit prices in euro cents."""

LOCATIONS = {"AMS": (52.386, 4.836), "UTR": (52.091, 5.122), "EIN": (51.441, 5.470)}
"""The warehouses stock is spread over (latitude, longitude)."""

CUSTOMERS = [
    ("Amsterdam", "1015 DV", 52.373, 4.884),
    ("Utrecht", "3511 AB", 52.091, 5.119),
    ("Rotterdam", "3011 AD", 51.922, 4.479),
    ("Eindhoven", "5611 AB", 51.439, 5.478),
    ("Groningen", "9711 AA", 53.219, 6.566),
    ("Maastricht", "6211 AA", 50.851, 5.690),
]

SHIPPING_MINOR = 495
DISCOUNT_MINOR = 500
STOCK_SHARE = 0.45
"""Stock received of each SKU, as a share of what the orders want of it: most orders cannot all ship."""

VISA, DECLINING_CARD = "pm_card_visa", "pm_card_chargeCustomerFail"
"""Stripe's test payment methods, which localstripe knows: one authorizes, one is declined."""


@dataclass(frozen=True)
class PlannedOrder:
    """One order as the channel sends it, and what the engine must make of it."""

    order_id: str
    channel: str
    kind: str
    """single, multi, bulk (one line of 3-4 units: a split when stock is thin), same-sku (one SKU on
    two lines, the second a free gift), declined (the card is refused), shopify (paid)."""
    lines: tuple[tuple[str, int, int], ...]
    """(sku, quantity, unit price in cents) as sent."""
    total_minor: int
    path: str
    body: bytes
    headers: dict[str, str]
    cancel_after: float | None = None
    """Seconds after it was taken that staff cancel it (`POST /orders/{id}/cancel`), if they do."""

    @property
    def paid_by_channel(self) -> bool:
        return self.channel == "shopify"

    @property
    def declined(self) -> bool:
        return self.kind == "declined"

    def demand(self) -> dict[str, int]:
        wanted: Counter[str] = Counter()
        for sku, quantity, _ in self.lines:
            wanted[sku] += quantity
        return dict(wanted)


def _webshop_order(
    number: int, run: str, kind: str, lines: list[tuple[str, int, int]], rng: random.Random
) -> PlannedOrder:
    city, postcode, latitude, longitude = rng.choice(CUSTOMERS)
    external_id = f"chaos-{run}-{number:05d}"
    lines_total = sum(quantity * price for _, quantity, price in lines)
    discount = DISCOUNT_MINOR if kind != "declined" and rng.random() < 0.1 and lines_total > DISCOUNT_MINOR else 0
    body: dict[str, Any] = {
        "channel": "webshop",
        "external_id": external_id,
        "reference": f"W{number:05d}",
        "currency": "EUR",
        "lines": [
            {
                "sku": sku,
                "quantity": quantity,
                "unit_price": {"amount_minor": price, "currency": "EUR"},
                "title": "free gift" if price == 0 else sku.title(),
            }
            for sku, quantity, price in lines
        ],
        "shipping": {"amount_minor": SHIPPING_MINOR, "currency": "EUR"},
        "shipping_address": {
            "name": f"Customer {number}",
            "line1": f"Keizersgracht {number % 700 + 1}",
            "postcode": postcode,
            "city": city,
            "country": "NL",
            "latitude": latitude,
            "longitude": longitude,
        },
        "customer_email": f"chaos+{number}@example.com",
        "payment_collected": False,
        "payment_method": DECLINING_CARD if kind == "declined" else VISA,
    }
    if discount:
        body["discount"] = {"amount_minor": discount, "currency": "EUR"}
    return PlannedOrder(
        order_id=f"order-webshop-{external_id}",
        channel="webshop",
        kind=kind,
        lines=tuple(lines),
        total_minor=lines_total + SHIPPING_MINOR - discount,
        path="/orders",
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )


def _shopify_order(number: int, sku: str, quantity: int, rng: random.Random) -> PlannedOrder:
    shopify_id = rng.randrange(10**12, 10**13)
    payload = shopify_order(shopify_id, 5000 + number, sku, quantity, datetime.now(UTC))
    body = json.dumps(payload, separators=(",", ":")).encode()
    unit = int(UNIT_PRICE * 100)
    return PlannedOrder(
        order_id=f"order-shopify-{shopify_id}",
        channel="shopify",
        kind="shopify",
        lines=((sku, quantity, unit),),
        total_minor=unit * quantity + int(SHIPPING_PRICE * Decimal(100)),
        path="/webhooks/shopify",
        body=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": "",  # signed in build_orders, once the secret is known
            "X-Shopify-Shop-Domain": "chaos-shop.myshopify.com",
            "X-Shopify-API-Version": "2024-10",
            "X-Shopify-Webhook-Id": secrets.token_hex(16),
        },
    )


CANCEL_SHARE = 0.06
"""Card orders a person cancels a few seconds after they came in: some before anything happened,
some while they wait for stock, some while a parcel is about to leave (refused, 409)."""


def build_orders(count: int, seed: int, shopify_secret: str) -> list[PlannedOrder]:
    """`count` orders of every kind, drawn from `seed` (ids include a tag drawn from it too)."""
    rng = random.Random(seed)
    run = f"{rng.randrange(16**6):06x}"
    skus = list(SKU_PRICES)
    orders: list[PlannedOrder] = []
    for number in range(1, count + 1):
        draw = rng.random()
        if draw < 0.10:
            planned = _shopify_order(number, rng.choice(skus), rng.randint(1, 3), rng)
            planned.headers["X-Shopify-Hmac-Sha256"] = sign(shopify_secret, planned.body)
            orders.append(planned)
            continue
        if draw < 0.13:
            kind, wanted = "declined", [(rng.choice(skus), 1)]
        elif draw < 0.16:
            sku = rng.choice(skus)
            kind, wanted = "same-sku", [(sku, 2), (sku, 1)]
        elif draw < 0.26:
            kind, wanted = "bulk", [(rng.choice(skus), rng.randint(3, 4))]
        elif draw < 0.56:
            kind, wanted = "multi", [(sku, rng.randint(1, 2)) for sku in rng.sample(skus, rng.randint(2, 3))]
        else:
            kind, wanted = "single", [(rng.choice(skus), rng.randint(1, 2))]
        priced = [(sku, quantity, SKU_PRICES[sku]) for sku, quantity in wanted]
        if kind == "same-sku":
            priced[1] = (priced[1][0], 1, 0)  # the free gift: a parcel of it must not be valued at the paid price
        orders.append(_webshop_order(number, run, kind, priced, rng))
    cancelling = random.Random(seed + 2)  # its own draws: the mix above stays what it was
    return [
        replace(order, cancel_after=cancelling.uniform(0.5, 20.0))
        if order.channel == "webshop" and not order.declined and cancelling.random() < CANCEL_SHARE
        else order
        for order in orders
    ]


def plan_stock(orders: Sequence[PlannedOrder], seed: int, share: float = STOCK_SHARE) -> dict[tuple[str, str], int]:
    """(location, sku) → units to receive: `share` of what the orders want of each SKU, spread
    unevenly over the warehouses (one may have none), so orders split and race for the last units."""
    rng = random.Random(seed + 1)
    wanted: Counter[str] = Counter()
    for order in orders:
        wanted.update(order.demand())
    stock: dict[tuple[str, str], int] = {}
    for sku in SKU_PRICES:
        units = max(1, round(wanted[sku] * share))
        weights = [rng.choice((0, 1, 2, 3)) for _ in LOCATIONS]
        if not any(weights):
            weights[0] = 1
        left = units
        for index, (location, weight) in enumerate(zip(LOCATIONS, weights, strict=True)):
            take = left if index == len(LOCATIONS) - 1 else units * weight // sum(weights)
            if take:
                stock[(location, sku)] = take
            left -= take
    return stock


async def seed_stock(api: httpx.AsyncClient, stock: dict[tuple[str, str], int]) -> None:
    """The warehouses and their stock, through the API as an operator sets them up."""
    for priority, (location_id, (latitude, longitude)) in enumerate(LOCATIONS.items()):
        location = {
            "location_id": location_id,
            "name": f"Chaos warehouse {location_id}",
            "kind": "warehouse",
            "country": "NL",
            "latitude": latitude,
            "longitude": longitude,
            "priority": 10 * (priority + 1),
        }
        response = await api.post("/locations", json=location)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"POST /locations answered {response.status_code}: {response.text[:200]}")
    for (location_id, sku), units in sorted(stock.items()):
        adjustment = {"location_id": location_id, "sku": sku, "delta": units, "reason": "chaos run stock"}
        response = await api.post("/inventory/adjustments", json=adjustment)
        if response.status_code != 201:
            raise RuntimeError(f"POST /inventory/adjustments answered {response.status_code}: {response.text[:200]}")


def plan_restock(stock: dict[tuple[str, str], int], share: float) -> dict[tuple[str, str], int]:
    """A late delivery: `share` of each first delivery again (at least one unit), which the
    backordered orders must then get, as far as it goes."""
    return {key: max(1, round(units * share)) for key, units in stock.items()} if share > 0 else {}


async def receive_stock(api: httpx.AsyncClient, restock: dict[tuple[str, str], int]) -> None:
    """Goods in (`POST /inventory/receipts`), each once: a receipt is not repeated on a lost answer."""
    for (location_id, sku), units in sorted(restock.items()):
        receipt = {"location_id": location_id, "sku": sku, "quantity": units, "reason": "chaos run restock"}
        response = await api.post("/inventory/receipts", json=receipt)
        if response.status_code != 201:
            raise RuntimeError(f"POST /inventory/receipts answered {response.status_code}: {response.text[:200]}")


# -- sending them -------------------------------------------------------------------------------


@dataclass
class Intake:
    """What each order's deliveries were answered. A channel redelivers until it gets a 2xx, so
    5xx answers and broken connections are retried; any other answer is final."""

    accepted: set[str] = field(default_factory=set)
    fresh: Counter[str] = field(default_factory=Counter)
    """order id → 2xx answers that said `duplicate: false` (at most one may)."""
    duplicates: Counter[str] = field(default_factory=Counter)
    """order id → 2xx answers that said `duplicate: true`."""
    retried: Counter[str] = field(default_factory=Counter)
    """Why a delivery was tried again: "HTTP 503", "ConnectError", ..."""
    refused: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)
    cancels: dict[str, list[str]] = field(default_factory=dict)
    """order id → the answers its staff cancel got, in order: "202", "409: <why>", "404",
    "ConnectError", "HTTP 503", ... (a 404 or a failure is tried again)."""
    latencies: list[float] = field(default_factory=list)
    first_sent: float = 0.0
    last_answered: float = 0.0
    in_flight: int = 0
    """Deliveries sent and not yet answered."""


STALLED_AFTER = 120.0
"""Seconds without any order accepted after which every sender gives up: the engine is down for
good (or refuses everything), and the report should say so rather than wait for each delivery."""


def _stalled(intake: Intake) -> bool:
    return time.monotonic() - max(intake.last_answered, intake.first_sent) > STALLED_AFTER


async def deliver(api: httpx.AsyncClient, order: PlannedOrder, intake: Intake, *, give_up_after: float) -> None:
    """Send one delivery until it is answered with something other than a 5xx or a broken connection."""
    deadline = time.monotonic() + give_up_after
    pause = 0.2
    while True:
        sent = time.monotonic()
        intake.in_flight += 1
        response: httpx.Response | None = None
        try:
            response = await api.post(order.path, content=order.body, headers=order.headers)
        except httpx.TransportError as exc:
            reason = type(exc).__name__
        finally:
            intake.in_flight -= 1
        if response is not None:
            if response.status_code < 300:
                intake.latencies.append(time.monotonic() - sent)
                intake.last_answered = time.monotonic()
                intake.accepted.add(order.order_id)
                answers = intake.duplicates if response.json().get("duplicate") else intake.fresh
                answers[order.order_id] += 1
                return
            if response.status_code < 500:
                intake.refused.append(f"{order.order_id}: HTTP {response.status_code} {response.text[:160]}")
                return
            reason = f"HTTP {response.status_code}"
        intake.retried[reason] += 1
        if _stalled(intake):
            intake.gave_up.append(f"{order.order_id}: {reason}, and no order accepted for {STALLED_AFTER:.0f} s")
            return
        if time.monotonic() > deadline:
            intake.gave_up.append(f"{order.order_id}: still {reason} after {give_up_after:.0f} s")
            return
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)


CANCEL_WITHIN = 90.0
"""Seconds a staff cancel keeps being tried (an order not yet in the read model answers 404)."""


async def cancel_later(api: httpx.AsyncClient, order: PlannedOrder, intake: Intake) -> None:
    """A person cancels the order `cancel_after` seconds after it was taken, trying again while the
    order is not yet listed (404), the API is away or Temporal does not answer (5xx)."""
    assert order.cancel_after is not None
    await asyncio.sleep(order.cancel_after)
    answers = intake.cancels.setdefault(order.order_id, [])
    deadline = time.monotonic() + CANCEL_WITHIN
    body = {"reason": "chaos run: the customer changed their mind"}
    while time.monotonic() < deadline and not _stalled(intake):
        try:
            response = await api.post(f"/orders/{order.order_id}/cancel", json=body)
        except httpx.TransportError as exc:
            answers.append(type(exc).__name__)
        else:
            if response.status_code == 202:
                answers.append("202")
                return
            if response.status_code == 409:
                answers.append(f"409: {response.json().get('detail', '')}")
                return
            answers.append(f"HTTP {response.status_code}" if response.status_code != 404 else "404")
            if response.status_code < 500 and response.status_code != 404:
                return
        await asyncio.sleep(1.0)


async def send_orders(
    api: httpx.AsyncClient,
    orders: Sequence[PlannedOrder],
    intake: Intake,
    *,
    concurrency: int,
    room: Callable[[], Awaitable[None]],
    give_up_after: float = 300.0,
) -> None:
    """Every order by `concurrency` senders; each Shopify order is delivered again a few dozen orders
    later, and the orders staff cancel are cancelled a few seconds after they were taken. `room` is
    awaited before each new order: it holds intake back while too many orders are still in flight,
    so orders keep arriving through the whole run and every fault meets some."""
    deliveries: list[tuple[PlannedOrder, bool]] = []
    repeats: dict[int, list[PlannedOrder]] = {}
    for index, order in enumerate(orders):
        deliveries.extend((again, True) for again in repeats.pop(index, []))
        deliveries.append((order, False))
        if order.channel == "shopify":
            repeats.setdefault(index + 10 + index % 40, []).append(order)
    deliveries.extend((again, True) for later in repeats.values() for again in later)
    queue = iter(deliveries)
    intake.first_sent = time.monotonic()

    cancels: list[asyncio.Task[None]] = []

    async def sender() -> None:
        for order, repeat in queue:
            if not repeat:
                await room()
            await deliver(api, order, intake, give_up_after=give_up_after)
            if not repeat and order.cancel_after is not None and order.order_id in intake.accepted:
                cancels.append(asyncio.create_task(cancel_later(api, order, intake)))

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    await asyncio.gather(*cancels)
