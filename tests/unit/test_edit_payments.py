"""The final capture shared between the order's payment and the payments edits' links brought in."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.edit_payments import capture_shares, extra_rests

amounts = st.integers(min_value=0, max_value=1_000_000)


def test_the_own_payment_takes_what_it_holds_and_the_link_the_rest():
    assert capture_shares(2495 + 1333, 2495, [1333], 0) == (2495, [1333])
    assert capture_shares(2000, 2495, [1333], 0) == (2000, [0])  # the added line never shipped
    assert extra_rests([1333], 0) == [1333]  # ... so the link's payment goes back whole
    assert capture_shares(500, 0, [300, 400], 100) == (0, [200, 300])
    assert extra_rests([300, 400], 500) == [0, 200]


@given(due=amounts, own_left=amounts, extras=st.lists(amounts, max_size=4), taken=amounts)
def test_shares_add_up_and_no_extra_payment_gives_more_than_it_holds(due, own_left, extras, taken):
    taken = min(taken, sum(extras))
    own, shares = capture_shares(due, own_left, extras, taken)
    assert own + sum(shares) == due
    assert all(share >= 0 for share in shares) and len(shares) == len(extras)
    rests_before = extra_rests(extras, taken)
    assert all(share <= rest for share, rest in zip(shares, rests_before, strict=True))
    if due <= own_left + sum(rests_before):  # all of it is held somewhere: the own payment within its hold
        assert own <= own_left
    rests_after = extra_rests(extras, taken + sum(shares))
    assert sum(rests_after) == sum(rests_before) - sum(shares)
