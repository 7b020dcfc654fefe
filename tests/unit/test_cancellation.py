"""Which cancels the selling channel hears of, for which lines, and why."""

from __future__ import annotations

from domain.cancellation import (
    BY_DEADLINE,
    BY_PAYMENT,
    BY_PICKUP,
    BY_SOURCING,
    CancelReason,
    ChannelCancellation,
    channel_cancellation,
)

LINES = ("11", "12", "", "11")


def test_our_cancels_go_to_the_channel_for_every_line_with_their_reason():
    out_of_stock = ChannelCancellation(CancelReason.OUT_OF_STOCK, ("11", "12"))
    other = ChannelCancellation(CancelReason.OTHER, ("11", "12"))
    assert channel_cancellation("bol", BY_DEADLINE, LINES) == out_of_stock
    assert channel_cancellation("bol", BY_SOURCING, LINES) == out_of_stock
    for requested_by in (BY_PAYMENT, BY_PICKUP, "anna@shop.example", "api", "", None):
        assert channel_cancellation("bol", requested_by, LINES) == other


def test_the_channels_own_cancel_goes_back_only_as_the_confirmation_it_asked_for():
    assert channel_cancellation("shopify", "shopify", LINES) is None
    assert channel_cancellation("bol", "bol", LINES) is None
    assert channel_cancellation("bol", "bol", LINES, ["12", "12"]) == ChannelCancellation(
        CancelReason.CUSTOMER_REQUEST, ("12",)
    )
    # Another channel's name is not this channel's word.
    assert channel_cancellation("bol", "shopify", LINES) == ChannelCancellation(CancelReason.OTHER, ("11", "12"))
