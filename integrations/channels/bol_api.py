"""Bol.com Retailer API v10 over HTTP: the client, the order source, the stock feed, shipment confirmations
and cancellations.

Docs: https://api.bol.com/retailer/public/Retailer-API/authentication.html (OAuth2 client credentials) and
https://api.bol.com/retailer/public/redoc/v10/retailer.html (orders, cancellation, shipments, offer stock).

The client only maps failures to the `ChannelError` family; it never sleeps or retries beyond one token
refresh, because the Temporal activity around it owns retries and backoff. One client may serve several
activity threads at once: the token cache is guarded by a lock.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from domain.cancellation import CancelReason
from domain.times import in_utc
from integrations.channels.base import (
    CancellationNotice,
    ChannelAuthFailed,
    ChannelRateLimited,
    ChannelRejected,
    ChannelUnavailable,
    PulledOrder,
    PullPage,
    ShipmentNotice,
    retry_after_seconds,
)
from integrations.channels.bol import FBB, FBR, cancellation_requested, is_cancelled, is_fully_shipped

log = logging.getLogger("oms.channels.bol")

MEDIA_TYPE = "application/vnd.retailer.v10+json"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# Refresh a token this long before bol says it expires (bol's tokens live 299 s), so a request
# never starts with a token that dies in flight.
TOKEN_MARGIN_SECONDS = 30.0
MAX_STOCK = 999  # UpdateOfferStockRequest.amount: 0..999
MAX_ITEMS_PER_SHIPMENT = 100  # ShipmentRequest.orderItems: 1..100


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
        self._http = http or httpx.Client(timeout=timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def close(self) -> None:
        self._http.close()

    # --- OAuth2 client credentials ------------------------------------------------------------------

    def _access_token(self, *, stale: str | None = None) -> str:
        """The cached token, fetched anew when missing, about to expire, or the one just refused."""
        with self._lock:
            if self._token and self._token != stale and self._clock() < self._expires_at:
                return self._token
            self._token, lifetime = self._fetch_token()
            self._expires_at = self._clock() + max(lifetime - TOKEN_MARGIN_SECONDS, lifetime / 2)
            return self._token

    def _fetch_token(self) -> tuple[str, float]:
        try:
            response = self._http.post(
                self._auth_url,
                params={"grant_type": "client_credentials"},
                auth=httpx.BasicAuth(*self._credentials),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ChannelUnavailable(f"bol token request failed: {type(exc).__name__}") from exc
        if response.status_code in (400, 401, 403):
            raise ChannelAuthFailed(f"bol refused the client credentials ({response.status_code})")
        _raise_for_status(response, "POST token")
        body = _parse(response, "POST token")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ChannelUnavailable("bol token response has no access_token")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | Decimal) else 0.0
        return token, lifetime

    # --- requests -----------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """Call the API; on 401/403 fetch a fresh token and try once more, then give up."""
        content = json.dumps(body, default=_json_default).encode() if body is not None else None
        token = self._access_token()
        response = self._send(method, path, token, params, content)
        if response.status_code in (401, 403):
            token = self._access_token(stale=token)
            response = self._send(method, path, token, params, content)
            if response.status_code in (401, 403):
                raise ChannelAuthFailed(f"bol {method} {path}: {response.status_code} with a fresh token")
        _raise_for_status(response, f"{method} {path}")
        return _parse(response, f"{method} {path}")

    def _send(
        self, method: str, path: str, token: str, params: dict[str, Any] | None, content: bytes | None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE}
        if content is not None:
            headers["Content-Type"] = MEDIA_TYPE
        try:
            return self._http.request(method, self._api_url + path, params=params, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelUnavailable(f"bol {method} {path} failed: {type(exc).__name__}") from exc

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

    def process_status(self, process_status_id: str) -> dict[str, Any]:
        """`GET /shared/process-status/{id}`: whether an accepted (202) request succeeded later."""
        return _process_status(self.request("GET", f"/shared/process-status/{process_status_id}"))


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    raise TypeError(f"cannot send {type(value).__name__} to bol")


def _parse(response: httpx.Response, what: str) -> Any:
    if not response.content:
        return {}
    try:
        return json.loads(response.text, parse_float=Decimal)
    except ValueError as exc:
        raise ChannelUnavailable(f"bol {what}: response is not JSON") from exc


def _process_status(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ChannelUnavailable("bol answered something other than a ProcessStatus")
    if body.get("status") == "FAILURE":
        raise ChannelRejected(f"bol {body.get('eventType', 'process')} failed: {body.get('errorMessage', '')}")
    return body


def _problem(response: httpx.Response) -> str:
    """Bol's problem+json (`title`, `detail`, `violations[{name, reason}]`) as one line."""
    try:
        body = json.loads(response.text, parse_float=Decimal)
    except ValueError:
        return response.reason_phrase
    if not isinstance(body, dict):
        return response.reason_phrase
    parts = [str(body[key]) for key in ("title", "detail") if body.get(key)]
    violations = body.get("violations")
    if isinstance(violations, list):
        parts += [f"{v.get('name')}: {v.get('reason')}" for v in violations if isinstance(v, dict)]
    return "; ".join(parts) or response.reason_phrase


