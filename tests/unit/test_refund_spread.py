"""Spreading a refund over an order's payments (domain.refund_spread): the newest extra payment
first, the order's own last; parts add up to the cent, none exceeds what its payment has left, the
total never exceeds what all of them have left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import Money
from domain.refund_spread import PaymentLeft, RefundPart, refund_order, refundable, spread_refund

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def own(left: int) -> PaymentLeft:
    return PaymentLeft("payment-o", eur(left), T0)


def extra(tag: str, left: int, days: int) -> PaymentLeft:
    return PaymentLeft(f"payment-o-{tag}", eur(left), T0 + timedelta(days=days), extra=True)


def test_the_newest_extra_payment_gives_back_first_and_the_orders_own_last():
    payments = [own(4745), extra("x1", 250, 1), extra("x2", 300, 2)]
    assert [p.payment_id for p in refund_order(payments)] == ["payment-o-x2", "payment-o-x1", "payment-o"]
    assert spread_refund(eur(1000), payments) == [
        RefundPart("payment-o-x2", eur(300)),
        RefundPart("payment-o-x1", eur(250)),
        RefundPart("payment-o", eur(450)),
    ]


def test_a_refund_within_the_newest_payment_touches_nothing_else():
    assert spread_refund(eur(200), [own(4745), extra("x1", 250, 1)]) == [RefundPart("payment-o-x1", eur(200))]


def test_a_payment_with_nothing_left_is_skipped_and_more_than_is_left_is_cut_to_what_is_left():
    payments = [own(100), extra("x1", 0, 1), extra("x2", -5, 2)]
    assert spread_refund(eur(500), payments) == [RefundPart("payment-o", eur(100))]
    assert refundable(payments, "EUR") == eur(100)
    assert spread_refund(eur(0), payments) == []


def test_a_negative_refund_or_another_currency_is_refused():
    with pytest.raises(ValueError):
        spread_refund(eur(-1), [own(100)])
    with pytest.raises(ValueError):
        spread_refund(Money(100, "USD"), [own(100)])


payment_lists = st.lists(
    st.tuples(st.integers(min_value=-1000, max_value=100_000), st.booleans(), st.integers(0, 30)),
    min_size=0,
    max_size=6,
).map(
    lambda rows: [
        PaymentLeft(f"payment-o-{i}", eur(left), T0 + timedelta(days=day), extra=is_extra)
        for i, (left, is_extra, day) in enumerate(rows)
    ]
)


@given(payment_lists, st.integers(min_value=0, max_value=700_000))
def test_parts_add_up_none_exceeds_its_payment_and_the_total_never_exceeds_what_is_left(payments, asked):
    parts = spread_refund(eur(asked), payments)
    left = {p.payment_id: max(0, p.left.amount_minor) for p in payments}
    total = sum(part.amount.amount_minor for part in parts)
    assert total == min(asked, refundable(payments, "EUR").amount_minor)
    assert all(0 < part.amount.amount_minor <= left[part.payment_id] for part in parts)
    assert len({part.payment_id for part in parts}) == len(parts)


@given(payment_lists, st.integers(min_value=0, max_value=700_000))
def test_the_orders_own_payment_gives_only_once_every_extra_payment_is_empty(payments, asked):
    parts = {part.payment_id: part.amount.amount_minor for part in spread_refund(eur(asked), payments)}
    if any(not p.extra and p.payment_id in parts for p in payments):
        assert all(parts.get(p.payment_id, 0) == max(0, p.left.amount_minor) for p in payments if p.extra)
