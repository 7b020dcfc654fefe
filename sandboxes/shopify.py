"""A Shopify shop speaking the GraphQL Admin API operations the adapter uses, in memory.

`POST /admin/api/{version}/graphql.json` recognises five root fields in the query text -
`productVariants`, `inventorySetQuantities`, `order` (with its fulfillments, fulfillment orders and
`cancelledAt`), `fulfillmentCreate` and `orderCancel` - reads arguments from `variables` only, and
answers with the documented
shapes, `userErrors` and `extensions.cost` (it does not evaluate selection sets: it returns every field
the adapter selects, a connection as `nodes` or `edges`, whichever the query names). A wrong or missing
`X-Shopify-Access-Token` gets Shopify's 401.

Control endpoints for tests (not part of Shopify):
- `POST /_sandbox/products` {sku, stocked_at?: [location ids], available?}: a variant with its inventory item.
- `POST /_sandbox/orders?location_id=` a REST order JSON (the webhook payload: `id`, `line_items[{id,
  sku, quantity, fulfillable_quantity?}]`, bare or under "order"): one OPEN fulfillment order for it.
- `GET /_sandbox/orders/{id}/fulfillment-orders`, `GET /_sandbox/inventory`, `GET /_sandbox/fulfillments`,
  `GET /_sandbox/cancellations` (every accepted `orderCancel`, with its arguments),
  `GET /_sandbox/calls` (root fields served, in order).
- `POST /_sandbox/fail-next` {count, status?, retry_after?, graphql_error?, requested_cost?,
  currently_available?, restore_rate?, delay?}: the next calls fail with that HTTP status, or with a
  GraphQL error code (HTTP 200 unless `status` is given; THROTTLED carries the cost extension), or
  answer normally after `delay` seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

SANDBOX_ACCESS_TOKEN = "shpat_sandbox_0123456789abcdef"  # noqa: S105 (the sandbox shop's own token)
SANDBOX_LOCATION_ID = 70000000001
UNAUTHORIZED_MESSAGE = "[API] Invalid API key or access token (unrecognized login or wrong password)"
REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
_ROOT_FIELD = re.compile(r"\{\s*(?:\w+\s*:\s*)?(\w+)")
_SKU_QUERY = re.compile(r'^\s*sku:(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$')
_COST = {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0}
CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})
REFUND_METHOD_SINCE = "2025-07"  # `orderCancel(refundMethod:)` exists from here; `refund` is deprecated


class InvalidVariable(ValueError):
    """A variable GraphQL cannot coerce to its type: a top-level error, as Shopify answers it."""


def gid(resource: str, number: int) -> str:
    return f"gid://shopify/{resource}/{number}"


def number_of(value: Any) -> int | None:
    """The numeric id of a gid or number, None when it is neither."""
    tail = str(value).rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


@dataclass
class Variant:
    id: int
    sku: str
    inventory_item_id: int


@dataclass
class FulfillmentOrderLine:
    id: int
    line_item_id: int
    sku: str
    total: int
    remaining: int


@dataclass
class FulfillmentOrder:
    id: int
    order_id: int
    location_id: int
    status: str
    lines: list[FulfillmentOrderLine]


@dataclass
class Shop:
    access_token: str
    locations: set[int]
    variants: list[Variant] = field(default_factory=list)
    stocked: set[tuple[int, int]] = field(default_factory=set)
    levels: dict[tuple[int, int], int] = field(default_factory=dict)
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    orders: dict[int, list[FulfillmentOrder]] = field(default_factory=dict)
    fulfillments: list[dict[str, Any]] = field(default_factory=list)
    cancelled_at: dict[int, str] = field(default_factory=dict)
    cancellations: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(90000000001))


def create_app(
    *, access_token: str = SANDBOX_ACCESS_TOKEN, location_ids: tuple[int, ...] = (SANDBOX_LOCATION_ID,)
) -> FastAPI:
    shop = Shop(access_token=access_token, locations=set(location_ids))
    app = FastAPI(title="Shopify Admin API sandbox")
    app.state.shop = shop

    @app.post("/admin/api/{version}/graphql.json")
    async def graphql(version: str, request: Request) -> JSONResponse:
        if shop.failures:
            failure = shop.failures.pop(0)
            if failure.get("delay"):
                await asyncio.sleep(float(failure["delay"]))
            else:
                return _failure(failure)
        if request.headers.get("X-Shopify-Access-Token") != shop.access_token:
            return JSONResponse({"errors": UNAUTHORIZED_MESSAGE}, status_code=401)
        try:
            body = json.loads(await request.body())
            query, variables = str(body["query"]), body.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, status_code=400)
        match = _ROOT_FIELD.search(query)
        root = match.group(1) if match else ""
        handler = {
            "productVariants": _product_variants,
            "inventorySetQuantities": _inventory_set_quantities,
            "order": _order,
            "fulfillmentCreate": _fulfillment_create,
            "orderCancel": _order_cancel,
        }.get(root)
        if handler is None:
            error = {
                "message": f"Field '{root}' doesn't exist on type 'QueryRoot'",
                "extensions": {"code": "undefinedField"},
            }
            return JSONResponse({"errors": [error]})
        shop.calls.append(root)
        try:
            data = handler(shop, version, query, variables)
        except InvalidVariable as exc:
            return JSONResponse({"errors": [{"message": str(exc), "extensions": {"code": "INVALID_VARIABLE"}}]})
        cost = {"requestedQueryCost": 10, "actualQueryCost": 10, "throttleStatus": _COST}
        return JSONResponse({"data": {root: data}, "extensions": {"cost": cost}})

    @app.post("/_sandbox/products")
    async def seed_product(request: Request) -> dict[str, Any]:
        body = await request.json()
        variant = Variant(next(shop.ids), str(body["sku"]), next(shop.ids))
        shop.variants.append(variant)
        for location in body.get("stocked_at", sorted(shop.locations)):
            shop.stocked.add((variant.inventory_item_id, int(location)))
            shop.levels[(variant.inventory_item_id, int(location))] = int(body.get("available", 0))
        return {
            "variant_id": gid("ProductVariant", variant.id),
            "inventory_item_id": gid("InventoryItem", variant.inventory_item_id),
        }

    @app.post("/_sandbox/orders")
    async def seed_order(request: Request, location_id: int | None = None) -> dict[str, Any]:
        body = await request.json()
        order = body.get("order", body)
        lines = [
            FulfillmentOrderLine(
                next(shop.ids), int(item["id"]), item.get("sku") or "", int(item["quantity"]), _open(item)
            )
            for item in order["line_items"]
        ]
        fo = FulfillmentOrder(next(shop.ids), int(order["id"]), location_id or min(shop.locations), "OPEN", lines)
        shop.orders[fo.order_id] = [fo]
        return {"order_id": gid("Order", fo.order_id), "fulfillment_orders": [_fo_view(fo)]}

    @app.get("/_sandbox/orders/{order_id}/fulfillment-orders")
    async def read_fulfillment_orders(order_id: int) -> list[dict[str, Any]]:
        return [_fo_view(fo) for fo in shop.orders.get(order_id, [])]

    @app.get("/_sandbox/inventory")
    async def read_inventory() -> dict[str, Any]:
        skus = {v.inventory_item_id: v.sku for v in shop.variants}
        levels = [
            {
                "inventory_item_id": gid("InventoryItem", item),
                "location_id": gid("Location", loc),
                "sku": skus.get(item),
                "available": n,
            }
            for (item, loc), n in sorted(shop.levels.items())
        ]
        return {"levels": levels, "adjustments": shop.adjustments}

    @app.get("/_sandbox/fulfillments")
    async def read_fulfillments() -> list[dict[str, Any]]:
        return shop.fulfillments

    @app.get("/_sandbox/cancellations")
    async def read_cancellations() -> list[dict[str, Any]]:
        return shop.cancellations

    @app.get("/_sandbox/calls")
    async def read_calls() -> list[str]:
        return shop.calls

    @app.post("/_sandbox/fail-next")
    async def fail_next(request: Request) -> dict[str, int]:
        body = await request.json()
        shop.failures.extend(dict(body) for _ in range(int(body.get("count", 1))))
        return {"pending": len(shop.failures)}

    return app


def _open(item: dict[str, Any]) -> int:
    if item.get("fulfillable_quantity") is not None:
        return int(item["fulfillable_quantity"])
    return 0 if item.get("fulfillment_status") == "fulfilled" else int(item["quantity"])


def _failure(failure: dict[str, Any]) -> JSONResponse:
    code = failure.get("graphql_error")
    if code:
        error = {"message": "Throttled" if code == "THROTTLED" else f"Sandbox {code}", "extensions": {"code": code}}
        throttle = {
            "maximumAvailable": 2000.0,
            "currentlyAvailable": failure.get("currently_available", 12),
            "restoreRate": failure.get("restore_rate", 100.0),
        }
        cost = {
            "requestedQueryCost": failure.get("requested_cost", 512),
            "actualQueryCost": None,
            "throttleStatus": throttle,
        }
        return JSONResponse(
            {"errors": [error], "extensions": {"cost": cost}}, status_code=int(failure.get("status", 200))
        )
    status = int(failure.get("status", 503))
    headers = {"Retry-After": str(failure["retry_after"])} if failure.get("retry_after") is not None else {}
    if status == 429:
        message = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
    else:
        message = failure.get("message", "Sandbox failure")
    return JSONResponse({"errors": message}, status_code=status, headers=headers)


def _connection(items: list[dict[str, Any]], query: str) -> dict[str, Any]:
    if "nodes" in query:
        return {"nodes": items}
    return {"edges": [{"node": item} for item in items]}


def _product_variants(shop: Shop, version: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    match = _SKU_QUERY.match(str(variables.get("query", "")))
    wanted = (
        (re.sub(r"\\(.)", r"\1", match.group(1)) if match.group(1) is not None else match.group(2)) if match else None
    )
    found = [v for v in shop.variants if wanted is not None and v.sku.lower() == wanted.lower()]
    nodes = [
        {
            "id": gid("ProductVariant", v.id),
            "sku": v.sku,
            "inventoryItem": {"id": gid("InventoryItem", v.inventory_item_id)},
        }
        for v in found[: int(variables.get("first", 10))]
    ]
    return _connection(nodes, query)


def _set_error(code: str, message: str, *path: str | int) -> dict[str, Any]:
    error = {"code": code or None, "field": ["input", *map(str, path)], "message": message}
    return {"inventoryAdjustmentGroup": None, "userErrors": [error]}


def _inventory_set_quantities(shop: Shop, version: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    request = variables.get("input") or {}
    name = request.get("name")
    if name not in ("available", "on_hand"):
        return _set_error("INVALID_NAME", "The quantity name must be either 'available' or 'on_hand'.", "name")
    if request.get("reason") not in REASONS:
        return _set_error("INVALID_REASON", "The specified reason is invalid.", "reason")
    uri = request.get("referenceDocumentUri")
    if uri is not None and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", str(uri)):
        return _set_error(
            "INVALID_REFERENCE_DOCUMENT", "The specified reference document is invalid.", "referenceDocumentUri"
        )
    needs_change_from = version == "unstable" or version >= "2026-04"
    if needs_change_from and "@idempotent" not in query:
        return _set_error("", "An idempotency key is required for this mutation (@idempotent).")
    changes = []
    for index, line in enumerate(request.get("quantities") or []):
        item, location, quantity = (
            number_of(line.get("inventoryItemId")),
            number_of(line.get("locationId")),
            int(line["quantity"]),
        )
        if location not in shop.locations:
            return _set_error(
                "INVALID_LOCATION", "The specified location could not be found.", "quantities", index, "locationId"
            )
        if item not in {v.inventory_item_id for v in shop.variants}:
            return _set_error(
                "INVALID_INVENTORY_ITEM",
                "The specified inventory item could not be found.",
                "quantities",
                index,
                "inventoryItemId",
            )
        if (item, location) not in shop.stocked:
            return _set_error(
                "ITEM_NOT_STOCKED_AT_LOCATION",
                "The specified inventory item is not stocked at the location.",
                "quantities",
                index,
                "locationId",
            )
        if quantity < 0:
            return _set_error(
                "INVALID_QUANTITY_NEGATIVE", "The quantity can't be negative.", "quantities", index, "quantity"
            )
        current = shop.levels.get((item, location), 0)
        if "changeFromQuantity" in line:
            expected = line["changeFromQuantity"]
        elif needs_change_from:
            return _set_error("", "changeFromQuantity must be given (null to skip the check).", "quantities", index)
        elif request.get("ignoreCompareQuantity"):
            expected = None
        elif "compareQuantity" in line:
            expected = line["compareQuantity"]
        else:
            return _set_error(
                "COMPARE_QUANTITY_REQUIRED",
                "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.",
                "quantities",
                index,
                "compareQuantity",
            )
        if expected is not None and int(expected) != current:
            return _set_error(
                "COMPARE_QUANTITY_STALE",
                "The compareQuantity value does not match persisted value.",
                "quantities",
                index,
            )
        changes.append((item, location, quantity, current))
    group_id = next(shop.ids)
    for item, location, quantity, current in changes:
        shop.levels[(item, location)] = quantity
        shop.adjustments.append(
            {
                "inventory_item_id": gid("InventoryItem", item),
                "location_id": gid("Location", location),
                "name": name,
                "quantity": quantity,
                "delta": quantity - current,
                "reason": request["reason"],
                "reference_document_uri": uri,
            }
        )
    changed = [{"name": name, "delta": q - c, "quantityAfterChange": q} for _, _, q, c in changes if q != c]
    group = {
        "id": gid("InventoryAdjustmentGroup", group_id),
        "createdAt": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "reason": request["reason"],
        "referenceDocumentUri": uri,
        "changes": changed,
    }
    return {"inventoryAdjustmentGroup": group if changed else None, "userErrors": []}


def _fo_view(fo: FulfillmentOrder) -> dict[str, Any]:
    return {
        "id": gid("FulfillmentOrder", fo.id),
        "status": fo.status,
        "location_id": gid("Location", fo.location_id),
        "line_items": [
            {
                "id": gid("FulfillmentOrderLineItem", line.id),
                "line_item_id": line.line_item_id,
                "sku": line.sku,
                "total": line.total,
                "remaining": line.remaining,
            }
            for line in fo.lines
        ],
    }


def _order(shop: Shop, version: str, query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
    order_id = number_of(variables.get("id", ""))
    if order_id is None or order_id not in shop.orders:
        return None
    fulfillment_orders = [
        {
            "id": gid("FulfillmentOrder", fo.id),
            "status": fo.status,
            "assignedLocation": {"location": {"id": gid("Location", fo.location_id)}},
            "lineItems": _connection(
                [
                    {
                        "id": gid("FulfillmentOrderLineItem", line.id),
                        "remainingQuantity": line.remaining,
                        "totalQuantity": line.total,
                        "lineItem": {"id": gid("LineItem", line.line_item_id), "sku": line.sku or None},
                    }
                    for line in fo.lines
                ],
                query,
            ),
        }
        for fo in shop.orders[order_id]
    ]
    fulfillments = [
        {"id": f["id"], "status": f["status"], "location": {"id": f["location_id"]}, "trackingInfo": f["tracking_info"]}
        for f in shop.fulfillments
        if f["order_id"] == gid("Order", order_id)
    ]
    return {
        "id": gid("Order", order_id),
        "cancelledAt": shop.cancelled_at.get(order_id),
        "fulfillments": fulfillments,
        "fulfillmentOrders": _connection(fulfillment_orders, query),
    }


def _create_error(message: str) -> dict[str, Any]:
    return {"fulfillment": None, "userErrors": [{"field": ["fulfillment"], "message": message}]}


def _fulfillment_create(shop: Shop, version: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    request = variables.get("fulfillment") or {}
    groups = request.get("lineItemsByFulfillmentOrder") or []
    groups = [groups] if isinstance(groups, dict) else groups  # GraphQL coerces one input object to a list
    every = {fo.id: fo for fos in shop.orders.values() for fo in fos}
    if not groups:
        return _create_error("Line items by fulfillment order must not be empty.")
    take: list[tuple[FulfillmentOrder, FulfillmentOrderLine, int]] = []
    for group in groups:
        fo = every.get(number_of(group.get("fulfillmentOrderId", "")) or -1)
        if fo is None:
            return _create_error("Fulfillment order does not exist.")
        if fo.status not in ("OPEN", "IN_PROGRESS"):
            return _create_error(
                f"Fulfillment order {gid('FulfillmentOrder', fo.id)} has an unfulfillable status= {fo.status.lower()}."
            )
        wanted = group.get("fulfillmentOrderLineItems") or [
            {"id": gid("FulfillmentOrderLineItem", line.id), "quantity": line.remaining}
            for line in fo.lines
            if line.remaining
        ]
        for item in wanted:
            line = next((line for line in fo.lines if line.id == number_of(item.get("id", ""))), None)
            if line is None:
                return _create_error("Fulfillment order line item does not exist.")
            if not 0 < int(item["quantity"]) <= line.remaining:
                return _create_error("Invalid fulfillment order line item quantity requested.")
            take.append((fo, line, int(item["quantity"])))
    fos = {fo.id: fo for fo, _, _ in take}
    if len({fo.order_id for fo in fos.values()}) > 1 or len({fo.location_id for fo in fos.values()}) > 1:
        return _create_error(
            "All fulfillment orders must belong to the same order and be assigned to the same location."
        )
    if not take:
        return _create_error("There are no line items to fulfill.")
    for _, line, quantity in take:
        line.remaining -= quantity
    for fo in fos.values():
        fo.status = "CLOSED" if all(line.remaining == 0 for line in fo.lines) else "IN_PROGRESS"
    tracking = request.get("trackingInfo") or {}
    first = next(iter(fos.values()))
    fulfillment = {
        "id": gid("Fulfillment", next(shop.ids)),
        "status": "SUCCESS",
        "order_id": gid("Order", first.order_id),
        "location_id": gid("Location", first.location_id),
        "tracking_info": [
            {"company": tracking.get("company"), "number": tracking.get("number"), "url": tracking.get("url")}
        ]
        if tracking
        else [],
        "notify_customer": bool(request.get("notifyCustomer", False)),
        "line_items": [
            {
                "fulfillment_order_id": gid("FulfillmentOrder", fo.id),
                "fulfillment_order_line_item_id": gid("FulfillmentOrderLineItem", line.id),
                "line_item_id": line.line_item_id,
                "sku": line.sku,
                "quantity": quantity,
            }
            for fo, line, quantity in take
        ],
    }
    shop.fulfillments.append(fulfillment)
    public = {
        "id": fulfillment["id"],
        "status": "SUCCESS",
        "trackingInfo": fulfillment["tracking_info"],
        "location": {"id": fulfillment["location_id"]},
    }
    return {"fulfillment": public, "userErrors": []}


def _cancel_error(code: str, field: str, message: str) -> dict[str, Any]:
    error = {"code": code, "field": [field], "message": message}
    return {"job": None, "orderCancelUserErrors": [error], "userErrors": []}


def _order_cancel(shop: Shop, version: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """`orderCancel(orderId, reason, restock, refundMethod | refund, notifyCustomer, staffNote)`: the
    order is cancelled (its open fulfillment orders close) by a job, reported as not done yet."""
    refund_method_exists = version == "unstable" or version >= REFUND_METHOD_SINCE
    reason, restock = variables.get("reason"), variables.get("restock")
    if reason not in CANCEL_REASONS:
        raise InvalidVariable(f"Variable $reason of type OrderCancelReason! was provided invalid value {reason!r}")
    if not isinstance(restock, bool):
        raise InvalidVariable("Variable $restock of type Boolean! was provided invalid value")
    refund, refund_method = variables.get("refund"), variables.get("refundMethod")
    if refund_method is not None and not refund_method_exists:
        raise InvalidVariable(f"Field 'refundMethod' doesn't exist on orderCancel in {version}")
    if refund is not None and not isinstance(refund, bool):
        raise InvalidVariable("Variable $refund of type Boolean was provided invalid value")
    if refund_method is not None and not (
        isinstance(refund_method, dict) and set(refund_method) <= {"originalPaymentMethodsRefund", "storeCreditRefund"}
    ):
        raise InvalidVariable("Variable $refundMethod of type OrderCancelRefundMethodInput was provided invalid value")
    if refund is None and refund_method is None:
        return _cancel_error("INVALID", "refundMethod", "Either refund or refundMethod must be provided.")
    order_id = number_of(variables.get("orderId", ""))
    if order_id is None or order_id not in shop.orders:
        return _cancel_error("NOT_FOUND", "orderId", "Order does not exist.")
    if order_id in shop.cancelled_at:
        return _cancel_error("INVALID", "orderId", "Order has already been cancelled.")
    shop.cancelled_at[order_id] = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    for fo in shop.orders[order_id]:
        if fo.status in ("OPEN", "IN_PROGRESS", "ON_HOLD", "SCHEDULED"):
            fo.status = "CLOSED"
    job = {"id": gid("Job", next(shop.ids)), "done": False}
    shop.cancellations.append(
        {
            "order_id": gid("Order", order_id),
            "reason": reason,
            "restock": restock,
            "refund": refund,
            "refund_method": refund_method,
            "notify_customer": bool(variables.get("notifyCustomer", False)),
            "staff_note": variables.get("staffNote"),
            "job_id": job["id"],
        }
    )
    return {"job": job, "orderCancelUserErrors": [], "userErrors": []}
