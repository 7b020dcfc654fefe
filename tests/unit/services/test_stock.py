"""Stock moves as staff make them: refusals with their numbers and nothing kept, a transfer that
meets a lock cycle tried again, the stock view with what each channel may sell."""

from __future__ import annotations

import pytest

from domain.channels import ChannelPolicy
from persistence.conflicts import LockCycle
from persistence.guarded_writes.inventory import BelowReserved, UnknownLocation
from services.errors import Conflict, NotFound, Unavailable, Unprocessable
from services.stock import TRANSFER_ATTEMPTS, Stock


@pytest.fixture
def stock(units) -> Stock:
    units.store.stock.put("AMS", "MUG", on_hand=10, reserved=4)
    units.store.stock.put("UTR", "MUG", on_hand=6, safety_stock=1)
    return Stock(units)


def test_a_receipt_names_its_reference_in_the_ledger_and_is_committed(stock, units):
    row = stock.receive("AMS", "MUG", 5, kind="receipt", reason="supplier delivery", reference="PO-17")
    assert row.on_hand == 15
    assert units.store.stock.moves == [("AMS", "MUG", 5, "receipt", "supplier delivery (ref PO-17)")]
    assert units.commits == 1


def test_an_adjustment_is_a_receipt_when_it_adds_and_an_adjustment_when_it_removes(stock, units):
    stock.adjust("AMS", "MUG", 2, reason="found")
    stock.adjust("AMS", "MUG", -1, reason="broken")
    assert [move[3] for move in units.store.stock.moves] == ["receipt", "adjustment"]


def test_a_move_below_reserved_is_a_conflict_with_the_numbers_and_nothing_is_committed(stock, units):
    units.store.stock.refusals["change_on_hand"] = [
        BelowReserved(
            "MUG at AMS: removing 8 would leave 2 on hand, below the 4 reserved", on_hand=10, reserved=4, delta=-8
        )
    ]
    with pytest.raises(Conflict) as refused:
        stock.adjust("AMS", "MUG", -8, reason="count")
    assert refused.value.facts == {"on_hand": 10, "reserved": 4, "delta": -8}
    assert "below the 4 reserved" in refused.value.message
    assert units.commits == 0


def test_a_move_at_a_location_we_do_not_know_is_unprocessable(stock, units):
    units.store.stock.refusals["change_on_hand"] = [UnknownLocation("unknown location 'XXX'", location_id="XXX")]
    with pytest.raises(Unprocessable, match="unknown location 'XXX'"):
        stock.receive("XXX", "MUG", 1, kind="receipt", reason="receipt", reference="")
    assert units.commits == 0


def test_a_transfer_that_meets_a_lock_cycle_is_tried_again_with_fresh_stock(stock, units):
    units.store.stock.refusals["transfer"] = [LockCycle("deadlock detected")]
    moved = stock.transfer("AMS", "UTR", "MUG", 3, reason="rebalance")
    assert (moved.source.on_hand, moved.destination.on_hand) == (7, 9)
    assert len(units.opened) == 2 and units.commits == 1


def test_a_transfer_that_keeps_colliding_asks_to_retry_later(stock, units):
    units.store.stock.refusals["transfer"] = [LockCycle("deadlock detected") for _ in range(TRANSFER_ATTEMPTS)]
    with pytest.raises(Unavailable) as busy:
        stock.transfer("AMS", "UTR", "MUG", 3, reason="rebalance")
    assert busy.value.retry_after == 1 and "kept colliding" in busy.value.message
    assert len(units.opened) == TRANSFER_ATTEMPTS and units.commits == 0


def test_safety_stock_above_the_unreserved_units_warns(stock):
    change = stock.set_safety_stock("AMS", "MUG", 7)
    assert (change.row.safety_stock, change.previous) == (7, 0)
    assert change.warning is not None and "more than the 6 unreserved units" in change.warning
    assert stock.set_safety_stock("AMS", "MUG", 2).warning is None


def test_the_stock_view_shows_what_each_channel_may_sell(stock, units):
    units.store.channels.save(ChannelPolicy("bol", sells_from=("UTR",)))
    units.store.channels.save(ChannelPolicy("shopify", safety_stock=2))
    view = stock.view("MUG")
    assert (view.on_hand, view.reserved, view.available) == (16, 4, 11)
    assert view.channels["bol"] == 5 and view.channels["shopify"] == 9 and view.channels["webshop"] == 11
    with pytest.raises(NotFound, match="no location holds a stock record for TEA"):
        stock.view("TEA")


def test_the_overview_refuses_a_location_we_do_not_know(stock):
    with pytest.raises(Unprocessable, match="unknown location 'XXX'"):
        stock.overview(location_id="XXX", sku_prefix=None, below_safety=None, limit=10, offset=0)


def test_the_forecast_adds_every_location_up(stock, units):
    units.store.stock.shipped["MUG"] = {"AMS": 28}
    forecast = stock.forecast("MUG", window_days=28, lead_time_days=7, cover_days=28)
    assert forecast.locations["AMS"].velocity_per_day == 1.0 and forecast.locations["UTR"].shipped_in_window == 0
    assert (forecast.total.on_hand, forecast.total.available, forecast.total.shipped_in_window) == (16, 11, 28)
