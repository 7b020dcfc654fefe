"""Reorder hints: velocity, days of cover, reorder point and suggested quantity, without I/O."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.replenishment import days_of_cover, order_up_to, reorder_hint, reorder_point, velocity


def test_velocity_is_units_per_day_over_the_window():
    assert velocity(28, 28) == 1
    assert velocity(7, 28) == Fraction(1, 4)
    assert velocity(0, 28) == 0


@pytest.mark.parametrize(("shipped", "window"), [(-1, 28), (5, 0), (5, -3), (1.5, 28), (True, 28)])
def test_velocity_refuses_nonsense(shipped, window):
    with pytest.raises(ValueError):
        velocity(shipped, window)


def test_days_of_cover_divides_what_can_be_sold_by_the_velocity():
    assert days_of_cover(14, Fraction(1, 2)) == 28
    assert days_of_cover(10, Fraction(3)) == Fraction(10, 3)
    assert days_of_cover(-4, Fraction(1)) == 0  # safety stock above the free stock: nothing to sell


def test_days_of_cover_is_none_when_nothing_sells():
    assert days_of_cover(50, Fraction(0)) is None


def test_reorder_point_rounds_the_lead_time_demand_up_and_adds_safety_stock():
    assert reorder_point(Fraction(1, 2), 7, 0) == 4  # 3.5 → 4
    assert reorder_point(Fraction(1, 2), 7, 3) == 7
    assert reorder_point(Fraction(2), 7, 0) == 14
    assert reorder_point(Fraction(0), 7, 5) == 5
    assert reorder_point(Fraction(3, 7), 0, 2) == 2


def test_reorder_point_is_exact_where_floats_are_not():
    # 7 shipped in 3 days over 27 days of lead time is exactly 63; in floats it is 63.00000000000001,
    # which would round up to 64.
    assert (7 / 3) * 27 > 63
    assert reorder_point(velocity(7, 3), 27, 0) == 63


def test_order_up_to_covers_lead_time_and_cover_days():
    assert order_up_to(Fraction(1), 7, 28, 2) == 37
    with pytest.raises(ValueError):
        order_up_to(Fraction(1), 7, 0, 0)


def test_reorder_now_with_a_suggested_quantity():
    # 56 shipped in 28 days: 2/day; lead 7 → 14 + safety 4 = 18; free stock 15 ≤ 18.
    hint = reorder_hint(shipped=56, window_days=28, free_stock=15, safety_stock=4, lead_time_days=7, cover_days=28)
    assert hint.velocity_per_day == 2
    assert hint.reorder_point == 18
    assert hint.reorder_now is True
    # Up to 2 x (7 + 28) + 4 = 74 units of free stock: order 59.
    assert hint.suggested_quantity == 59
    assert hint.days_of_cover == Fraction(11, 2)  # (15 - 4) / 2


def test_no_reorder_above_the_reorder_point():
    hint = reorder_hint(shipped=56, window_days=28, free_stock=19, safety_stock=4, lead_time_days=7, cover_days=28)
    assert hint.reorder_point == 18
    assert (hint.reorder_now, hint.suggested_quantity) == (False, 0)


def test_exactly_at_the_reorder_point_reorders():
    hint = reorder_hint(shipped=28, window_days=28, free_stock=7, safety_stock=0, lead_time_days=7, cover_days=7)
    assert (hint.reorder_point, hint.reorder_now, hint.suggested_quantity) == (7, True, 7)


def test_zero_velocity_has_no_cover_figure_and_only_refills_safety_stock():
    idle = reorder_hint(shipped=0, window_days=28, free_stock=10, safety_stock=0, lead_time_days=7, cover_days=28)
    assert idle.days_of_cover is None
    assert (idle.reorder_point, idle.reorder_now, idle.suggested_quantity) == (0, False, 0)
    empty = reorder_hint(shipped=0, window_days=28, free_stock=0, safety_stock=0, lead_time_days=7, cover_days=28)
    assert (empty.reorder_now, empty.suggested_quantity) == (False, 0)
    short = reorder_hint(shipped=0, window_days=28, free_stock=1, safety_stock=3, lead_time_days=7, cover_days=28)
    assert (short.reorder_point, short.reorder_now, short.suggested_quantity) == (3, True, 2)


def test_summed_available_overrides_the_days_of_cover_base():
    # Two locations: one with 10 sellable, one whose safety stock (5) exceeds its free stock (1).
    hint = reorder_hint(
        shipped=28,
        window_days=28,
        free_stock=11,
        safety_stock=5,
        lead_time_days=7,
        cover_days=28,
        available=10,
    )
    assert hint.days_of_cover == 10


def test_negative_inputs_are_refused():
    with pytest.raises(ValueError):
        reorder_hint(shipped=1, window_days=28, free_stock=-1, safety_stock=0, lead_time_days=7, cover_days=28)
    with pytest.raises(ValueError):
        reorder_hint(shipped=1, window_days=28, free_stock=1, safety_stock=-1, lead_time_days=7, cover_days=28)
    with pytest.raises(ValueError):
        reorder_hint(shipped=1, window_days=28, free_stock=1, safety_stock=0, lead_time_days=-1, cover_days=28)


@given(
    shipped=st.integers(0, 10_000),
    window=st.integers(1, 365),
    free=st.integers(0, 10_000),
    safety=st.integers(0, 500),
    lead=st.integers(0, 365),
    cover=st.integers(1, 365),
)
def test_a_suggested_order_brings_the_stock_above_the_reorder_point(shipped, window, free, safety, lead, cover):
    hint = reorder_hint(
        shipped=shipped, window_days=window, free_stock=free, safety_stock=safety, lead_time_days=lead, cover_days=cover
    )
    assert hint.reorder_now == (hint.suggested_quantity > 0)
    assert hint.suggested_quantity >= 0
    if hint.reorder_now:
        assert free <= hint.reorder_point
        assert free + hint.suggested_quantity >= hint.reorder_point
    else:
        assert hint.suggested_quantity == 0
