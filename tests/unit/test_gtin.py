"""GTIN check digits: a mistyped EAN must never map another product's orders to a SKU."""

from __future__ import annotations

import pytest

from domain.gtin import check_digit, gtin_problem

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("code", ["96385074", "036000291452", "4006381333931", "8712345678906", "10614141000415"])
def test_valid_gtins_of_every_length(code: str) -> None:
    assert gtin_problem(code) is None
    assert check_digit(code[:-1]) == int(code[-1])


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("4006381333932", "check digit 2, expected 1"),
        ("96385075", "check digit 5, expected 4"),
        ("4006381339331", "check digit 1, expected 9"),  # two digits swapped
        ("400638133393", "check digit"),  # a digit dropped: now a wrong GTIN-12
        ("1234567", "has 7 digits"),
        ("123456789012345", "has 15 digits"),
        ("", "digits only"),
        ("4006381-33393", "digits only"),
        ("\uff14\uff10\uff10\uff16\uff13\uff18\uff11\uff13\uff13\uff13\uff19\uff13\uff11", "digits only"),  # full-width
    ],
)
def test_invalid_gtins_are_named(code: str, message: str) -> None:
    problem = gtin_problem(code)
    assert problem is not None and message in problem
