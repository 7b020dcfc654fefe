"""A local Bol.com: the OAuth token endpoint and the Retailer API v10 endpoints the adapter uses.

Shapes follow the v10 spec (https://api.bol.com/retailer/public/redoc/v10/retailer.html): `ReducedOrders`
for the list (newest first, `page_size` per page, `{}` past the last page), the stored `Order` for a
detail, 202 `ProcessStatus` for shipments, cancellations and stock, problem+json for errors. The token endpoint sits
at `/token` (bol's is https://login.bol.com/token, a separate setting). Prices are kept as JSON numbers
as seeded: Python's float repr gives back the same text (12.99 stays 12.99), and the sandbox does no sums.

Returns (`/retailer/returns`): the list (`ReturnsResponse` of `ReducedReturn`, 50 per page; unhandled oldest
first, handled newest first, `{}` past the last page), one return (`Return`), a return handled by rma id
(`PUT /retailer/returns/{rma-id}` with `ReturnRequest {handlingResult, quantityReturned}` -> 202
`ProcessStatus` HANDLE_RETURN) and one created by the retailer (`POST /retailer/returns` with
`CreateReturnRequest` -> 202 CREATE_RETURN, the new return id as the process's entityId). Handling an rma
again with another result changes it (bol allows that); with the same result bol has nothing to do and
says so (400).

Test hooks under `/_sandbox`: seed orders (detail JSON), cancel or request cancellation, read shipments,
the retailer's cancellations, stock and the token count, revoke tokens, and make the next N calls fail
with a given status; register a customer's return (`/_sandbox/returns`) and read every handling the
retailer sent (`/_sandbox/return-handlings`).
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
HANDLING_RESULTS = (
    "RETURN_RECEIVED", "EXCHANGE_PRODUCT", "RETURN_DOES_NOT_MEET_CONDITIONS", "REPAIR_PRODUCT",
    "CUSTOMER_KEEPS_PRODUCT_PAID", "STILL_APPROVED",
)  # fmt: skip
"""`ReturnRequest.handlingResult` (v10); a return the retailer creates may not be STILL_APPROVED."""


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
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Returns by returnId, each as `GET /retailer/returns/{return-id}` shows it."""
    handlings: list[dict[str, Any]] = field(default_factory=list)
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
            # POST /retailer/returns: the v10 spec documents its body as application/json.
            allowed = (
                (MEDIA_TYPE, "application/json")
                if (request.method, path) == ("POST", "/retailer/returns")
                else (MEDIA_TYPE,)
            )
            if request.method in ("POST", "PUT") and request.headers.get("Content-Type", "") not in allowed:
                return problem(415, "Unsupported Media Type", f"Content-Type must be {' or '.join(allowed)}.")
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

    _return_routes(app, state, page_size)
    _sandbox_routes(app, state)
    return app


def _find_item(state: _State, order_item_id: str) -> dict[str, Any] | None:
    for order in state.orders.values():
        for item in order["orderItems"]:
            if item.get("orderItemId") == order_item_id:
                return item  # type: ignore[no-any-return]
    return None


