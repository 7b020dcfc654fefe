"""The VAT inside a price that includes it: net + VAT == gross, and VAT == round(rate x net) whenever a
split allows it, else off by one minor unit (domain.vat)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.vat import (
    DUTCH_RATES,
    RATE_SCALE,
    VatError,
    rate_of,
    reverse_charge_applies,
    round_half_up,
    vat_in_gross,
    vat_on_net,
)

rates = st.sampled_from([2100, 900, 0, 1900, 2000, 2500, 700, 550, 1])
grosses = st.integers(min_value=0, max_value=10**12)


def test_a_dutch_price_of_12_10_holds_2_10_of_vat_at_21_percent():
    assert vat_in_gross(1210, 2100) == 210
    assert vat_in_gross(109, 900) == 9
    assert vat_in_gross(1000, 0) == 0


def test_when_no_split_is_exact_the_vat_is_the_nearest_and_off_by_one_cent_at_most():
    # net + round(0.21 net) goes 2 (net 2) -> 4 (net 3): a gross of 3 cents has no exact split
    assert all(vat_on_net(net, 2100) + net != 3 for net in range(4))
    assert vat_in_gross(3, 2100) == 1  # 3 x 21/121 = 0.52: the nearest
    for gross in range(200):
        vat = vat_in_gross(gross, 2100)
        assert abs(vat_on_net(gross - vat, 2100) - vat) <= 1


def test_rounding_is_commercial_halves_away_from_zero():
    assert round_half_up(5, 10) == 1
    assert round_half_up(4, 10) == 0
    assert round_half_up(-5, 10) == -1
    assert vat_on_net(50, 100) == 1  # 0.5 cent rounds up


def test_an_unknown_category_or_a_nonsense_rate_is_refused():
    with pytest.raises(VatError):
        rate_of("luxury", DUTCH_RATES)
    with pytest.raises(VatError):
        rate_of("standard", {"standard": RATE_SCALE})
    with pytest.raises(VatError):
        vat_in_gross(-1, 2100)


@pytest.mark.parametrize(
    ("seller", "buyer", "vat_id", "applies"),
    [
        ("NL", "DE", "DE123456789", True),
        ("NL", "be", " BE0123456789 ", True),
        ("NL", "NL", "NL123456789B01", False),  # domestic: Dutch VAT
        ("NL", "DE", "", False),  # a consumer
        ("NL", "GB", "GB123456789", False),  # outside the EU: export, not reverse charge
        ("NL", "CH", "CHE123", False),
    ],
)
def test_reverse_charge_is_for_an_eu_business_in_another_member_state(seller, buyer, vat_id, applies):
    assert reverse_charge_applies(seller, buyer, vat_id) is applies


@given(grosses, rates)
def test_the_vat_in_a_gross_never_exceeds_it_and_rounds_within_one_unit(gross, rate):
    vat = vat_in_gross(gross, rate)
    net = gross - vat
    assert 0 <= vat <= gross
    assert abs(vat_on_net(net, rate) - vat) <= 1
    # |VAT - rate x net| < 1 minor unit: within EN 16931's tolerance for the rounded VAT
    assert abs(vat * RATE_SCALE - rate * net) < RATE_SCALE


@given(st.integers(min_value=0, max_value=10**12), rates)
def test_when_a_gross_comes_from_a_net_the_exact_split_is_found(net, rate):
    gross = net + vat_on_net(net, rate)
    vat = vat_in_gross(gross, rate)
    assert vat_on_net(gross - vat, rate) == vat