def _raise_for_status(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        raise ChannelRateLimited(
            f"bol {what}: rate limited", retry_after=retry_after_seconds(response.headers.get("Retry-After"))
        )
    if status >= 500:
        raise ChannelUnavailable(f"bol {what}: {status}")
    if status in (401, 403):
        raise ChannelAuthFailed(f"bol {what}: {status}")
    raise ChannelRejected(f"bol {what}: {status} {_problem(response)}")


# --- orders in ---------------------------------------------------------------------------------------


@dataclass
class _Cursor:
    """Where a sweep over bol's order list stands.

    bol lists open orders and those handled in the last 48 hours, newest first, 50 per page, and each
    item carries `latestChangedDateTime`. A sweep reads page 1, 2, ... until an empty page; only
    orders changed at or after `since` have their details fetched. When a sweep ends, `since` moves
    to the sweep's start less an overlap, so an order that changed while we paged (or that shifted
    between pages) is caught by the next sweeps; `seen` remembers what was already handed out within
    that overlap, so overlaps cost no repeated detail calls.
    """

    method: str
    page: int = 1
    since: datetime | None = None
    started: datetime | None = None
    seen: dict[str, str] = field(default_factory=dict)

    def dump(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "method": self.method,
                "page": self.page,
                "since": self.since.isoformat() if self.since else None,
                "started": self.started.isoformat() if self.started else None,
                "seen": self.seen,
            },
            sort_keys=True,
        )

    @classmethod
    def load(cls, text: str | None, method: str) -> _Cursor:
        if not text:
            return cls(method)
        try:
            data = json.loads(text)
            if data.get("v") != 1 or data.get("method") != method:
                raise ValueError("another cursor version or fulfilment method")
            page = data["page"]
            if not isinstance(page, int) or page < 1:
                raise ValueError("bad page")
            seen = data.get("seen") or {}
            if not isinstance(seen, dict):
                raise ValueError("bad seen")
            return cls(method, page, _moment(data.get("since")), _moment(data.get("started")), dict(seen))
        except (ValueError, TypeError, KeyError, AttributeError):
            # Starting over repeats orders (harmless: ids dedupe) but never misses one.
            log.warning("bol order cursor unreadable; starting a new sweep from scratch")
            return cls(method)


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("bad timestamp")
    return in_utc(datetime.fromisoformat(value))  # ValueError out of range, too (domain.times)


def _last_change(summary: dict[str, Any]) -> datetime | None:
    """The newest `latestChangedDateTime` of a listed order's items (None when bol gave none)."""
    changes = []
    for item in summary.get("orderItems") or []:
        value = item.get("latestChangedDateTime") if isinstance(item, dict) else None
        if isinstance(value, str):
            try:
                changes.append(_moment(value))
            except ValueError:
                continue
    return max((c for c in changes if c is not None), default=None)