def _reduced_return(ret: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """A `Return` as `ReducedReturn` (the list leaves out the title, transport and customer details)."""
    reduced = ("rmaId", "orderId", "ean", "expectedQuantity", "returnReason", "handled", "processingResults")
    return {
        "returnId": ret["returnId"],
        "registrationDateTime": ret["registrationDateTime"],
        "fulfilmentMethod": ret["fulfilmentMethod"],
        "returnItems": [{key: item[key] for key in reduced if key in item} for item in items],
    }


def _find_rma(state: _State, rma_id: str) -> dict[str, Any] | None:
    for ret in state.returns.values():
        for item in ret["returnItems"]:
            if item["rmaId"] == rma_id:
                return item  # type: ignore[no-any-return]
    return None


def _bad_quantity(value: object) -> bool:
    return isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9999


def _return_routes(app: FastAPI, state: _State, page_size: int) -> None:
    @app.get("/retailer/returns")
    async def list_returns(request: Request) -> Response:
        query = request.query_params
        page, handled, method = query.get("page", "1"), query.get("handled"), query.get("fulfilment-method")
        violations = []
        if not page.isdigit() or int(page) < 1:
            violations.append({"name": "page", "reason": "Must be an integer of at least 1."})
        if handled is not None and handled not in ("true", "false"):
            violations.append({"name": "handled", "reason": f"Request contains invalid value(s): '{handled}'."})
        if method is not None and method not in ("FBR", "FBB"):
            violations.append(
                {"name": "fulfilment-method", "reason": f"Request contains invalid value(s): '{method}'."}
            )
        if violations:
            return problem(400, "Error validating request.", "Bad request", violations)
        with state.lock:
            listed = []
            for ret in state.returns.values():
                if method is not None and ret["fulfilmentMethod"] != method:
                    continue
                items = [i for i in ret["returnItems"] if handled is None or i["handled"] == (handled == "true")]
                if items:
                    listed.append(_reduced_return(ret, items))
        # Unhandled oldest first (a work list), handled newest first, as bol's docs say.
        listed.sort(key=lambda r: datetime.fromisoformat(r["registrationDateTime"]), reverse=handled == "true")
        start = (int(page) - 1) * page_size
        chunk = listed[start : start + page_size]
        return JSONResponse({"returns": chunk} if chunk else {}, media_type=MEDIA_TYPE)

    @app.get("/retailer/returns/{return_id}")
    async def get_return(return_id: str) -> Response:
        with state.lock:
            ret = state.returns.get(return_id)
        if ret is None:
            return problem(404, "Not Found", f"Return {return_id} not found.")
        return JSONResponse(ret, media_type=MEDIA_TYPE)

    @app.put("/retailer/returns/{rma_id}")
    async def handle_return(rma_id: str, request: Request) -> Response:
        body = await request.json()
        result = body.get("handlingResult") if isinstance(body, dict) else None
        quantity = body.get("quantityReturned") if isinstance(body, dict) else None
        violations = []
        if not rma_id.isdigit():
            violations.append({"name": "rma-id", "reason": "Must be a number."})
        if result not in HANDLING_RESULTS:
            violations.append({"name": "handlingResult", "reason": f"Must be one of {', '.join(HANDLING_RESULTS)}."})
        if _bad_quantity(quantity):
            violations.append({"name": "quantityReturned", "reason": "Must be between 1 and 9999."})
        if violations:
            return problem(400, "Error validating request.", "Bad request", violations)
        with state.lock:
            item = _find_rma(state, rma_id)
            if item is None:
                return problem(404, "Not Found", f"Return item with rma id {rma_id} not found.")
            latest = item["processingResults"][-1] if item["processingResults"] else None
            if item["handled"] and latest is not None and latest["handlingResult"] == result:
                return problem(
                    400, "Error validating request.", f"Return item {rma_id} is already handled with {result}."
                )
            state.handlings.append({"rmaId": rma_id} | body)
            item["handled"] = True
            item["processingResults"].append(
                {
                    "quantity": quantity,
                    "processingResult": "ACCEPTED",
                    "handlingResult": result,
                    "processingDateTime": _now(),
                }
            )
            status = _process(state, "HANDLE_RETURN", rma_id, f"Handle the return with rma id {rma_id}.", True)
        return JSONResponse(status, status_code=202, media_type=MEDIA_TYPE)

    @app.post("/retailer/returns")
    async def create_return(request: Request) -> Response:
        """`CreateReturnRequest {orderItemId, quantityReturned, handlingResult}`: a return the customer
        never registered (goods sent back unannounced), created and handled at once."""
        body = await request.json()
        order_item_id = body.get("orderItemId") if isinstance(body, dict) else None
        quantity = body.get("quantityReturned") if isinstance(body, dict) else None
        result = body.get("handlingResult") if isinstance(body, dict) else None
        violations = []
        if not isinstance(order_item_id, str) or not order_item_id:
            violations.append({"name": "orderItemId", "reason": "Must not be empty."})
        if _bad_quantity(quantity):
            violations.append({"name": "quantityReturned", "reason": "Must be between 1 and 9999."})
        if result not in HANDLING_RESULTS or result == "STILL_APPROVED":
            violations.append({"name": "handlingResult", "reason": "Not a handling result a new return may have."})
        if violations:
            return problem(400, "Error validating request.", "Bad request", violations)
        with state.lock:
            owner = next(
                (o for o in state.orders.values() for i in o["orderItems"] if i.get("orderItemId") == order_item_id),
                None,
            )
            if owner is None:
                status = _process(
                    state, "CREATE_RETURN", str(order_item_id), "Create a return.", False, "order item not found"
                )
                return JSONResponse(status, status_code=202, media_type=MEDIA_TYPE)
            item = next(i for i in owner["orderItems"] if i.get("orderItemId") == order_item_id)
            ret = _register(
                state,
                {
                    "orderId": owner["orderId"],
                    "ean": (item.get("product") or {}).get("ean", ""),
                    "quantity": quantity,
                    "fulfilmentMethod": _method(item),
                },
            )
            ret["returnItems"][0]["handled"] = True
            ret["returnItems"][0]["processingResults"].append(
                {
                    "quantity": quantity,
                    "processingResult": "ACCEPTED",
                    "handlingResult": result,
                    "processingDateTime": _now(),
                }
            )
            status = _process(state, "CREATE_RETURN", ret["returnId"], f"Create a return for {order_item_id}.", True)
        return JSONResponse(status, status_code=202, media_type=MEDIA_TYPE)


def _register(state: _State, spec: dict[str, Any]) -> dict[str, Any]:
    """A customer's return as bol registers it: one `Return` with one item per entry of `items` (or
    the spec itself as the only item); ids drawn like bol's (numeric strings) unless given."""
    entries = spec.get("returnItems") or spec.get("items") or [spec]
    return_id = str(spec.get("returnId") or 15_000_000 + len(state.returns) + 1)
    taken = sum(len(r["returnItems"]) for r in state.returns.values())
    items = []
    for n, entry in enumerate(entries):
        items.append(
            {
                "rmaId": str(entry.get("rmaId") or 60_000_000 + taken + n + 1),
                "orderId": str(entry.get("orderId") or spec.get("orderId") or ""),
                "ean": str(entry.get("ean", "")),
                "title": str(entry.get("title", "")),
                "expectedQuantity": int(entry.get("quantity", entry.get("expectedQuantity", 1))),
                "returnReason": entry.get("returnReason")
                or {
                    "mainReason": str(entry.get("mainReason", "Verkeerd besteld")),
                    "detailedReason": str(entry.get("detailedReason", "Artikel had ik toch niet nodig")),
                    "customerComments": str(entry.get("customerComments", "")),
                },
                "trackAndTrace": str(entry.get("trackAndTrace", "3SBOL0987654321")),
                "transporterName": str(entry.get("transporterName", "PostNL")),
                "handled": bool(entry.get("handled", False)),
                "processingResults": list(entry.get("processingResults") or []),
                "customerDetails": {"firstName": "Sandbox", "surname": "Customer", "email": "return@example.invalid"},
            }
        )
    ret = {
        "returnId": return_id,
        "registrationDateTime": str(spec.get("registrationDateTime") or _now()),
        "fulfilmentMethod": str(spec.get("fulfilmentMethod", "FBR")),
        "returnItems": items,
    }
    state.returns[return_id] = ret
    return ret


def _sandbox_routes(app: FastAPI, state: _State) -> None:
    @app.post("/_sandbox/returns")
    async def register_return(request: Request) -> Response:
        """A customer registers a return at bol: `{"orderId", "ean", "quantity", "mainReason",
        "detailedReason", "customerComments", "fulfilmentMethod"}`, or `{"orderId", "items": [...]}`
        for several items, or a whole `Return` as bol shows it (`returnId`, `registrationDateTime`,
        `fulfilmentMethod`, `returnItems` with `rmaId`, `orderId`, `ean`, `expectedQuantity`,
        `returnReason`); answers the `Return` as bol will show it."""
        body = await request.json()
        items = body.get("returnItems") or body.get("items") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not (body.get("orderId") or isinstance(items, list)):
            return JSONResponse({"error": "a return needs an orderId (or items with orderIds)"}, status_code=400)
        with state.lock:
            if body.get("returnId") and str(body["returnId"]) in state.returns:
                return JSONResponse({"error": "that returnId exists"}, status_code=409)
            given = [str(i["rmaId"]) for i in items or [] if isinstance(i, dict) and i.get("rmaId")]
            if any(_find_rma(state, rma) is not None for rma in given):
                return JSONResponse({"error": "that rmaId exists"}, status_code=409)
            ret = _register(state, body)
        return JSONResponse(ret, status_code=201)

    @app.get("/_sandbox/return-handlings")
    async def return_handlings() -> Response:
        """Every `PUT /retailer/returns/{rma-id}` accepted, oldest first, as sent (with its rmaId)."""
        with state.lock:
            return JSONResponse(list(state.handlings))

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
