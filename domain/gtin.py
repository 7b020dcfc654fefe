"""GTINs (EAN-8, UPC-A, EAN-13, GTIN-14): the numbers marketplaces name products by.

A mistyped EAN in the catalogue would silently route another product's orders to this SKU (or
none at all), so the check digit is verified before one is stored.
"""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (weights 3, 1, 3, ... from the right)."""
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gtin_problem(code: str) -> str | None:
    """What is wrong with a GTIN, in words; None when it is valid."""
    if not code.isascii() or not code.isdigit():
        return f"GTIN {code!r} must be digits only"
    if len(code) not in GTIN_LENGTHS:
        return f"GTIN {code!r} has {len(code)} digits; a GTIN has 8, 12, 13 or 14"
    expected = check_digit(code[:-1])
    if int(code[-1]) != expected:
        return f"GTIN {code} has check digit {code[-1]}, expected {expected}"
    return None
