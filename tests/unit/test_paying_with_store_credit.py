"""Store credit on an order and the shop a channel's customers hold it at: pure rules."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.channels import DEFAULT_SHOP, channel_policy_from_dict, channel_policy_to_dict
from domain.money import Money
from domain.order import InvalidOrder
from domain.routing import RoutingConfigError
from tests.factories import make_order


def test_every_channel_shares_the_default_shop_until_an_admin_splits_them():
    assert channel_policy_from_dict("pos", {}).shop == DEFAULT_SHOP
    split = channel_policy_from_dict("pos", {"shop": " Store-Utrecht "})
    assert split.shop == "store-utrecht"
    assert channel_policy_from_dict("pos", channel_policy_to_dict(split)) == split


@pytest.mark.parametrize("shop", ["", " ", "two words", "ünï", "x" * 65, 7, None])
def test_a_shop_name_that_is_not_a_name_is_refused(shop):
    with pytest.raises(RoutingConfigError, match="shop"):
        channel_policy_from_dict("webshop", {"shop": shop})


def test_credit_pays_more_than_zero_and_at_most_the_total_in_the_orders_currency():
    order = make_order([("MUG", 1, 1250)], shipping_minor=0)
    for wrong in (Money(0, "EUR"), Money(1251, "EUR"), Money(-5, "EUR")):
        with pytest.raises(InvalidOrder, match="store_credit"):
            dataclasses.replace(order, store_credit=wrong)
    with pytest.raises(InvalidOrder, match="USD"):
        dataclasses.replace(order, store_credit=Money(100, "USD"))


@given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=0, max_value=100))
def test_the_gateway_is_asked_for_exactly_what_credit_did_not_pay(price, credit_share):
    order = make_order([("MUG", 1, price)], shipping_minor=0)
    credit = max(1, price * credit_share // 100)
    paying = dataclasses.replace(order, store_credit=Money(credit, "EUR"))
    assert paying.gateway_total() + Money(credit, "EUR") == order.total
    assert order.gateway_total() == order.total
