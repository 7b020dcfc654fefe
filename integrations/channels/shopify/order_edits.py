"""Shopify's own order edit, as its `orders/edited` webhook tells it: which line items lost units
(removals) and which gained them (additions), each by its line item id and a delta. The body names
no SKU or price: a removal or an addition to a line we have is priced from that line; a line item
new to us is left to a person (services.order_edits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EDIT_TOPICS = frozenset({"orders/edited"})


class NotAnOrderEdit(ValueError):
    """The signed body is not an `orders/edited` body we can read (the message names the field)."""


@dataclass(frozen=True)
class ShopifyOrderEdit:
    edit_id: str
    order_external_id: str
    removals: dict[str, int]
    """Line item id → units taken off."""
    additions: dict[str, int]
    """Line item id → units added."""
    staff_note: str = ""


def to_order_edit(payload: dict[str, Any]) -> ShopifyOrderEdit:
    edit = payload.get("order_edit")
    if not isinstance(edit, dict):
        raise NotAnOrderEdit("order_edit: expected an object")
    edit_id, order_id = edit.get("id"), edit.get("order_id")
    if not _an_id(edit_id) or not _an_id(order_id):
        raise NotAnOrderEdit("order_edit.id and order_edit.order_id: expected ids")
    items = edit.get("line_items") or {}
    if not isinstance(items, dict):
        raise NotAnOrderEdit("order_edit.line_items: expected an object")
    note = edit.get("staff_note")
    return ShopifyOrderEdit(
        edit_id=str(edit_id),
        order_external_id=str(order_id),
        removals=_deltas(items.get("removals"), "removals"),
        additions=_deltas(items.get("additions"), "additions"),
        staff_note=note if isinstance(note, str) else "",
    )


def _an_id(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and value > 0) or (
        isinstance(value, str) and value.isdigit()
    )


def _deltas(items: object, name: str) -> dict[str, int]:
    if items is None:
        return {}
    if not isinstance(items, list):
        raise NotAnOrderEdit(f"order_edit.line_items.{name}: expected a list")
    deltas: dict[str, int] = {}
    for n, item in enumerate(items):
        delta = item.get("delta") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not _an_id(item.get("id")):
            raise NotAnOrderEdit(f"order_edit.line_items.{name}[{n}].id: expected an id")
        if not isinstance(delta, int) or isinstance(delta, bool) or not 0 < delta <= 1_000_000:
            raise NotAnOrderEdit(f"order_edit.line_items.{name}[{n}].delta: expected a positive whole number")
        deltas[str(item["id"])] = deltas.get(str(item["id"]), 0) + delta
    return deltas
