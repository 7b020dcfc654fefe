"""Return rules: what may come back, and refunds that add up to what was paid, to the cent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.money import Money
from domain.order import Order, OrderLine
from domain.returns import ReturnLine, ReturnRefusalKind, ReturnRefused, check_return, refund_for

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def order(discount: int = 0) -> Order:
    lines = (
        OrderLine("TEE", 3, eur(1000), eur(2999)),  # 29.99 for three: 9.99 / 10.00 / 10.00
        OrderLine("MUG", 1, eur(1250), eur(1250)),
        OrderLine("TEE", 1, eur(1000), eur(1000)),
    )
    return Order(
        channel="webshop",
        external_id="R-1",
        currency="EUR",
        lines=lines,
        placed_at=NOW,
        total=eur(2999 + 1250 + 1000 + 495 - discount),
        shipping=eur(495),
        discount=eur(discount) if discount else None,
    )


def check(*lines: tuple[str, int], returned: dict[str, int] | None = None, closes: datetime | None = None) -> dict:
    return check_return(
        [ReturnLine(sku, qty) for sku, qty in lines],
        shipped={"TEE": 4, "MUG": 1},
        returned=returned or {},
        window_closes_at=closes or NOW + timedelta(days=30),
        now=NOW,
    )


def test_a_return_within_the_window_takes_the_units_back():
    assert check(("TEE", 2), ("MUG", 1)) == {"TEE": 2, "MUG": 1}


@pytest.mark.parametrize(
    ("lines", "returned", "closes", "kind"),
    [
        ([("TEE", 5)], None, None, ReturnRefusalKind.TOO_MANY),
        ([("TEE", 2)], {"TEE": 3}, None, ReturnRefusalKind.TOO_MANY),
        ([("CAP", 1)], None, None, ReturnRefusalKind.NOT_SHIPPED),
        ([("TEE", 1)], None, NOW, ReturnRefusalKind.WINDOW_CLOSED),
        ([], None, None, ReturnRefusalKind.INVALID),
        ([("TEE", 0)], None, None, ReturnRefusalKind.INVALID),
        ([("TEE", 1), ("TEE", 1)], None, None, ReturnRefusalKind.INVALID),
    ],
)
def test_refusals_say_why(lines, returned, closes, kind):
    with pytest.raises(ReturnRefused) as refused:
        check(*lines, returned=returned, closes=closes)
    assert refused.value.kind is kind
    assert str(refused.value)


def test_nothing_delivered_yet_is_not_returnable():
    with pytest.raises(ReturnRefused) as refused:
        check_return([ReturnLine("TEE", 1)], shipped={}, returned={}, window_closes_at=None, now=NOW)
    assert refused.value.kind is ReturnRefusalKind.NOT_SHIPPED


def test_refunds_in_parts_add_up_to_the_lines_paid():
    placed = order()
    first = refund_for(placed, {}, {"TEE": 1})
    second = refund_for(placed, {"TEE": 1}, {"TEE": 2, "MUG": 1})
    third = refund_for(placed, {"TEE": 3, "MUG": 1}, {"TEE": 1})
    assert first == eur(999)
    assert first.amount_minor + second.amount_minor + third.amount_minor == 2999 + 1250 + 1000
    assert refund_for(placed, {}, {"TEE": 4, "MUG": 1}) == eur(2999 + 1250 + 1000)


def test_an_order_discount_is_taken_off_pro_rata_and_never_over_refunded():
    placed = order(discount=500)
    parts = [refund_for(placed, {}, {"MUG": 1}), refund_for(placed, {"MUG": 1}, {"TEE": 4})]
    assert sum(part.amount_minor for part in parts) == 2999 + 1250 + 1000 - 500
    assert all(part.amount_minor > 0 for part in parts)
