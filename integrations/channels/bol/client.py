"""Bol.com Retailer API v10: the client every outbound bol call goes through.

Docs: https://api.bol.com/retailer/public/Retailer-API/authentication.html (OAuth2 client credentials) and
https://api.bol.com/retailer/public/redoc/v10/retailer.html (orders, cancellation, shipments, offer stock).

Failures map to the `ChannelError` family in the shared `ChannelHttp`; the token is httpx's `BearerToken`
auth over a `CachedToken` (refreshed shortly before it expires, and once when bol refuses it). Nothing
sleeps or retries beyond that one refresh: the Temporal activity around each call owns retries and backoff.
One client may serve several activity threads at once: the token cache is guarded by a lock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from integrations.channels.errors import ChannelRejected, ChannelUnavailable
from integrations.channels.http import ChannelHttp, parse_json
from integrations.channels.tokens import REFUSED_CREDENTIALS, BearerToken, CachedToken

MEDIA_TYPE = "application/vnd.retailer.v10+json"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# Refresh a token this long before bol says it expires (bol's tokens live 299 s), so a request
# never starts with a token that dies in flight.
TOKEN_MARGIN_SECONDS = 30.0


def _renew_after(lifetime: float) -> float:
    return max(lifetime - TOKEN_MARGIN_SECONDS, lifetime / 2)


def _bearer(request: httpx.Request, token: str) -> None:
    request.headers["Authorization"] = f"Bearer {token}"


class BolClient:
    """Authenticated calls to the Retailer API; returns JSON parsed with Decimal numbers."""

    def __init__(
        self,
        api_url: str,
        auth_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._auth_url = auth_url
        self._credentials = (client_id, client_secret)
        self._api = ChannelHttp("bol", http or httpx.Client(timeout=timeout), describe=_problem)
        self._api.http.auth = BearerToken(
            CachedToken(self._fetch_token, renew_after=_renew_after, clock=clock), _bearer
        )

    def close(self) -> None:
        self._api.close()

    def _fetch_token(self) -> tuple[str, float]:
        """OAuth2 client credentials: (the token, its lifetime in seconds)."""
        response = self._api.send(
            "POST",
            self._auth_url,
            what="POST token",
            params={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
            auth=httpx.BasicAuth(*self._credentials),
            refused=REFUSED_CREDENTIALS,
        )
        body = self._api.json(response, "POST token", empty={})
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ChannelUnavailable("bol token response has no access_token")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | Decimal) else 0.0
        return token, lifetime

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str = MEDIA_TYPE,
    ) -> Any:
        """Call the API (a refused token is replaced once: tokens.BearerToken); the JSON answer."""
        what = f"{method} {path}"
        headers = {"Accept": MEDIA_TYPE}
        content = None
        if body is not None:
            headers["Content-Type"] = content_type
            content = json.dumps(body, default=_json_default).encode()
        response = self._api.send(
            method, self._api_url + path, what=what, params=params, content=content, headers=headers
        )
        return self._api.json(response, what, empty={})

    # --- the endpoints the adapter uses ---------------------------------------------------------------

    def list_orders(self, *, page: int, fulfilment_method: str, status: str = "ALL") -> list[dict[str, Any]]:
        """One page (50 orders, newest first) of `GET /retailer/orders`; bol answers `{}` past the end."""
        body = self.request(
            "GET", "/retailer/orders", params={"page": page, "fulfilment-method": fulfilment_method, "status": status}
        )
        orders = body.get("orders") if isinstance(body, dict) else None
        return [order for order in orders or [] if isinstance(order, dict)]

    def get_order(self, order_id: str) -> dict[str, Any]:
        body = self.request("GET", f"/retailer/orders/{order_id}")
        if not isinstance(body, dict):
            raise ChannelUnavailable(f"bol order {order_id}: unexpected response")
        return body

    def create_shipment(self, shipment: dict[str, Any]) -> dict[str, Any]:
        """`POST /retailer/shipments` (v10; `PUT /retailer/orders/shipment` was v4-v8): a ProcessStatus."""
        return _process_status(self.request("POST", "/retailer/shipments", body=shipment))

    def cancel_order_items(self, items: list[dict[str, str]]) -> dict[str, Any]:
        """`PUT /retailer/orders/cancellation` with `{orderItems: [{orderItemId, reasonCode}]}`: a ProcessStatus."""
        return _process_status(self.request("PUT", "/retailer/orders/cancellation", body={"orderItems": items}))

    def update_offer_stock(self, offer_id: str, amount: int, *, managed_by_retailer: bool) -> dict[str, Any]:
        body = {"amount": amount, "managedByRetailer": managed_by_retailer}
        return _process_status(self.request("PUT", f"/retailer/offers/{offer_id}/stock", body=body))

    def list_returns(self, *, page: int, handled: bool, fulfilment_method: str = "FBR") -> list[dict[str, Any]]:
        """One page (50) of `GET /retailer/returns` as `ReducedReturn`s: unhandled oldest first, handled
        newest first; bol answers `{}` past the end."""
        params = {"page": page, "handled": "true" if handled else "false", "fulfilment-method": fulfilment_method}
        body = self.request("GET", "/retailer/returns", params=params)
        returns = body.get("returns") if isinstance(body, dict) else None
        return [ret for ret in returns or [] if isinstance(ret, dict)]

    def get_return(self, return_id: str) -> dict[str, Any]:
        """`GET /retailer/returns/{return-id}`: the `Return` with its items' `processingResults`."""
        body = self.request("GET", f"/retailer/returns/{return_id}")
        if not isinstance(body, dict):
            raise ChannelUnavailable(f"bol return {return_id}: unexpected response")
        return body

    def handle_return(self, rma_id: str, handling_result: str, quantity_returned: int) -> dict[str, Any]:
        """`PUT /retailer/returns/{rma-id}` with `{handlingResult, quantityReturned}`: a ProcessStatus."""
        body = {"handlingResult": handling_result, "quantityReturned": quantity_returned}
        return _process_status(self.request("PUT", f"/retailer/returns/{rma_id}", body=body))

    def create_return(self, order_item_id: str, quantity_returned: int, handling_result: str) -> dict[str, Any]:
        """`POST /retailer/returns` (goods sent back without a return registered at bol): a ProcessStatus
        whose `entityId` is, once processed, the new return's id."""
        body = {"orderItemId": order_item_id, "quantityReturned": quantity_returned, "handlingResult": handling_result}
        # The v10 spec gives this one request body as plain application/json (its answer is bol's type).
        return _process_status(self.request("POST", "/retailer/returns", body=body, content_type="application/json"))

    def process_status(self, process_status_id: str) -> dict[str, Any]:
        """`GET /shared/process-status/{id}`: whether an accepted (202) request succeeded later."""
        return _process_status(self.request("GET", f"/shared/process-status/{process_status_id}"))


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    raise TypeError(f"cannot send {type(value).__name__} to bol")


def _process_status(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ChannelUnavailable("bol answered something other than a ProcessStatus")
    if body.get("status") == "FAILURE":
        raise ChannelRejected(f"bol {body.get('eventType', 'process')} failed: {body.get('errorMessage', '')}")
    return body


def _problem(response: httpx.Response) -> str:
    """Bol's problem+json (`title`, `detail`, `violations[{name, reason}]`) as one line."""
    try:
        body = parse_json(response.text)
    except ValueError:
        return response.reason_phrase
    if not isinstance(body, dict):
        return response.reason_phrase
    parts = [str(body[key]) for key in ("title", "detail") if body.get(key)]
    violations = body.get("violations")
    if isinstance(violations, list):
        parts += [f"{v.get('name')}: {v.get('reason')}" for v in violations if isinstance(v, dict)]
    return "; ".join(parts) or response.reason_phrase
