"""A small known data set for the business reports, with every figure worked out by hand in the
tests that use it: orders in two channels (webshop through our gateway, bol a marketplace that took
the money) and two currencies, shipped over two ISO weeks (2026-W52 and 2026-W53, which spans the
turn of the year and of the month), a return refunded through us, a return the marketplace
refunded, goodwill, open authorizations, store credit, and stock with and without a unit cost.

Hand-computed (see the tests):
- r1 returns A (1000 a unit) and B (550) of o1 and refunds 1500: A's share 1500*1000//1550 = 967,
  B's the rest, 533.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from persistence.models import (
    GoodwillRecord,
    Location,
    OrderLineRecord,
    OrderRecord,
    PaymentRecord,
    Product,
    ReturnRecord,
    StockLevel,
    StoreCreditAccount,
    StoreCreditEntry,
)

FIRST_DAY = datetime(2026, 12, 21, tzinfo=UTC).date()  # Monday of 2026-W52
LAST_DAY = datetime(2027, 1, 3, tzinfo=UTC).date()  # Sunday of 2026-W53


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _order(order_id: str, channel: str, currency: str, total: int, status: str, **times: Any) -> OrderRecord:
    received = times.pop("received", at(2026, 12, 20))
    return OrderRecord(
        order_id=order_id,
        channel=channel,
        external_id=order_id,
        status=status,
        currency=currency,
        total_minor=total,
        placed_at=received,
        received_at=received,
        updated_at=received,
        **times,
    )


def _lines(order_id: str, *lines: tuple[str, int, int]) -> list[OrderLineRecord]:
    return [
        OrderLineRecord(
            order_id=order_id, line_no=n, sku=sku, quantity=qty, unit_price_minor=price, total_minor=qty * price
        )
        for n, (sku, qty, price) in enumerate(lines, start=1)
    ]


def _payment(order_id: str, currency: str, status: str, **amounts: int) -> PaymentRecord:
    return PaymentRecord(
        payment_id=f"payment-{order_id}",
        order_id=order_id,
        provider="fake",
        provider_ref=f"ref-{order_id}",
        status=status,
        currency=currency,
        **amounts,
    )


def seed(session: Any) -> None:
    session.add_all([Location(location_id=loc, name=loc, kind="warehouse", country="NL") for loc in ("AMS", "RTM")])
    session.add_all(
        [
            _order("o1", "webshop", "EUR", 2995, "COMPLETED", shipped_at=at(2026, 12, 22, 10)),
            _order("o2", "webshop", "GBP", 900, "SHIPPED", shipped_at=at(2026, 12, 31, 23, 59, 59)),
            _order("o3", "bol", "EUR", 1500, "SHIPPED", shipped_at=at(2027, 1, 1, 0), payment_collected=True),
            _order("o4", "webshop", "EUR", 4000, "RESERVED"),
            _order("o5", "webshop", "EUR", 1000, "CANCELLED", cancelled_at=at(2026, 12, 22)),
            _order("o6", "webshop", "EUR", 3000, "IN_FULFILMENT"),
            _order("o7", "webshop", "EUR", 700, "COMPLETED", shipped_at=at(2026, 12, 10)),  # before the window
            _order("o8", "webshop", "EUR", 500, "COMPLETED", shipped_at=at(2026, 12, 22)),  # authorized, order done
        ]
    )
    session.flush()
    session.add_all(
        [
            *_lines("o1", ("A", 2, 1000), ("B", 1, 550)),
            *_lines("o2", ("A", 1, 900)),
            *_lines("o3", ("B", 3, 500)),
            *_lines("o4", ("A", 4, 1000)),
            *_lines("o5", ("A", 1, 1000)),
            *_lines("o6", ("C", 3, 1000)),
            *_lines("o7", ("A", 1, 700)),
            *_lines("o8", ("Z", 1, 0)),
            _payment("o1", "EUR", "CAPTURED", authorized_minor=2995),
            _payment("o2", "GBP", "CAPTURED", authorized_minor=900),
            _payment("o4", "EUR", "AUTHORIZED", authorized_minor=4000),
            _payment("o5", "EUR", "VOIDED", authorized_minor=1000),
            _payment("o6", "EUR", "PARTIALLY_CAPTURED", authorized_minor=3000),
            _payment("o7", "EUR", "CAPTURED", authorized_minor=700),
            _payment("o8", "EUR", "AUTHORIZED", authorized_minor=500),
            ReturnRecord(
                return_id="r1",
                order_id="o1",
                status="REFUNDED",
                lines={"A": 1, "B": 1},
                currency="EUR",
                refund_minor=1500,
                created_at=at(2026, 12, 29),
                refunded_at=at(2026, 12, 30),
            ),
            ReturnRecord(
                return_id="r3",
                order_id="o3",
                status="REFUND_ON_CHANNEL",
                lines={"B": 1},
                currency="EUR",
                refund_minor=500,
                created_at=at(2027, 1, 2),
            ),
            ReturnRecord(  # rejected: its goods never came back, it counts nowhere
                return_id="r7",
                order_id="o7",
                status="ACCEPTED",
                state="REJECTED",
                lines={"A": 1},
                currency="EUR",
                refund_minor=0,
                created_at=at(2026, 12, 29),
            ),
            GoodwillRecord(
                goodwill_id="g1",
                order_id="o1",
                form="refund",
                amount_minor=200,
                currency="EUR",
                reason="late",
                given_by="sam@example.org",
                status="REFUNDED",
                created_at=at(2026, 12, 29),
                done_at=at(2026, 12, 29),
            ),
            Product(sku="A", name="A", unit_cost_minor=400, unit_cost_currency="EUR"),
            Product(sku="B", name="B", unit_cost_minor=250, unit_cost_currency="EUR"),
            Product(sku="C", name="C", unit_cost_minor=300, unit_cost_currency="GBP"),
            Product(sku="E", name="E"),  # in the catalogue, no cost
            StockLevel(location_id="AMS", sku="A", on_hand=10, reserved=4),
            StockLevel(location_id="AMS", sku="B", on_hand=4),
            StockLevel(location_id="AMS", sku="D", on_hand=5),  # not in the catalogue at all
            StockLevel(location_id="RTM", sku="A", on_hand=2),
            StockLevel(location_id="RTM", sku="B", on_hand=0),
            StockLevel(location_id="RTM", sku="C", on_hand=3),
            StockLevel(location_id="RTM", sku="E", on_hand=7),
        ]
    )
    session.flush()
    # Each payment's money as it moved, step by step: the dated ledger (payment_movements) takes
    # each change at the payment's updated_at.
    for order_id, when, column, amount in (
        ("o7", at(2026, 12, 10), "captured_minor", 700),
        ("o6", at(2026, 12, 20), "captured_minor", 1000),
        ("o1", at(2026, 12, 22, 10), "captured_minor", 2995),
        ("o5", at(2026, 12, 22), "voided_minor", 1000),
        ("o1", at(2026, 12, 29), "refunded_minor", 200),  # g1
        ("o1", at(2026, 12, 30), "refunded_minor", 1500),  # r1
        ("o2", at(2026, 12, 31, 23, 59, 59), "captured_minor", 900),
    ):
        payment = session.get(PaymentRecord, f"payment-{order_id}")
        setattr(payment, column, getattr(payment, column) + amount)
        payment.updated_at = when
        session.flush()
    account = StoreCreditAccount(shop="webshop", customer_key="k", currency="EUR")
    session.add(account)
    session.flush()
    session.add_all(
        [
            StoreCreditEntry(
                account_id=account.id,
                entry_id="i1",
                kind="issue",
                amount_minor=1000,
                currency="EUR",
                at=at(2026, 12, 23),
            ),
            StoreCreditEntry(
                account_id=account.id,
                entry_id="s1",
                kind="spend",
                amount_minor=300,
                currency="EUR",
                at=at(2026, 12, 29),
            ),
            StoreCreditEntry(
                account_id=account.id,
                entry_id="v1",
                kind="reverse",
                amount_minor=100,
                currency="EUR",
                at=at(2026, 12, 30),
            ),
        ]
    )
    session.commit()
