"""What a bol.com return is handled back as, from what was received and judged here (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.marketplace_returns import MAX_QUANTITY, Handling, HandlingResult, already_handled, handling_for

SKUS = st.sampled_from(["SKU-A", "SKU-B", "SKU-C"])


@st.composite
def receipts(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """A consistent receipt: per SKU, received units of which some sellable, and some short."""
    received, sellable, short = {}, {}, {}
    for sku in draw(st.sets(SKUS, min_size=1)):
        came = draw(st.integers(0, 50))
        received[sku] = came
        sellable[sku] = draw(st.integers(0, came))
        short[sku] = draw(st.integers(0, 5))
    return received, sellable, short


def test_goods_received_and_sellable_are_return_received() -> None:
    handling = handling_for({"SKU-A": 2}, {"SKU-A": 2}, {})
    assert handling == Handling(HandlingResult.RETURN_RECEIVED, 2)
    assert handling.body() == {"handlingResult": "RETURN_RECEIVED", "quantityReturned": 2}


def test_goods_received_but_scrapped_are_still_received() -> None:
    # Scrapped or refurbished here: ours now, not sent back, so not RETURN_DOES_NOT_MEET_CONDITIONS.
    assert handling_for({"SKU-A": 3}, {"SKU-A": 1}, {}) == Handling(HandlingResult.RETURN_RECEIVED, 3)
    assert handling_for({"SKU-A": 1}, {}, {}) == Handling(HandlingResult.RETURN_RECEIVED, 1)


def test_a_short_parcel_reports_only_what_came() -> None:
    assert handling_for({"SKU-A": 1}, {"SKU-A": 1}, {"SKU-A": 2}) == Handling(HandlingResult.RETURN_RECEIVED, 1)


def test_nothing_received_sends_nothing() -> None:
    assert handling_for({}, {}, {"SKU-A": 2}) is None
    assert handling_for({"SKU-A": 0}, {}, {"SKU-A": 1}) is None


@pytest.mark.parametrize(
    ("received", "sellable", "short"),
    [
        ({"SKU-A": -1}, {}, {}),
        ({"SKU-A": 1}, {"SKU-A": 2}, {}),
        ({"SKU-A": 1}, {"SKU-B": 1}, {}),
        ({"SKU-A": 1}, {}, {"SKU-A": -2}),
        ({"SKU-A": True}, {}, {}),
    ],
)
def test_counts_that_cannot_be_are_refused(
    received: dict[str, int], sellable: dict[str, int], short: dict[str, int]
) -> None:
    with pytest.raises(ValueError):
        handling_for(received, sellable, short)


def test_quantity_is_capped_at_what_bol_takes() -> None:
    assert handling_for({"SKU-A": 12_000}, {}, {}) == Handling(HandlingResult.RETURN_RECEIVED, MAX_QUANTITY)


@given(receipts())
def test_handled_as_received_exactly_when_something_came(
    receipt: tuple[dict[str, int], dict[str, int], dict[str, int]],
) -> None:
    received, sellable, short = receipt
    handling = handling_for(received, sellable, short)
    came = sum(received.values())
    if came == 0:
        assert handling is None
    else:
        assert handling is not None
        assert handling.result is HandlingResult.RETURN_RECEIVED
        assert 1 <= handling.quantity <= MAX_QUANTITY
        assert handling.quantity == min(came, MAX_QUANTITY)  # never more than came back, never the short ones


@given(receipts())
def test_sellability_never_changes_what_bol_is_told(
    receipt: tuple[dict[str, int], dict[str, int], dict[str, int]],
) -> None:
    received, sellable, short = receipt
    assert handling_for(received, sellable, short) == handling_for(received, {}, short)


def test_already_handled_reads_the_latest_processing_result() -> None:
    handling = Handling(HandlingResult.RETURN_RECEIVED, 1)
    assert not already_handled([], handling)
    assert not already_handled(None, handling)
    assert already_handled([{"handlingResult": "RETURN_RECEIVED", "quantity": 1}], handling)
    changed = [{"handlingResult": "RETURN_RECEIVED"}, {"handlingResult": "RETURN_DOES_NOT_MEET_CONDITIONS"}]
    assert not already_handled(changed, handling)
