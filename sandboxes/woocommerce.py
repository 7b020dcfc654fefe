"""A WooCommerce shop's REST API v3, in memory: the endpoints the adapter uses, as documented.

https://woocommerce.github.io/woocommerce-rest-api-docs/ — products (with `sku` also finding
variations, as the v3 controller does), product variations, orders and order notes, HTTP Basic auth
with a consumer key and secret (or the documented query-string fallback), and WooCommerce's error
shape `{"code", "message", "data": {"status"}}`.

Tests seed and inspect it under `/_sandbox/...`, and can make the next calls fail (429 with
Retry-After, 503) to see the adapter's error mapping.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

API = "/wp-json/wc/v3"
# Well-known sandbox credentials (the sandbox guards no data); tests may pass their own.
SANDBOX_KEY = "ck_sandbox"
SANDBOX_SECRET = "cs_sandbox"  # noqa: S105
ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash")


def wc_error(status: int, code: str, message: str, **data: Any) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "data": {"status": status, **data}}, status_code=status)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()


@dataclass
class _Failure:
    status: int
    retry_after: str | None


@dataclass
class ShopState:
    consumer_key: str
    consumer_secret: str
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    failures: deque[_Failure] = field(default_factory=deque)
    requests: list[str] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def add_product(self, data: dict[str, Any]) -> dict[str, Any]:
        product_id = int(data.get("id") or next(self.ids))
        kind = str(data.get("type", "simple"))
        parent_id = int(data.get("parent_id") or 0)
        quantity = data.get("stock_quantity")
        product = {
            "id": product_id,
            "name": str(data.get("name", f"Product {product_id}")),
            "slug": f"product-{product_id}",
            "type": kind,
            "status": "publish",
            "sku": str(data.get("sku", "")),
            "price": str(data.get("price", "10.00")),
            "regular_price": str(data.get("price", "10.00")),
            "manage_stock": bool(data.get("manage_stock", False)),
            "stock_quantity": quantity,
            "stock_status": data.get("stock_status", "instock"),
            "backorders": "no",
            "parent_id": parent_id,
            "variations": [],
            "date_modified_gmt": _now(),
        }
        self.products[product_id] = product
        if kind == "variation" and parent_id in self.products:
            self.products[parent_id]["variations"].append(product_id)
        return product

    def add_order(self, data: dict[str, Any]) -> dict[str, Any]:
        order_id = int(data.get("id") or next(self.ids))
        order = {"status": "processing", "number": str(order_id), "date_modified_gmt": _now(), **data, "id": order_id}
        self.orders[order_id] = order
        self.notes.setdefault(order_id, [])
        return order


def _credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user, password
    key, secret = request.query_params.get("consumer_key"), request.query_params.get("consumer_secret")
    return (key, secret) if key and secret else None


class _ShopGate(BaseHTTPMiddleware):
    """In front of the API: injected failures first (as a proxy or rate limiter would), then auth."""

    def __init__(self, app: Any, state: ShopState) -> None:
        super().__init__(app)
        self.state = state

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if not request.url.path.startswith(API):
            return await call_next(request)
        # Recorded for tests to see which calls were made; query-string credentials are left out.
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("consumer_key", "consumer_secret")]
        query = "?" + "&".join(f"{k}={v}" for k, v in params) if params else ""
        self.state.requests.append(f"{request.method} {request.url.path[len(API) :]}{query}")
        if self.state.failures:
            failure = self.state.failures.popleft()
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            response = wc_error(failure.status, "sandbox_failure", "injected by the sandbox")
            response.headers.update(headers)
            return response
        credentials = _credentials(request)
        if credentials is None:
            return wc_error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        key, secret = credentials
        if not hmac.compare_digest(key.encode(), self.state.consumer_key.encode()):
            return wc_error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if not hmac.compare_digest(secret.encode(), self.state.consumer_secret.encode()):
            return wc_error(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        return await call_next(request)


async def _json_body(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        body = json.loads(await request.body() or b"{}", parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return wc_error(400, "rest_invalid_json", "Invalid JSON body passed.")
    if not isinstance(body, dict):
        return wc_error(400, "rest_invalid_json", "Invalid JSON body passed.")
    return body


def _apply_stock(product: dict[str, Any], body: dict[str, Any]) -> JSONResponse | None:
    manage, quantity = body.get("manage_stock", product["manage_stock"]), body.get("stock_quantity")
    if not isinstance(manage, bool):
        return wc_error(400, "rest_invalid_param", "Invalid parameter(s): manage_stock", params={"manage_stock": ""})
    if "stock_quantity" in body and (isinstance(quantity, bool) or not isinstance(quantity, int | None)):
        return wc_error(
            400, "rest_invalid_param", "Invalid parameter(s): stock_quantity", params={"stock_quantity": ""}
        )
    product["manage_stock"] = manage
    if "stock_quantity" in body:
        product["stock_quantity"] = quantity
    if manage and isinstance(product["stock_quantity"], int):
        product["stock_status"] = "instock" if product["stock_quantity"] > 0 else "outofstock"
    product["date_modified_gmt"] = _now()
    return None


def _add_api_routes(app: FastAPI, state: ShopState) -> None:
    @app.get(API + "/products")
    async def list_products(request: Request, sku: str = "", per_page: int = 10, page: int = 1) -> Response:
        if sku:
            # Like WooCommerce: split on commas (plus the whole string), compare case-insensitively,
            # and search variations too.
            wanted = {part.lower() for part in [*sku.split(","), sku]}
            found = [p for p in state.products.values() if p["sku"] and p["sku"].lower() in wanted]
        else:
            found = [p for p in state.products.values() if p["type"] != "variation"]
        per_page = max(1, min(per_page, 100))
        chunk = found[(page - 1) * per_page : page * per_page]
        pages = max(1, -(-len(found) // per_page))
        return JSONResponse(chunk, headers={"X-WP-Total": str(len(found)), "X-WP-TotalPages": str(pages)})

    @app.get(API + "/products/{product_id}")
    async def get_product(product_id: int) -> Response:
        product = state.products.get(product_id)
        if product is None:
            return wc_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return JSONResponse(product)

    @app.put(API + "/products/{product_id}")
    async def update_product(product_id: int, request: Request) -> Response:
        product = state.products.get(product_id)
        if product is None:
            return wc_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        if product["type"] == "variation":
            return wc_error(
                404,
                "woocommerce_rest_invalid_product_id",
                "To manipulate product variations you should use the "
                "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
            )
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        return _apply_stock(product, body) or JSONResponse(product)

    @app.get(API + "/products/{product_id}/variations/{variation_id}")
    async def get_variation(product_id: int, variation_id: int) -> Response:
        variation = state.products.get(variation_id)
        if variation is None or variation["type"] != "variation" or variation["parent_id"] != product_id:
            return wc_error(404, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
        return JSONResponse(variation)

    @app.put(API + "/products/{product_id}/variations/{variation_id}")
    async def update_variation(product_id: int, variation_id: int, request: Request) -> Response:
        variation = state.products.get(variation_id)
        if variation is None or variation["type"] != "variation" or variation["parent_id"] != product_id:
            return wc_error(404, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        return _apply_stock(variation, body) or JSONResponse(variation)

    _add_order_routes(app, state)


def _add_order_routes(app: FastAPI, state: ShopState) -> None:
    @app.get(API + "/orders/{order_id}")
    async def get_order(order_id: int) -> Response:
        order = state.orders.get(order_id)
        if order is None:
            return wc_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return JSONResponse(json.loads(json.dumps(order, default=str)))

    @app.put(API + "/orders/{order_id}")
    async def update_order(order_id: int, request: Request) -> Response:
        order = state.orders.get(order_id)
        if order is None:
            return wc_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        if "status" in body:
            if body["status"] not in ORDER_STATUSES:
                return wc_error(400, "rest_invalid_param", "Invalid parameter(s): status", params={"status": ""})
            order["status"] = body["status"]
            if body["status"] == "completed":
                order["date_completed_gmt"] = _now()
        order["date_modified_gmt"] = _now()
        return JSONResponse(json.loads(json.dumps(order, default=str)))

    @app.get(API + "/orders/{order_id}/notes")
    async def list_notes(order_id: int, kind: Annotated[str, Query(alias="type")] = "any") -> Response:
        if order_id not in state.orders:
            return wc_error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
        notes = state.notes[order_id]
        if kind in ("customer", "internal"):
            notes = [n for n in notes if n["customer_note"] == (kind == "customer")]
        return JSONResponse(list(reversed(notes)))  # newest first, as WooCommerce lists them

    @app.post(API + "/orders/{order_id}/notes")
    async def add_note(order_id: int, request: Request) -> Response:
        if order_id not in state.orders:
            return wc_error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        if not isinstance(body.get("note"), str) or not body["note"]:
            return wc_error(400, "rest_missing_callback_param", "Missing parameter(s): note", params=["note"])
        created = _now()
        note = {
            "id": next(state.ids),
            "author": "system",
            "date_created": created,
            "date_created_gmt": created,
            "note": body["note"],
            "customer_note": bool(body.get("customer_note", False)),
        }
        state.notes[order_id].append(note)
        return JSONResponse(note, status_code=201)


def _add_control_routes(app: FastAPI, state: ShopState) -> None:
    @app.post("/_sandbox/products")
    async def seed_products(request: Request) -> Response:
        """A product or a list; a variation is {"type": "variation", "parent_id": <product id>, ...}."""
        body = json.loads(await request.body(), parse_float=Decimal)
        items = body if isinstance(body, list) else [body]
        return JSONResponse([state.add_product(item) for item in items], status_code=201)

    @app.get("/_sandbox/products/{product_id}")
    async def read_product(product_id: int) -> Response:
        product = state.products.get(product_id)
        return JSONResponse(product) if product else JSONResponse({"detail": "no such product"}, status_code=404)

    @app.post("/_sandbox/orders")
    async def seed_order(request: Request) -> Response:
        order = state.add_order(json.loads(await request.body(), parse_float=Decimal))
        return JSONResponse({"id": order["id"]}, status_code=201)

    @app.get("/_sandbox/orders/{order_id}")
    async def read_order(order_id: int) -> Response:
        order = state.orders.get(order_id)
        if order is None:
            return JSONResponse({"detail": "no such order"}, status_code=404)
        return JSONResponse({"id": order_id, "status": order["status"], "notes": state.notes[order_id]})

    @app.post("/_sandbox/fail")
    async def fail_next(request: Request) -> Response:
        """{"status": 429|503|..., "times": n, "retry_after": "7"}: the next n API calls answer that."""
        body = json.loads(await request.body())
        for _ in range(int(body.get("times", 1))):
            retry_after = body.get("retry_after")
            state.failures.append(_Failure(int(body["status"]), str(retry_after) if retry_after is not None else None))
        return JSONResponse({"pending_failures": len(state.failures)})

    @app.get("/_sandbox/requests")
    async def requests_seen() -> Response:
        return JSONResponse(state.requests)

    @app.post("/_sandbox/reset")
    async def reset() -> Response:
        state.products.clear()
        state.orders.clear()
        state.notes.clear()
        state.failures.clear()
        state.requests.clear()
        return JSONResponse({"reset": True})


def create_app(consumer_key: str = SANDBOX_KEY, consumer_secret: str = SANDBOX_SECRET) -> FastAPI:
    """A fresh shop with its own state; the adapter authenticates with these credentials."""
    state = ShopState(consumer_key, consumer_secret)
    app = FastAPI(title="WooCommerce sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.shop = state

    @app.exception_handler(StarletteHTTPException)
    async def _no_route(_: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405):
            return wc_error(404, "rest_no_route", "No route was found matching the URL and request method.")
        return wc_error(exc.status_code, "rest_error", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _bad_param(_: Request, exc: RequestValidationError) -> Response:
        return wc_error(400, "rest_invalid_param", "Invalid parameter(s).")

    @app.exception_handler(ValueError)
    async def _bad_value(_: Request, exc: ValueError) -> Response:  # malformed JSON sent to /_sandbox
        return wc_error(400, "rest_invalid_param", "Invalid parameter(s).")

    _add_api_routes(app, state)
    _add_control_routes(app, state)
    app.add_middleware(_ShopGate, state=state)
    return app
