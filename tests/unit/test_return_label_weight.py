"""What a return parcel is declared to weigh: its share of the parcel the goods left in, never less."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from activities.return_labels import UNWEIGHED_RETURN_GRAMS, return_weight_grams


def test_the_returned_units_share_of_the_parcel_rounded_up():
    assert return_weight_grams([1500], {"TSHIRT-M": 2, "MUG": 1}, {"TSHIRT-M": 2}) == 1000
    assert return_weight_grams([1000], {"A": 3}, {"A": 1}) == 334
    assert return_weight_grams([700, 800], {"A": 1}, {"A": 1}) == 1500


def test_a_parcel_nobody_weighed_or_units_it_did_not_carry_declare_the_default():
    assert return_weight_grams(None, {"A": 1}, {"A": 1}) == UNWEIGHED_RETURN_GRAMS
    assert return_weight_grams([900], {"A": 1}, {"B": 1}) == UNWEIGHED_RETURN_GRAMS


@given(
    weight=st.integers(min_value=1, max_value=50_000),
    shipped=st.dictionaries(st.sampled_from("ABCD"), st.integers(1, 20), min_size=1),
    returned=st.dictionaries(st.sampled_from("ABCD"), st.integers(1, 30), min_size=1),
)
def test_never_more_than_the_parcel_and_never_under_its_share(weight, shipped, returned):
    grams = return_weight_grams([weight], shipped, returned)
    back = sum(min(q, shipped.get(sku, 0)) for sku, q in returned.items())
    if back == 0:
        assert grams == UNWEIGHED_RETURN_GRAMS
    else:
        assert 1 <= grams <= weight
        assert grams * sum(shipped.values()) >= weight * back
