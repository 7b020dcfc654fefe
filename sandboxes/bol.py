"""A local Bol.com: the OAuth token endpoint and the Retailer API v10 endpoints the adapter uses.

Shapes follow the v10 spec (https://api.bol.com/retailer/public/redoc/v10/retailer.html): `ReducedOrders`
for the list (newest first, `page_size` per page, `{}` past the last page), the stored `Order` for a
detail, 202 `ProcessStatus` for shipments, cancellations and stock, problem+json for errors. The token endpoint sits
at `/token` (bol's is https://login.bol.com/token, a separate setting). Prices are kept as JSON numbers
as seeded: Python's float repr gives back the same text (12.99 stays 12.99), and the sandbox does no sums.

Test hooks under `/_sandbox`: seed orders (detail JSON), cancel or request cancellation, read shipments,
the retailer's cancellations, stock and the token count, revoke tokens, and make the next N calls fail
with a given status.
"""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

MEDIA_TYPE = "application/vnd.retailer.v10+json"
CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - a sandbox credential, never a real one
PROBLEM_TYPE = "https://api.bol.com/problems"
FULFILMENT_METHODS = ("FBR", "FBB", "ALL")
STATUSES = ("OPEN", "SHIPPED", "ALL")
REASON_CODES = frozenset(
    {
        "OUT_OF_STOCK", "REQUESTED_BY_CUSTOMER", "BAD_CONDITION", "HIGHER_SHIPCOST", "INCORRECT_PRICE",
        "NOT_AVAIL_IN_TIME", "NO_BOL_GUARANTEE", "ORDERED_TWICE", "RETAIN_ITEM", "TECH_ISSUE", "UNFINDABLE_ITEM",
        "OTHER",
    }
)  # fmt: skip


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class _Failure:
    status: int
    count: int
    retry_after: str | None
    path_prefix: str


