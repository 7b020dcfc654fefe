"""Shopify's Refund (the `refunds/create` webhook body) mapped to a ChannelRefund: units per SKU,
the money Shopify actually paid back, exact to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.money import MoneyError
from integrations.channels.shopify.refunds import to_refund


def line(sku: str | None, quantity: int, restock_type: str = "return", variant_id: int = 457924702) -> dict[str, Any]:
    return {
        "id": 104689539,
        "line_item_id": 703073504,
        "quantity": quantity,
        "restock_type": restock_type,
        "subtotal": "19.99",
        "line_item": {"id": 703073504, "variant_id": variant_id, "sku": sku, "quantity": 3},
    }


def refund(lines: list[dict[str, Any]], transactions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": 929361463, "order_id": 450789469, "note": " wrong size ", "refund_line_items": lines} | {
        "transactions": transactions
    }


def paid(amount: str, status: str = "success", kind: str = "refund") -> dict[str, Any]:
    return {"id": 1, "kind": kind, "status": status, "amount": amount, "currency": "EUR", "gateway": "shopify_payments"}


def test_units_per_sku_and_the_money_that_went_back() -> None:
    mapped = to_refund(
        refund(
            [line("TEE-M", 1), line("TEE-M", 1, "no_restock"), line("CAP", 2, "cancel"), line("MUG", 0)],
            [paid("19.99"), paid("5.00", status="pending"), paid("1.00", status="failure"), paid("3.00", kind="sale")],
        ),
        "EUR",
    )
    assert dict(mapped.units) == {"TEE-M": 2, "CAP": 2}
    assert mapped.amount.amount_minor == 1999 and mapped.amount.currency == "EUR"
    assert dict(mapped.restock_types) == {"TEE-M": ("no_restock", "return"), "CAP": ("cancel",)}
    assert mapped.describe() == (
        "shopify-refund-929361463: 2 x CAP, 2 x TEE-M, 19.99 EUR refunded on shopify; "
        "restock in shopify: cancel, return (our stock moves when the goods reach us)"
    )
    assert (mapped.refund_id, mapped.order_external_id, mapped.note) == ("929361463", "450789469", "wrong size")
    assert mapped.return_id == "shopify-refund-929361463"


def test_a_line_without_a_sku_is_named_by_its_variant_as_the_order_line_was() -> None:
    mapped = to_refund(refund([line(None, 1, variant_id=42)], []), "EUR")
    assert dict(mapped.units) == {"shopify-variant-42": 1}
    assert mapped.amount.amount_minor == 0


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"id": 0, "order_id": 1}, ValidationError),
        ({"id": 1}, ValidationError),
        ({"id": 1, "order_id": 1, "refund_line_items": [{"quantity": -1}]}, ValidationError),
        ({"id": 1, "order_id": 1, "transactions": [paid("0.001")]}, MoneyError),
        ({"id": 1, "order_id": 1, "transactions": [paid("-1.00")]}, ValidationError),
    ],
)
def test_what_is_not_a_refund_is_refused(body: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        to_refund(body, "EUR")


@given(st.lists(st.tuples(st.integers(0, 10**7), st.sampled_from(["success", "pending", "failure", "error"]))))
def test_the_amount_is_exactly_the_successful_refunds(transactions: list[tuple[int, str]]) -> None:
    body = refund([], [paid(str(Decimal(cents) / 100), status) for cents, status in transactions])
    expected = sum(cents for cents, status in transactions if status == "success")
    assert to_refund(body, "EUR").amount.amount_minor == expected
