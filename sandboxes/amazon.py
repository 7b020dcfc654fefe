"""A local Amazon SP-API: LWA tokens, Orders v0 (getOrders, getOrderItems, confirmShipment) and Listings
Items 2021-08-01 (patchListingsItem), answering in the documented shapes.

Documented behaviour it keeps, so an adapter that ignores it fails here too: `x-amz-access-token` is
checked (403 `Unauthorized` otherwise); getOrders needs `MarketplaceIds` and `LastUpdatedAfter` or
`CreatedAfter`, pages with `NextToken` (a snapshot of the first page's query) and refuses a window ending
later than two minutes ago (the data settles two minutes after an update); confirmShipment needs a known
OrderItemId per line and `carrierName` with carrierCode "Other"; a patch on a listing that does not exist
is a 404, an invalid quantity answers `status: INVALID` with issues. Errors are `{"errors": [...]}`.

Test hooks under `/_sandbox`: seed orders as `{order, items}` (seeding again replaces, so an update is
seeding with a newer LastUpdateDate), seed listings, read shipments, listings and call counts, revoke
tokens, and `fail-next` (the next N calls, optionally only under a path prefix, answer a given status,
headers and body).
"""

from __future__ import annotations

import copy
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

SETTLE = timedelta(minutes=2)
TOKEN_PATH = "/auth/o2/token"  # noqa: S105 - a URL path, not a secret
CLIENT_ID = "amzn1.application-oa2-client.sandbox"
CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - a sandbox credential, never a real one
REFRESH_TOKEN = "Atzr|sandbox-refresh-token"  # noqa: S105 - a sandbox credential, never a real one


@dataclass
class _Failure:
    status: int
    count: int
    headers: dict[str, str]
    body: Any
    prefix: str


@dataclass
class AmazonSandboxState:
    client_id: str
    client_secret: str
    refresh_token: str
    page_size: int
    now: Callable[[], datetime]
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: set[str] = field(default_factory=set)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    order_pages: dict[str, tuple[list[dict[str, Any]], int]] = field(default_factory=dict)
    item_pages: dict[str, tuple[str, int]] = field(default_factory=dict)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    listings: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)
    calls: list[dict[str, str]] = field(default_factory=list)


def _targets(failure: _Failure, path: str) -> bool:
    """A failure hits SP-API calls under its prefix; the LWA token endpoint only when named explicitly."""
    return path.startswith(failure.prefix) and (path != TOKEN_PATH or failure.prefix == TOKEN_PATH)


def _errors(status: int, code: str, message: str, details: str = "") -> JSONResponse:
    return JSONResponse({"errors": [{"code": code, "message": message, "details": details}]}, status_code=status)


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_app(
    page_size: int = 100,
    *,
    client_id: str = CLIENT_ID,
    client_secret: str = CLIENT_SECRET,
    refresh_token: str = REFRESH_TOKEN,
    now: Callable[[], datetime] | None = None,
) -> FastAPI:
    app = FastAPI(title="Amazon SP-API sandbox")
    state = AmazonSandboxState(client_id, client_secret, refresh_token, page_size, now or (lambda: datetime.now(UTC)))
    app.state.amazon = state

    @app.middleware("http")
    async def gate(request: Request, call_next: Callable[[Request], Any]) -> Response:
        path = request.url.path
        if path.startswith("/_sandbox"):
            response: Response = await call_next(request)
            return response
        with state.lock:
            state.calls.append({"method": request.method, "path": path, "query": request.url.query})
            failure = next((f for f in state.failures if _targets(f, path)), None)
            if failure is not None:
                failure.count -= 1
                if failure.count <= 0:
                    state.failures.remove(failure)
        if failure is not None:
            body = failure.body or {"errors": [{"code": "SandboxFailure", "message": f"HTTP {failure.status}"}]}
            return JSONResponse(body, status_code=failure.status, headers=failure.headers)
        if path != TOKEN_PATH and request.headers.get("x-amz-access-token") not in state.tokens:
            return _errors(
                403, "Unauthorized", "Access to requested resource is denied.", "The access token is invalid."
            )
        response = await call_next(request)
        return response

    _lwa_routes(app, state)
    _order_routes(app, state)
    _listing_routes(app, state)
    _sandbox_routes(app, state)
    return app


def _lwa_routes(app: FastAPI, state: AmazonSandboxState) -> None:
    @app.post(TOKEN_PATH)
    async def token(request: Request) -> JSONResponse:
        # LWA takes application/x-www-form-urlencoded (parsed here without python-multipart).
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type", "error_description": "bad grant"}, 400)
        if form.get("client_id") != state.client_id or form.get("client_secret") != state.client_secret:
            return JSONResponse({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        if form.get("refresh_token") != state.refresh_token:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "The request has an invalid grant"}, 400
            )
        access = "Atza|" + secrets.token_urlsafe(24)
        with state.lock:
            state.tokens.add(access)
        return JSONResponse(
            {"access_token": access, "refresh_token": state.refresh_token, "token_type": "bearer", "expires_in": 3600}
        )


