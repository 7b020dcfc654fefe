"""The edit payloads: the flat change the update carries becomes the domain's change (or a clear
refusal), and Shopify's orders/edited body is read by line item id and delta."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.order_edits import EditChange, to_domain
from domain.money import Money
from domain.order import Address
from domain.order_edits import (
    AddLine,
    CancelLines,
    ChangeAddress,
    EditRefusalKind,
    EditRefused,
    LineQuantity,
    ReduceLine,
    RemoveLine,
)
from integrations.channels.shopify import NotAnOrderEdit, to_order_edit


def test_each_kind_becomes_its_domain_change():
    price = Money(1500, "EUR")
    address = Address(line1="Damrak 1", city="Amsterdam", country="NL")
    assert to_domain(EditChange("remove_line", line=2)) == RemoveLine(2)
    assert to_domain(EditChange("reduce_line", line=0, quantity=3)) == ReduceLine(0, 3)
    assert to_domain(EditChange("cancel_lines", line=1, quantity=1)) == CancelLines((LineQuantity(1, 1),))
    assert to_domain(EditChange("add_line", sku="CAP", quantity=2, unit_price=price)) == AddLine("CAP", 2, price)
    assert to_domain(EditChange("change_address", address=address)) == ChangeAddress(address)


@pytest.mark.parametrize(
    "change",
    [
        EditChange("explode"),
        EditChange("remove_line"),
        EditChange("reduce_line", line=0),
        EditChange("add_line", sku="CAP", quantity=1),
        EditChange("change_address"),
    ],
)
def test_what_is_missing_is_named_and_invalid(change):
    with pytest.raises(EditRefused) as refused:
        to_domain(change)
    assert refused.value.kind is EditRefusalKind.INVALID and str(refused.value)


def _edit(**line_items):
    return {"order_edit": {"id": 5, "order_id": 450789469, "staff_note": "phoned", "line_items": line_items}}


def test_a_shopify_order_edit_is_read_by_line_item_and_delta():
    edit = to_order_edit(
        _edit(additions=[{"id": 11, "delta": 2}], removals=[{"id": 12, "delta": 1}, {"id": 12, "delta": 1}])
    )
    assert (edit.edit_id, edit.order_external_id, edit.staff_note) == ("5", "450789469", "phoned")
    assert edit.additions == {"11": 2} and edit.removals == {"12": 2}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"order_edit": []},
        {"order_edit": {"id": 5}},
        _edit(removals={"id": 1}),
        _edit(removals=[{"id": 1, "delta": 0}]),
        _edit(additions=[{"id": "x", "delta": 1}]),
        _edit(additions=[{"id": 1, "delta": True}]),
    ],
)
def test_a_body_that_is_not_an_order_edit_is_refused(body):
    with pytest.raises(NotAnOrderEdit):
        to_order_edit(body)


@given(st.dictionaries(st.integers(1, 10**12), st.integers(1, 1000), max_size=20))
def test_every_delta_is_kept(deltas):
    edit = to_order_edit(_edit(removals=[{"id": item, "delta": delta} for item, delta in deltas.items()]))
    assert edit.removals == {str(item): delta for item, delta in deltas.items()}
