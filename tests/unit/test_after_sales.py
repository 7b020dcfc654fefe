"""The after-sales rules: what a return counts, its reason, the tally per SKU and channel, the rate."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.after_sales import ReturnedGoods, return_rate, returned_units, tally_returns, top_reasons
from domain.returns import ReturnReason

SKUS = st.sampled_from(["A", "B", "C"])
GOODS = st.builds(
    ReturnedGoods,
    channel=st.sampled_from(["pos", "bol"]),
    lines=st.dictionaries(SKUS, st.integers(1, 5), min_size=1),
    reason=st.sampled_from(["damaged", "Damaged: a dent", "changed mind", "", "whatever"]),
    short=st.none() | st.dictionaries(SKUS, st.integers(0, 5)),
)


def test_units_that_never_came_are_not_returned():
    goods = ReturnedGoods("pos", {"A": 2, "B": 1}, "damaged", short={"B": 1, "A": 5})
    assert returned_units(goods) == {}
    assert returned_units(ReturnedGoods("pos", {"A": 2, "B": 1}, "x", short={"B": 1})) == {"A": 2}


def test_reasons_count_by_their_head_and_anything_else_is_other():
    by_sku, by_channel = tally_returns(
        [
            ReturnedGoods("pos", {"A": 2}, "Damaged: the handle"),
            ReturnedGoods("pos", {"A": 1}, "damaged"),
            ReturnedGoods("bol", {"A": 1, "B": 3}, "it smells"),
        ]
    )
    assert by_sku["A"].reasons == {"damaged": 3, "other": 1} and by_sku["A"].returns == 3
    assert by_channel["bol"].units == 4 and by_channel["bol"].reasons == {ReturnReason.OTHER.value: 4}


def test_top_reasons_most_first_then_by_name_and_at_most_three():
    assert list(top_reasons({"b": 1, "a": 1, "c": 5, "d": 0, "e": 1})) == ["c", "a", "b"]


def test_rate_is_none_when_nothing_shipped():
    assert return_rate(3, 0) is None and return_rate(1, 8) == 0.125 and return_rate(2, 3) == 0.6667


@given(st.lists(GOODS, max_size=20))
def test_every_unit_returned_is_counted_once_per_sku_and_once_per_channel(goods):
    by_sku, by_channel = tally_returns(goods)
    units = sum(sum(returned_units(g).values()) for g in goods)
    assert sum(t.units for t in by_sku.values()) == units == sum(t.units for t in by_channel.values())
    for tally in [*by_sku.values(), *by_channel.values()]:
        assert sum(tally.reasons.values()) == tally.units
        assert set(tally.reasons) <= {r.value for r in ReturnReason}
    assert sum(t.returns for t in by_channel.values()) == sum(1 for g in goods if returned_units(g))