def _order_routes(app: FastAPI, state: AmazonSandboxState) -> None:
    @app.get("/orders/v0/orders")
    def get_orders(request: Request) -> JSONResponse:
        query = request.query_params
        marketplaces = [m for m in (query.get("MarketplaceIds") or "").split(",") if m]
        if not marketplaces:
            return _errors(400, "InvalidInput", "Missing required 'MarketplaceIds' parameter")
        with state.lock:
            token = query.get("NextToken")
            if token:
                if token not in state.order_pages:
                    return _errors(400, "InvalidInput", "Invalid NextToken")
                matching, offset = state.order_pages.pop(token)
                window: dict[str, str] = {}
            else:
                found = _matching_orders(state, query, marketplaces)
                if isinstance(found, JSONResponse):
                    return found
                matching, window = found
                offset = 0
            size = min(int(query.get("MaxResultsPerPage") or 100), 100, state.page_size)
            payload: dict[str, Any] = {"Orders": matching[offset : offset + size], **window}
            if offset + size < len(matching):
                next_token = secrets.token_urlsafe(16)
                state.order_pages[next_token] = (matching, offset + size)
                payload["NextToken"] = next_token
        return JSONResponse({"payload": payload})

    @app.get("/orders/v0/orders/{order_id}/orderItems")
    def get_order_items(order_id: str, request: Request) -> JSONResponse:
        with state.lock:
            token = request.query_params.get("NextToken")
            offset = 0
            if token:
                if token not in state.item_pages or state.item_pages[token][0] != order_id:
                    return _errors(400, "InvalidInput", "Invalid NextToken")
                offset = state.item_pages.pop(token)[1]
            stored = state.orders.get(order_id)
            if stored is None:
                return _errors(404, "NotFound", "Invalid AmazonOrderId", order_id)
            items = stored["items"]
            size = state.page_size
            payload: dict[str, Any] = {
                "AmazonOrderId": order_id,
                "OrderItems": copy.deepcopy(items[offset : offset + size]),
            }
            if offset + size < len(items):
                next_token = secrets.token_urlsafe(16)
                state.item_pages[next_token] = (order_id, offset + size)
                payload["NextToken"] = next_token
        return JSONResponse({"payload": payload})

    @app.post("/orders/v0/orders/{order_id}/shipmentConfirmation")
    async def confirm_shipment(order_id: str, request: Request) -> Response:
        body = await request.json()
        with state.lock:
            stored = state.orders.get(order_id)
            if stored is None:
                return _errors(404, "NotFound", "Order not found", order_id)
            problem = _shipment_problem(body, stored)
            if problem:
                return _errors(400, "InvalidInput", problem)
            state.shipments.append({"orderId": order_id, **body})
            # Like Amazon: confirming a shipment is an update of the order.
            stored["order"]["OrderStatus"] = "Shipped"
            stored["order"]["LastUpdateDate"] = _iso(state.now())
        return Response(status_code=204)


def _matching_orders(
    state: AmazonSandboxState, query: Any, marketplaces: list[str]
) -> tuple[list[dict[str, Any]], dict[str, str]] | JSONResponse:
    now = state.now()
    updated_after, created_after = query.get("LastUpdatedAfter"), query.get("CreatedAfter")
    if not updated_after and not created_after:
        return _errors(400, "InvalidInput", "Either 'CreatedAfter' or 'LastUpdatedAfter' must be specified")
    try:
        since = _parse_time(updated_after or created_after)
    except ValueError:
        return _errors(400, "InvalidInput", "Dates must be in ISO 8601 format")
    if since > now - SETTLE:
        return _errors(400, "InvalidInput", "Date must be at least two minutes before the current time")
    field_name = "LastUpdateDate" if updated_after else "PurchaseDate"
    matching = [
        copy.deepcopy(stored["order"])
        for stored in state.orders.values()
        if stored["order"].get("MarketplaceId", marketplaces[0]) in marketplaces
        and _parse_time(stored["order"][field_name]) >= since
    ]
    matching.sort(key=lambda order: (_parse_time(order[field_name]), order["AmazonOrderId"]))
    window = {"LastUpdatedBefore" if updated_after else "CreatedBefore": _iso(now - SETTLE)}
    return matching, window