@dataclass
class _State:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    token_calls: int = 0
    shipments: list[dict[str, Any]] = field(default_factory=list)
    cancellations: list[dict[str, Any]] = field(default_factory=list)
    stock: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def problem(status: int, title: str, detail: str, violations: list[dict[str, str]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_TYPE, "title": title, "status": status, "detail": detail}
    if violations:
        body["violations"] = violations
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def _open_quantity(item: dict[str, Any]) -> int:
    return int(item.get("quantity", 0)) - int(item.get("quantityShipped", 0)) - int(item.get("quantityCancelled", 0))


def _reduced_item(item: dict[str, Any]) -> dict[str, Any]:
    """An `OrderOrderItem` as `ReducedOrderItem` (what the list shows)."""
    return {
        "orderItemId": item["orderItemId"],
        "ean": (item.get("product") or {}).get("ean", ""),
        "fulfilmentMethod": _method(item),
        "fulfilmentStatus": "OPEN" if _open_quantity(item) > 0 else "HANDLED",
        "quantity": item.get("quantity", 0),
        "quantityShipped": item.get("quantityShipped", 0),
        "quantityCancelled": item.get("quantityCancelled", 0),
        "cancellationRequest": bool(item.get("cancellationRequest", False)),
        "latestChangedDateTime": item.get("latestChangedDateTime"),
    }


def _method(item: dict[str, Any]) -> str:
    return str((item.get("fulfilment") or {}).get("method") or "FBR")


def _listed(item: dict[str, Any], method: str, status: str) -> bool:
    if method != "ALL" and _method(item) != method:
        return False
    if status == "OPEN":
        return _open_quantity(item) > 0
    if status == "SHIPPED":
        return int(item.get("quantityShipped", 0)) > 0
    return True


def _process(state: _State, event: str, entity: str, description: str, ok: bool, error: str = "") -> dict[str, Any]:
    process_id = str(len(state.processes) + 1)
    status: dict[str, Any] = {
        "processStatusId": process_id,
        "entityId": entity,
        "eventType": event,
        "description": description,
        "status": "SUCCESS" if ok else "FAILURE",
        "createTimestamp": _now(),
        "links": [{"rel": "self", "href": f"/shared/process-status/{process_id}", "method": "GET"}],
    }
    if error:
        status["errorMessage"] = error
    state.processes[process_id] = status
    # What bol answers at once: accepted, not yet processed.
    return {key: value for key, value in status.items() if key != "errorMessage"} | {"status": "PENDING"}


def create_app(page_size: int = 50, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> FastAPI:
    """A fresh sandbox with its own in-memory state."""
    app = FastAPI(title="bol.com Retailer API sandbox")
    state = _State()
    app.state.bol = state

    @app.middleware("http")
    async def _checks(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if path.startswith("/_sandbox"):
            response: Response = await call_next(request)
            return response
        with state.lock:
            failure = next((f for f in state.failures if path.startswith(f.path_prefix)), None)
            if failure is not None:
                failure.count -= 1
                if failure.count <= 0:
                    state.failures.remove(failure)
        if failure is not None:
            answer = problem(failure.status, "Sandbox failure", "failure injected by /_sandbox/fail-next")
            if failure.retry_after is not None:
                answer.headers["Retry-After"] = failure.retry_after
            return answer
        if path.startswith(("/retailer", "/shared")):
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in state.tokens:
                return problem(401, "Unauthorized", "Access token missing, invalid or expired.")
            if MEDIA_TYPE not in request.headers.get("Accept", ""):
                return problem(406, "Not Acceptable", f"Accept must be {MEDIA_TYPE}.")
            if request.method in ("POST", "PUT") and request.headers.get("Content-Type", "") != MEDIA_TYPE:
                return problem(415, "Unsupported Media Type", f"Content-Type must be {MEDIA_TYPE}.")
        response = await call_next(request)
        return response

    @app.post("/token")
    async def token(request: Request) -> Response:
        with state.lock:
            state.token_calls += 1
        if request.query_params.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        expected = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        if not secrets.compare_digest(request.headers.get("Authorization", ""), f"Basic {expected}"):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        access_token = secrets.token_urlsafe(24)
        with state.lock:
            state.tokens.add(access_token)
        return JSONResponse(
            {"access_token": access_token, "token_type": "Bearer", "expires_in": 299, "scope": "retailer"}
        )

    @app.get("/retailer/orders")
    async def list_orders(request: Request) -> Response:
        query = request.query_params
        method, status, page = (
            query.get("fulfilment-method", "FBR"),
            query.get("status", "OPEN"),
            query.get("page", "1"),
        )
        violations = []
        if method not in FULFILMENT_METHODS:
            violations.append(
                {"name": "fulfilment-method", "reason": f"Request contains invalid value(s): '{method}'."}
            )
        if status not in STATUSES:
            violations.append({"name": "status", "reason": f"Request contains invalid value(s): '{status}'."})
        if not page.isdigit() or int(page) < 1:
            violations.append({"name": "page", "reason": "Must be an integer of at least 1."})
        if violations:
            return problem(400, "Error validating request.", "Bad request", violations)
        with state.lock:
            listed = []
            for order in state.orders.values():
                items = [_reduced_item(i) for i in order["orderItems"] if _listed(i, method, status)]
                if items:
                    listed.append(
                        {
                            "orderId": order["orderId"],
                            "orderPlacedDateTime": order.get("orderPlacedDateTime"),
                            "orderItems": items,
                        }
                    )
        listed.sort(key=lambda o: datetime.fromisoformat(o["orderPlacedDateTime"]), reverse=True)
        start = (int(page) - 1) * page_size
        chunk = listed[start : start + page_size]
        return JSONResponse({"orders": chunk} if chunk else {}, media_type=MEDIA_TYPE)

    @app.get("/retailer/orders/{order_id}")
    async def get_order(order_id: str) -> Response:
        with state.lock:
            order = state.orders.get(order_id)
        if order is None:
            return problem(404, "Not Found", f"Order {order_id} not found.")
        return JSONResponse(order, media_type=MEDIA_TYPE)

    @app.post("/retailer/shipments")
    async def create_shipment(request: Request) -> Response:
        body = await request.json()
        items = body.get("orderItems") if isinstance(body, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= 100:
            return problem(400, "Error validating request.", "Bad request", [{"name": "orderItems", "reason": "1-100"}])
        transport = body.get("transport")
        if transport is not None and not (isinstance(transport, dict) and transport.get("transporterCode")):
            return problem(400, "Error validating request.", "Bad request", [{"name": "transport", "reason": "code"}])
        with state.lock:
            errors = []
            for requested in items:
                item = _find_item(state, str(requested.get("orderItemId", "")))
                if item is None:
                    errors.append(f"order item {requested.get('orderItemId')} not found")
                    continue
                quantity = int(requested.get("quantity") or _open_quantity(item))
                if quantity > _open_quantity(item):
                    errors.append(f"order item {item['orderItemId']} has only {_open_quantity(item)} open")
                    continue
                item["quantityShipped"] = int(item.get("quantityShipped", 0)) + quantity
                item["latestChangedDateTime"] = _now()
            state.shipments.append(body)
            entity = str(items[0].get("orderItemId", ""))
            status = _process(
                state, "CREATE_SHIPMENT", entity, f"Create shipment for {entity}.", not errors, "; ".join(errors)
            )
        return JSONResponse(status, status_code=202, media_type=MEDIA_TYPE)

    @app.put("/retailer/orders/cancellation")
    async def cancel_items(request: Request) -> Response:
        """`{orderItems: [{orderItemId, reasonCode}]}`: accepted (202), processed at once; an item
        already cancelled or shipped fails the process, as bol's does."""
        body = await request.json()
        items = body.get("orderItems") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return problem(400, "Error validating request.", "Bad request", [{"name": "orderItems", "reason": "1+"}])
        violations = [
            {"name": f"orderItems[{n}]", "reason": "needs an orderItemId and a documented reasonCode"}
            for n, i in enumerate(items)
            if not isinstance(i, dict) or not i.get("orderItemId") or i.get("reasonCode") not in REASON_CODES
        ]
        if violations:
            return problem(400, "Error validating request.", "Bad request", violations)
        with state.lock:
            errors = []
            for requested in items:
                item = _find_item(state, str(requested["orderItemId"]))
                if item is None:
                    errors.append(f"order item {requested['orderItemId']} not found")
                elif _open_quantity(item) <= 0:
                    errors.append(f"order item {item['orderItemId']} is not open (shipped or cancelled)")
                else:
                    item["quantityCancelled"] = int(item.get("quantityCancelled", 0)) + _open_quantity(item)
                    item["latestChangedDateTime"] = _now()
            state.cancellations.append(body)
            entity = str(items[0]["orderItemId"])
            status = _process(
                state, "CANCEL_ORDER", entity, f"Cancel order item with id {entity}.", not errors, "; ".join(errors)
            )
        return JSONResponse(status, status_code=202, media_type=MEDIA_TYPE)

    @app.put("/retailer/offers/{offer_id}/stock")
    async def update_stock(offer_id: str, request: Request) -> Response:
        body = await request.json()
        amount = body.get("amount") if isinstance(body, dict) else None
        managed = body.get("managedByRetailer") if isinstance(body, dict) else None
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= 999:
            return problem(400, "Error validating request.", "Bad request", [{"name": "amount", "reason": "0-999"}])
        if not isinstance(managed, bool):
            return problem(
                400, "Error validating request.", "Bad request", [{"name": "managedByRetailer", "reason": "boolean"}]
            )
        with state.lock:
            state.stock.setdefault(offer_id, []).append(body)
            status = _process(state, "UPDATE_OFFER_STOCK", offer_id, f"Update stock for offer {offer_id}.", True)
        return JSONResponse(status, status_code=202, media_type=MEDIA_TYPE)

    @app.get("/shared/process-status/{process_id}")
    async def process_status(process_id: str) -> Response:
        with state.lock:
            status = state.processes.get(process_id)
        if status is None:
            return problem(404, "Not Found", f"Process status {process_id} not found.")
        return JSONResponse(status, media_type=MEDIA_TYPE)

    _sandbox_routes(app, state)
    return app


def _find_item(state: _State, order_item_id: str) -> dict[str, Any] | None:
    for order in state.orders.values():
        for item in order["orderItems"]:
            if item.get("orderItemId") == order_item_id:
                return item  # type: ignore[no-any-return]
    return None


def _sandbox_routes(app: FastAPI, state: _State) -> None:
    @app.post("/_sandbox/orders")
    async def seed_orders(request: Request) -> Response:
        """Seed one order or a list, as `GET /retailer/orders/{id}` returns them."""
        body = await request.json()
        orders = body if isinstance(body, list) else [body]
        for order in orders:
            if not isinstance(order, dict) or not order.get("orderId") or not order.get("orderItems"):
                return JSONResponse({"error": "each order needs orderId and orderItems"}, status_code=400)
        with state.lock:
            for order in orders:
                order.setdefault("orderPlacedDateTime", _now())
                for item in order["orderItems"]:
                    item.setdefault("latestChangedDateTime", order["orderPlacedDateTime"])
                state.orders[order["orderId"]] = order
        return JSONResponse({"seeded": [o["orderId"] for o in orders]}, status_code=201)

    @app.post("/_sandbox/orders/{order_id}/cancel")
    async def cancel_order(order_id: str, request: Request) -> Response:
        """Cancel every open unit (`{"requested": true}`: only flag the customer's cancellation request;
        `"items": [orderItemId, ...]`: only on those items)."""
        body = await request.json() if await request.body() else {}
        with state.lock:
            order = state.orders.get(order_id)
            if order is None:
                return JSONResponse({"error": "unknown order"}, status_code=404)
            only = body.get("items")
            for item in order["orderItems"]:
                if only is not None and str(item.get("orderItemId")) not in only:
                    continue
                if body.get("requested"):
                    item["cancellationRequest"] = True
                else:
                    item["quantityCancelled"] = int(item.get("quantity", 0)) - int(item.get("quantityShipped", 0))
                item["latestChangedDateTime"] = _now()
        return JSONResponse(order)

    @app.get("/_sandbox/shipments")
    async def shipments() -> Response:
        with state.lock:
            return JSONResponse(list(state.shipments))

    @app.get("/_sandbox/cancellations")
    async def cancellations() -> Response:
        """Every cancellation request the retailer sent, oldest first, as sent."""
        with state.lock:
            return JSONResponse(list(state.cancellations))

    @app.get("/_sandbox/stock")
    async def stock() -> Response:
        """Every stock update per offer id, oldest first."""
        with state.lock:
            return JSONResponse({offer: list(updates) for offer, updates in state.stock.items()})

    @app.get("/_sandbox/token-calls")
    async def token_calls() -> Response:
        with state.lock:
            return JSONResponse({"count": state.token_calls})

    @app.post("/_sandbox/revoke-tokens")
    async def revoke_tokens() -> Response:
        """Every token issued so far is refused from now on (as when one expires early)."""
        with state.lock:
            state.tokens.clear()
        return JSONResponse({"revoked": True})

    @app.post("/_sandbox/fail-next")
    async def fail_next(request: Request) -> Response:
        """`{"status": 429, "count": 1, "retry_after": "7", "path_prefix": "/retailer"}`."""
        body = await request.json()
        retry_after = body.get("retry_after")
        failure = _Failure(
            status=int(body.get("status", 503)),
            count=int(body.get("count", 1)),
            retry_after=str(retry_after) if retry_after is not None else None,
            path_prefix=str(body.get("path_prefix", "/")),
        )
        with state.lock:
            state.failures.append(failure)
        return JSONResponse({"queued": failure.count})