class BolOrderSource:
    """`OrderSource` over `GET /retailer/orders` (status ALL, to see cancellations) and the order details."""

    def __init__(
        self,
        client: BolClient,
        *,
        fulfilment_method: str = FBR,
        overlap: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if fulfilment_method not in (FBR, FBB, "ALL"):
            raise ValueError("fulfilment_method must be FBR, FBB or ALL")
        self._client = client
        self._method = fulfilment_method
        self._overlap = overlap
        self._clock = clock

    def pull(self, cursor: str | None) -> PullPage:
        state = _Cursor.load(cursor, self._method)
        if state.started is None:
            state.started = self._clock()
        summaries = self._client.list_orders(page=state.page, fulfilment_method=self._method)
        if not summaries:  # the sweep is complete
            since = state.started - self._overlap
            return PullPage([], _Cursor(self._method, 1, since, None, _recent(state.seen, since)).dump(), more=False)
        orders = [order for order in self._changed(summaries, state) if order is not None]
        state.page += 1
        return PullPage(orders, state.dump(), more=True)

    def _changed(self, summaries: Iterable[dict[str, Any]], state: _Cursor) -> Iterable[PulledOrder | None]:
        for summary in summaries:
            order_id = summary.get("orderId")
            if not isinstance(order_id, str) or not order_id:
                continue
            if not (order_id.isascii() and order_id.isprintable()):  # it goes into a URL path
                log.warning("bol listed an order id that is not printable ASCII; skipped")
                continue
            change = _last_change(summary)
            if change is not None and state.since is not None and change < state.since:
                continue
            stamp = change.isoformat() if change else ""
            if stamp and state.seen.get(order_id) == stamp:
                continue
            yield self._pulled(order_id)
            # Only what the next sweep will look at again needs remembering; that keeps the cursor small.
            if change is not None and state.started is not None and change >= state.started - self._overlap:
                state.seen[order_id] = stamp

    def _pulled(self, order_id: str) -> PulledOrder | None:
        try:
            detail = self._client.get_order(order_id)
        except ChannelRejected:
            # Listed but gone (404): nothing to map; the list is the source of truth next sweep.
            log.warning("bol order %s listed but its details were refused; skipped", order_id)
            return None
        cancelled = is_cancelled(detail)
        if not cancelled and self._method != FBB and _fulfilled_by_retailer(detail) and is_fully_shipped(detail):
            # Already shipped outside this engine (e.g. before it was connected): not ours to ship again.
            return None
        confirm = cancellation_requested(detail) if cancelled else ()
        return PulledOrder(external_id=order_id, payload=detail, cancelled=cancelled, confirm_cancel=confirm)


def _recent(seen: dict[str, str], since: datetime) -> dict[str, str]:
    """What the next sweep still needs to remember: orders whose last change it will see again."""
    kept = {}
    for order_id, stamp in seen.items():
        try:
            moment = _moment(stamp)
        except ValueError:
            continue
        if moment is not None and moment >= since:
            kept[order_id] = stamp
    return kept


def _fulfilled_by_retailer(detail: dict[str, Any]) -> bool:
    items = detail.get("orderItems") or []
    return any(
        not isinstance(item.get("fulfilment"), dict) or item["fulfilment"].get("method", FBR) != FBB
        for item in items
        if isinstance(item, dict)
    )


# --- stock and shipments out ---------------------------------------------------------------------------


class BolStockFeed:
    """`StockFeed` over `PUT /retailer/offers/{offer-id}/stock`.

    `managedByRetailer` (docs): false lets bol subtract *all* open orders from the amount; true only
    orders placed after this update. Our available-to-promise already excludes units reserved for
    the orders we hold, so true is the default: false would count those orders twice.
    """

    def __init__(
        self, client: BolClient, offer_for_sku: Callable[[str], str | None], *, managed_by_retailer: bool = True
    ) -> None:
        self._client = client
        self._offer_for_sku = offer_for_sku
        self._managed_by_retailer = managed_by_retailer

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        offer_id = self._offer_for_sku(sku)
        if not offer_id:
            return  # not offered on bol
        amount = min(max(quantity, 0), MAX_STOCK)
        self._client.update_offer_stock(offer_id, amount, managed_by_retailer=self._managed_by_retailer)


# Bol transporter codes (v10 docs, "transporterCode"): our carrier names → bol's.
TRANSPORTER_CODES = frozenset(
    {
        "BRIEFPOST", "UPS", "TNT", "TNT-EXTRA", "TNT_BRIEF", "TNT-EXPRESS", "DYL", "DPD-NL", "DPD-BE", "BPOST_BE",
        "BPOST_BRIEF", "DHLFORYOU", "GLS", "FEDEX_NL", "FEDEX_BE", "OTHER", "DHL", "DHL_DE", "DHL-GLOBAL-MAIL",
        "TSN", "FIEGE", "TRANSMISSION", "PARCEL-NL", "LOGOIX", "PACKS",
    }
)  # fmt: skip
_CARRIER_ALIASES = {
    "POSTNL": "TNT",
    "POST NL": "TNT",
    "DHL PARCEL": "DHL",
    "DHL FOR YOU": "DHLFORYOU",
    "DHL DE": "DHL_DE",
    "DHL GERMANY": "DHL_DE",
    "DPD": "DPD-NL",
    "DPD NL": "DPD-NL",
    "DPD BE": "DPD-BE",
    "BPOST": "BPOST_BE",
    "FEDEX": "FEDEX_NL",
    "PARCEL.NL": "PARCEL-NL",
}


def transporter_code(carrier: str) -> str:
    """Bol's code for one of our carrier names; OTHER when bol has none for it."""
    name = " ".join(carrier.strip().upper().split())
    if name in TRANSPORTER_CODES:
        return name
    return _CARRIER_ALIASES.get(name) or _CARRIER_ALIASES.get(name.replace("_", " ").replace("-", " ")) or "OTHER"


class BolShipmentConfirmer:
    """`ShipmentConfirmer` over `POST /retailer/shipments`.

    Bol answers 202 with a ProcessStatus and processes the shipment later. We return once it is
    accepted and do not poll `/shared/process-status/{id}` (that would sleep inside an activity);
    `BolClient.process_status` is there for a later check. A retried call for items bol already
    marked shipped fails in that later process, not here, so a retry is harmless.
    """

    def __init__(self, client: BolClient) -> None:
        self._client = client

    def confirm_shipment(self, notice: ShipmentNotice) -> None:
        quantities: dict[str, int] = {}
        for line in notice.lines:
            if not line.external_line_id:
                raise ChannelRejected(f"shipment {notice.shipment_id}: line {line.sku} has no bol orderItemId")
            if line.quantity > 0:
                quantities[line.external_line_id] = quantities.get(line.external_line_id, 0) + line.quantity
        if not quantities:
            raise ChannelRejected(f"shipment {notice.shipment_id}: nothing to confirm")
        transport = {
            "transporterCode": transporter_code(notice.carrier),
            "trackAndTrace": notice.tracking_number or None,
        }
        items = [{"orderItemId": item_id, "quantity": quantity} for item_id, quantity in quantities.items()]
        for start in range(0, len(items), MAX_ITEMS_PER_SHIPMENT):
            status = self._client.create_shipment(
                {
                    "orderItems": items[start : start + MAX_ITEMS_PER_SHIPMENT],
                    "shipmentReference": notice.shipment_id[:90] or None,
                    "transport": transport,
                }
            )
            log.info("bol accepted shipment %s (process %s)", notice.shipment_id, status.get("processStatusId"))


# Bol's cancellation reason codes (v10 `reasonCode`) for ours. REQUESTED_BY_CUSTOMER only where the
# customer asked: a retailer's cancel counts against the retailer's performance score, and so does
# that code used without a customer's request.
REASON_CODES = {
    CancelReason.CUSTOMER_REQUEST: "REQUESTED_BY_CUSTOMER",
    CancelReason.OUT_OF_STOCK: "OUT_OF_STOCK",
    CancelReason.OTHER: "OTHER",
}


class BolCanceller:
    """`ChannelCanceller` over `PUT /retailer/orders/cancellation` (202 and a ProcessStatus, like shipments).

    The order is read first, so only items still open are sent: bol refuses a cancel of what it
    already cancelled or what shipped, and a retried delivery (bol accepted, the answer was lost)
    then finds nothing left to do. An item the customer asked to cancel goes as REQUESTED_BY_CUSTOMER
    even when we cancel the order for our own reason: it is the truth, and it spares the score. Bol
    sets an offer's stock to 0 when the retailer cancels (its seller guide says so), so our figure is
    sent again after. We return once bol accepted (202) and do not poll the process status.
    """

    touches_stock = True

    def __init__(self, client: BolClient) -> None:
        self._client = client

    def cancel_order(self, notice: CancellationNotice) -> None:
        if not notice.line_ids:
            raise ChannelRejected(f"bol order {notice.order_external_id}: no orderItemIds to cancel")
        order = self._client.get_order(notice.order_external_id)
        items = {str(item.get("orderItemId")): item for item in order.get("orderItems") or [] if isinstance(item, dict)}
        unknown = [line_id for line_id in notice.line_ids if line_id not in items]
        if unknown:
            raise ChannelRejected(f"bol order {notice.order_external_id} has no items {', '.join(unknown)}")
        cancel = [
            {"orderItemId": line_id, "reasonCode": self._reason(items[line_id], notice.reason_kind)}
            for line_id in notice.line_ids
            if _open_units(items[line_id]) > 0
        ]
        if not cancel:
            log.info("bol order %s: nothing left open to cancel", notice.order_external_id)
            return
        status = self._client.cancel_order_items(cancel)
        process = status.get("processStatusId")
        log.info("bol accepted the cancellation of %s (process %s)", notice.order_external_id, process)

    @staticmethod
    def _reason(item: dict[str, Any], kind: CancelReason) -> str:
        if item.get("cancellationRequest") is True:
            return REASON_CODES[CancelReason.CUSTOMER_REQUEST]
        return REASON_CODES[kind]


def _open_units(item: dict[str, Any]) -> int:
    def count(key: str) -> int:
        value = item.get(key)
        return int(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else 0

    return count("quantity") - count("quantityShipped") - count("quantityCancelled")