def _shipment_problem(body: Any, stored: dict[str, Any]) -> str:
    if not isinstance(body, dict) or not body.get("marketplaceId") or not isinstance(body.get("packageDetail"), dict):
        return "marketplaceId and packageDetail are required"
    detail = body["packageDetail"]
    for name in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems"):
        if not detail.get(name):
            return f"packageDetail.{name} is required"
    if not str(detail["packageReferenceId"]).isdigit():
        return "packageReferenceId: only positive numeric values are supported"
    if detail["carrierCode"] == "Other" and not detail.get("carrierName"):
        return "carrierName is required when carrierCode is Other"
    if stored["order"].get("FulfillmentChannel") == "AFN":
        return "the order is fulfilled by Amazon"
    try:
        _parse_time(detail["shipDate"])
    except (TypeError, ValueError):
        return "shipDate must be ISO 8601"
    known = {item["OrderItemId"] for item in stored["items"]}
    for line in detail["orderItems"]:
        if line.get("orderItemId") not in known:
            return f"unknown orderItemId {line.get('orderItemId')}"
        if not isinstance(line.get("quantity"), int) or line["quantity"] < 1:
            return "quantity must be a positive integer"
    return ""


def _listing_routes(app: FastAPI, state: AmazonSandboxState) -> None:
    @app.patch("/listings/2021-08-01/items/{seller_id}/{sku:path}")  # a SKU may hold an encoded "/"
    async def patch_listing(seller_id: str, sku: str, request: Request) -> JSONResponse:
        if not request.query_params.get("marketplaceIds"):
            return _errors(400, "InvalidInput", "Missing required 'marketplaceIds' parameter")
        body = await request.json()
        if not isinstance(body, dict) or not body.get("productType") or not isinstance(body.get("patches"), list):
            return _errors(400, "InvalidInput", "productType and patches are required")
        with state.lock:
            listing = state.listings.get(f"{seller_id}/{sku}")
            if listing is None:
                return _errors(404, "NOT_FOUND", f"SKU '{sku}' not found for seller '{seller_id}'")
            issues = _apply_patches(listing, body["patches"])
            listing["submissions"].append(body)
        status = "INVALID" if issues else "ACCEPTED"
        return JSONResponse({"sku": sku, "status": status, "submissionId": uuid.uuid4().hex, "issues": issues})


def _apply_patches(listing: dict[str, Any], patches: list[Any]) -> list[dict[str, Any]]:
    for patch in patches:
        if not isinstance(patch, dict) or patch.get("op") not in ("add", "replace", "merge", "delete"):
            return [_issue("4000001", "unsupported patch operation")]
        if patch.get("path") != "/attributes/fulfillment_availability":
            continue
        for entry in patch.get("value") or []:
            quantity = entry.get("quantity") if isinstance(entry, dict) else None
            if not isinstance(entry, dict) or not entry.get("fulfillment_channel_code"):
                return [_issue("90220", "fulfillment_channel_code is required")]
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                return [_issue("90244", "quantity must be a whole number of 0 or more")]
            listing["quantity"] = quantity
    return []


def _issue(code: str, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "severity": "ERROR",
        "attributeNames": ["fulfillment_availability"],
        "categories": ["INVALID_ATTRIBUTE"],
    }


def _sandbox_routes(app: FastAPI, state: AmazonSandboxState) -> None:
    @app.post("/_sandbox/orders", status_code=201)
    async def seed_order(request: Request) -> dict[str, str]:
        body = await request.json()
        order_id = body["order"]["AmazonOrderId"]
        with state.lock:
            state.orders[order_id] = {"order": body["order"], "items": body.get("items") or []}
        return {"AmazonOrderId": order_id}

    @app.get("/_sandbox/orders")
    def orders() -> list[dict[str, Any]]:
        with state.lock:
            return copy.deepcopy(list(state.orders.values()))

    @app.get("/_sandbox/shipments")
    def shipments() -> list[dict[str, Any]]:
        with state.lock:
            return copy.deepcopy(state.shipments)

    @app.post("/_sandbox/listings", status_code=201)
    async def seed_listing(request: Request) -> dict[str, Any]:
        body = await request.json()
        key = f"{body['sellerId']}/{body['sku']}"
        with state.lock:
            state.listings[key] = {"quantity": int(body.get("quantity", 0)), "submissions": []}
        return {"sellerId": body["sellerId"], "sku": body["sku"]}

    @app.get("/_sandbox/listings")
    def listings() -> dict[str, Any]:
        with state.lock:
            return copy.deepcopy(state.listings)

    @app.post("/_sandbox/fail-next")
    async def fail_next(request: Request) -> dict[str, int]:
        body = await request.json()
        failure = _Failure(
            status=int(body["status"]),
            count=int(body.get("count", 1)),
            headers={str(k): str(v) for k, v in (body.get("headers") or {}).items()},
            body=body.get("body"),
            prefix=str(body.get("path") or "/"),
        )
        with state.lock:
            state.failures.append(failure)
        return {"status": failure.status, "count": failure.count}

    @app.post("/_sandbox/revoke-tokens")
    def revoke_tokens() -> dict[str, int]:
        with state.lock:
            revoked = len(state.tokens)
            state.tokens.clear()
        return {"revoked": revoked}

    @app.get("/_sandbox/calls")
    def calls() -> list[dict[str, str]]:
        with state.lock:
            return list(state.calls)
