"""Which resolution a return may be settled by (domain.return_lifecycle.check_resolution), and how an
exchange's replacement is priced (domain.exchanges.price_replacement)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.exchanges import ExchangeRefusalKind, ExchangeRefused, price_replacement
from domain.money import Money
from domain.order import CHANNELS, Order, OrderLine
from domain.return_lifecycle import (
    MARKETPLACES,
    Resolution,
    ReturnStepRefusalKind,
    ReturnStepRefused,
    check_resolution,
)


@pytest.mark.parametrize("channel", ["webshop", "pos", "shopify", "woocommerce"])
def test_our_own_takings_may_be_settled_as_refund_or_store_credit(channel):
    for resolution in (Resolution.REFUND, Resolution.STORE_CREDIT):
        assert check_resolution(resolution.value, channel=channel, on_channel=False) is resolution


@pytest.mark.parametrize("channel", sorted(MARKETPLACES))
def test_a_marketplace_order_is_never_settled_as_our_credit(channel):
    assert check_resolution("refund", channel=channel, on_channel=False) is Resolution.REFUND
    with pytest.raises(ReturnStepRefused) as refused:
        check_resolution("store_credit", channel=channel, on_channel=False)
    assert refused.value.kind is ReturnStepRefusalKind.INVALID


def test_a_return_the_channel_sent_is_refunded_by_the_channel():
    with pytest.raises(ReturnStepRefused):
        check_resolution("store_credit", channel="shopify", on_channel=True)


@given(st.text(max_size=20).filter(lambda s: s not in {r.value for r in Resolution}), st.sampled_from(sorted(CHANNELS)))
def test_anything_else_is_refused_as_invalid(resolution, channel):
    with pytest.raises(ReturnStepRefused) as refused:
        check_resolution(resolution, channel=channel, on_channel=False)
    assert refused.value.kind is ReturnStepRefusalKind.INVALID


def test_an_exchange_is_ours_to_ship_unless_the_channel_sent_the_return():
    assert check_resolution("exchange", channel="bol", on_channel=False) is Resolution.EXCHANGE
    with pytest.raises(ReturnStepRefused):
        check_resolution("exchange", channel="bol", on_channel=True)


# --- How a replacement is priced (domain.exchanges.price_replacement) -----------------------------

ORDER = Order(
    channel="webshop",
    external_id="X1",
    currency="EUR",
    lines=(
        OrderLine("TEE", 3, Money(999, "EUR"), Money(2997, "EUR")),
        OrderLine("MUG", 1, Money(1250, "EUR"), Money(1250, "EUR")),
    ),
    total=Money(4247, "EUR"),
    placed_at=datetime(2026, 1, 5, tzinfo=UTC),
    shipping=Money(0, "EUR"),
)


def test_a_sku_on_the_order_costs_what_was_paid_for_it_unless_a_price_is_given():
    same, other = price_replacement(ORDER, [("TEE", 2, None), ("CAP", 1, Money(500, "EUR"))])
    assert (same.unit_price, same.total) == (Money(999, "EUR"), Money(1998, "EUR"))
    assert (other.unit_price, other.total) == (Money(500, "EUR"), Money(500, "EUR"))
    quoted = price_replacement(ORDER, [("MUG", 1, Money(1100, "EUR"))])[0]
    assert quoted.total == Money(1100, "EUR")


@pytest.mark.parametrize(
    "lines, kind",
    [
        ([], ExchangeRefusalKind.INVALID),
        ([("CAP", 1, None)], ExchangeRefusalKind.INVALID),
        ([("TEE", 0, None)], ExchangeRefusalKind.INVALID),
        ([("TEE", 1, None), ("TEE", 1, None)], ExchangeRefusalKind.INVALID),
        ([("CAP", 1, Money(500, "USD"))], ExchangeRefusalKind.CURRENCY),
        ([("CAP", 1, Money(-1, "EUR"))], ExchangeRefusalKind.INVALID),
    ],
)
def test_replacements_that_cannot_be_priced_are_refused(lines, kind):
    with pytest.raises(ExchangeRefused) as refused:
        price_replacement(ORDER, lines)
    assert refused.value.kind is kind


@given(
    st.lists(
        st.tuples(st.sampled_from(["TEE", "MUG", "CAP"]), st.integers(1, 50)), max_size=3, unique_by=lambda t: t[0]
    )
)
def test_a_priced_replacement_adds_up_to_unit_price_times_quantity(lines):
    priced = (
        price_replacement(ORDER, [(sku, n, Money(300, "EUR") if sku == "CAP" else None) for sku, n in lines])
        if lines
        else []
    )
    for (sku, n), line in zip(lines, priced, strict=True):
        assert line.sku == sku and line.total.amount_minor == line.unit_price.amount_minor * n
