"""Which resolution a return may be settled by (domain.return_lifecycle.check_resolution)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.order import CHANNELS
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
