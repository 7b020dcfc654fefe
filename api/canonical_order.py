"""The canonical order (POST /orders, the web shop's and the POS's) read from its raw body into a
domain Order: the route reads the body itself, so that even one that does not validate is kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ValidationError

from api.deps import Caller
from api.errors import from_validation_error
from api.schemas import OrderCreate
from domain.money import Money
from domain.order import CHANNELS, Address, Order, OrderLine
from services.payload_audit import UNKNOWN_CHANNEL


def to_order(body: OrderCreate) -> Order:
    def money(value: Any) -> Money:
        return Money(value.amount_minor, value.currency)

    lines = tuple(
        OrderLine(
            line.sku,
            line.quantity,
            money(line.unit_price),
            money(line.unit_price).times(line.quantity),
            title=line.title,
        )
        for line in body.lines
    )
    shipping = money(body.shipping) if body.shipping else Money.zero(body.currency)
    discount = money(body.discount) if body.discount else None
    draft_total = sum((line.total.amount_minor for line in lines), 0) + shipping.amount_minor
    draft_total -= discount.amount_minor if discount else 0
    return Order(
        channel=body.channel,
        external_id=body.external_id,
        reference=body.reference,
        currency=body.currency,
        lines=lines,
        placed_at=body.placed_at or datetime.now(UTC),
        total=money(body.total) if body.total else Money(draft_total, body.currency),
        shipping=shipping,
        discount=discount,
        shipping_address=Address(**body.shipping_address.model_dump()),
        payment_collected=body.payment_collected,
        customer_email=body.customer_email,
        buyer_company=body.buyer_company.strip(),
        buyer_vat_id=body.buyer_vat_id.strip().upper().replace(" ", ""),
        payment_method=body.payment_method,
        store_credit=money(body.store_credit) if body.store_credit else None,
        pickup_location_id=body.pickup_location_id,
        fulfilled_by=body.fulfilled_by,
    )


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inlined(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
        return {key: _inlined(value, definitions) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    return node


def documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its body itself (so that it can keep even an
    invalid one), with the model's schema inlined: it is not among the app's components."""
    schema = model.model_json_schema()
    body = _inlined(schema, schema.get("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}


def channel_named_in(raw: bytes) -> str:
    """For keeping a body that did not validate: the channel it says it is from, if it says."""
    try:
        named = json.loads(raw).get("channel")
    except (ValueError, AttributeError, RecursionError):
        return UNKNOWN_CHANNEL
    return named if isinstance(named, str) and named in CHANNELS else UNKNOWN_CHANNEL


def parse_order(raw: bytes, caller: Caller) -> OrderCreate:
    try:
        body = OrderCreate.model_validate_json(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, "not a canonical order") from None
    if not caller.may_act_for(body.channel):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"this is the {caller.name}: it may create {caller.channel} orders only, not {body.channel} orders",
        )
    return body
