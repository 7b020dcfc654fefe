"""Goodwill without a return: a reason, an amount above zero, and never more than was captured and
not yet given back, so goodwill and refunds together stay within what was captured (domain.goodwill)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import limits
from domain.goodwill import GoodwillForm, GoodwillRefusalKind, GoodwillRefused, check_goodwill, still_with_us
from domain.money import Money


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def give(amount: Money, reason: str = "parcel arrived late", *, shipped=True, captured=5000, given_back=0):
    return check_goodwill(
        GoodwillForm.REFUND, amount, reason, shipped=shipped, captured=eur(captured), given_back=eur(given_back)
    )


def test_goodwill_within_what_is_still_with_us_is_given_with_its_reason():
    granted = check_goodwill(
        GoodwillForm.STORE_CREDIT,
        eur(1500),
        "  box was crushed ",
        shipped=True,
        captured=eur(5000),
        given_back=eur(3500),
    )
    assert (granted.form, granted.amount, granted.reason) == (GoodwillForm.STORE_CREDIT, eur(1500), "box was crushed")


def test_more_than_was_captured_and_not_given_back_is_refused_with_the_most_that_may_be_given():
    with pytest.raises(GoodwillRefused) as refused:
        give(eur(1501), given_back=3500)
    assert refused.value.kind is GoodwillRefusalKind.TOO_MUCH
    assert refused.value.most == eur(1500)


@pytest.mark.parametrize(
    ("amount", "reason", "shipped", "kind"),
    [
        (eur(0), "late", True, GoodwillRefusalKind.INVALID),
        (eur(-100), "late", True, GoodwillRefusalKind.INVALID),
        (eur(100), "   ", True, GoodwillRefusalKind.INVALID),
        (eur(100), "x" * (limits.LEDGER_REASON + 1), True, GoodwillRefusalKind.INVALID),
        (Money(100, "USD"), "late", True, GoodwillRefusalKind.CURRENCY),
        (eur(100), "late", False, GoodwillRefusalKind.NOT_SHIPPED),
    ],
)
def test_refusals_say_why(amount, reason, shipped, kind):
    with pytest.raises(GoodwillRefused) as refused:
        give(amount, reason, shipped=shipped)
    assert refused.value.kind is kind
    assert str(refused.value)


def test_nothing_is_left_once_more_went_back_than_was_captured():
    assert still_with_us(eur(1000), eur(1200)) == eur(0)


@settings(max_examples=300, deadline=None)
@given(
    captured=st.integers(0, 100_000),
    asks=st.lists(st.tuples(st.sampled_from(["refund", *GoodwillForm]), st.integers(-10, 60_000)), max_size=20),
)
def test_goodwill_and_refunds_never_exceed_what_was_captured(captured, asks):
    given_back = 0
    for what, amount in asks:
        if what == "refund":  # a return's refund, bounded by what is still with us as the workflow does
            given_back += max(0, min(amount, captured - given_back))
            continue
        try:
            granted = check_goodwill(
                GoodwillForm(what),
                eur(amount),
                "sorry",
                shipped=True,
                captured=eur(captured),
                given_back=eur(given_back),
            )
        except GoodwillRefused as refused:
            assert amount < 1 or amount > captured - given_back
            assert refused.kind in (GoodwillRefusalKind.INVALID, GoodwillRefusalKind.TOO_MUCH)
            continue
        assert 1 <= granted.amount.amount_minor <= captured - given_back
        given_back += granted.amount.amount_minor
        assert given_back <= captured
