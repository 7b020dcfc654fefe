"""Amazon SP-API over HTTP: the LWA token, the client and its error mapping, and the three adapters.

- `LwaTokens`: Login with Amazon access tokens from the refresh token, cached until shortly before they
  expire (https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api).
- `AmazonClient`: sends `x-amz-access-token` and a user agent; no AWS Signature V4 since October 2023
  (https://developer-docs.amazon.com/sp-api/changelog/sp-api-will-no-longer-require-aws-iam-or-aws-signature-version-4).
  Failures become base.py's errors; it never sleeps or retries beyond one token refresh, because the
  Temporal activity around it owns retry and backoff.
- `AmazonOrderSource` (getOrders + getOrderItems), `AmazonShipmentConfirmer` (confirmShipment),
  `AmazonListingsStockFeed` (patchListingsItem).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

import httpx

from domain.times import in_utc
from integrations.channels.amazon import is_cancelled, is_fulfilable
from integrations.channels.base import (
    ChannelAuthFailed,
    ChannelRateLimited,
    ChannelRejected,
    ChannelUnavailable,
    PulledOrder,
    PullPage,
    ShipmentNotice,
    retry_after_seconds,
)

USER_AGENT = "oms-channel-amazon/0.1 (Language=Python/3.11)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_RAISE: Any = object()
# Renew this long before `expires_in` runs out, so a token never expires in flight.
TOKEN_MARGIN = timedelta(minutes=5)


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal) if text.strip() else None


def _error_message(response: httpx.Response) -> str:
    """SP-API's `{"errors": [{code, message, details}]}` (or LWA's `{error, error_description}`) as one line."""
    try:
        body = _loads(response.text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for error in errors:
                if isinstance(error, dict):
                    text = ": ".join(str(error[key]) for key in ("code", "message") if error.get(key))
                    details = error.get("details")
                    parts.append(f"{text} ({details})" if details else text)
            return "; ".join(parts)
        if body.get("error"):
            return ": ".join(str(body[key]) for key in ("error", "error_description") if body.get(key))
    return f"HTTP {response.status_code}"


def _retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` when sent; else one request's worth of `x-amzn-RateLimit-Limit` (requests per second)."""
    sent = retry_after_seconds(response.headers.get("Retry-After"))
    if sent is not None:
        return sent
    limit = response.headers.get("x-amzn-RateLimit-Limit")
    try:
        rate = float(limit) if limit else 0.0
    except ValueError:
        rate = 0.0
    return 1.0 / rate if rate > 0 else None


def _raise_for_status(response: httpx.Response, what: str) -> None:
    """Map a non-2xx answer to base.py's errors (401/403 are handled by the caller first)."""
    status = response.status_code
    if status < 400:
        return
    message = f"{what}: HTTP {status}: {_error_message(response)}"
    if status == 429:
        raise ChannelRateLimited(message, _retry_after(response))
    if status >= 500:
        raise ChannelUnavailable(message)
    if status in (401, 403):
        raise ChannelAuthFailed(message)
    raise ChannelRejected(message)


class LwaTokens:
    """Login with Amazon access tokens for one refresh token, shared by all threads of a worker."""

    def __init__(
        self,
        http: httpx.Client,
        lwa_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._url = lwa_url
        self._form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._token, self._renew_at = self._fetch()
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` after Amazon refused it (unless another thread already replaced it)."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> tuple[str, float]:
        try:
            response = self._http.post(self._url, data=self._form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ChannelUnavailable(f"LWA token: {type(exc).__name__}") from None
        if response.status_code in (400, 401, 403):
            # invalid_grant / invalid_client / unauthorized_client: the settings are wrong, retrying cannot help.
            raise ChannelAuthFailed(f"LWA token refused: {_error_message(response)}")
        _raise_for_status(response, "LWA token")
        try:
            body = _loads(response.text)
            token, expires_in = str(body["access_token"]), int(body.get("expires_in", 3600))
        except (ValueError, TypeError, KeyError):
            raise ChannelUnavailable("LWA token: unexpected answer") from None
        lifetime = max(0.0, expires_in - TOKEN_MARGIN.total_seconds())
        return token, self._clock() + lifetime


class AmazonClient:
    """A sync SP-API client (activities run in threads); one per seller account and region."""

    def __init__(
        self,
        base_url: str,
        lwa_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        user_agent: str = USER_AGENT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self.tokens = LwaTokens(self._http, lwa_url, client_id, client_secret, refresh_token)
        self._user_agent = user_agent

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AmazonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        missing: Any = _RAISE,
    ) -> Any:
        """Call an operation; returns the parsed JSON body (Decimal for fractions) or None for an empty one.

        401/403 (an expired or revoked token) get one fresh token and one retry, then ChannelAuthFailed.
        A 404 returns `missing` when given, else raises ChannelRejected like any other 4xx.
        """
        for attempt in (1, 2):
            token = self.tokens.get()
            headers = {"x-amz-access-token": token, "user-agent": self._user_agent, "accept": "application/json"}
            content = None
            if body is not None:
                headers["content-type"] = "application/json"
                content = json.dumps(body, default=str).encode()
            try:
                response = self._http.request(method, path, params=params, content=content, headers=headers)
            except httpx.HTTPError as exc:
                raise ChannelUnavailable(f"{method} {path}: {type(exc).__name__}") from None
            if response.status_code in (401, 403) and attempt == 1:
                self.tokens.invalidate(token)
                continue
            if response.status_code == 404 and missing is not _RAISE:
                return missing
            _raise_for_status(response, f"{method} {path}")
            try:
                return _loads(response.text)
            except ValueError:
                raise ChannelUnavailable(f"{method} {path}: answer is not JSON") from None
        raise AssertionError("unreachable")  # pragma: no cover


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    """An SP-API time in UTC; ValueError when it is not one (or out of range: domain.times)."""
    return in_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


@dataclass
class _Cursor:
    """Where a pull stands; serialised as the opaque cursor string.

    after: the LastUpdatedAfter of the current pass (inclusive). token: getOrders' NextToken while paging.
    high: the newest LastUpdateDate seen in this pass. seen: order id -> LastUpdateDate already handed
    over at or after the next watermark, so the overlap repeats no unchanged order. done: ids of the
    current page already handed over when a throttled getOrderItems cut the page short.
    """

    after: str
    token: str | None = None
    high: str | None = None
    seen: dict[str, str] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)

    def dump(self) -> str:
        return json.dumps(
            {"v": 1, "after": self.after, "token": self.token, "high": self.high, "seen": self.seen, "done": self.done},
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, text: str) -> _Cursor:
        try:
            raw = json.loads(text)
            cursor = cls(
                after=str(raw["after"]),
                token=raw.get("token") or None,
                high=raw.get("high") or None,
                seen={str(k): str(v) for k, v in dict(raw.get("seen") or {}).items()},
                done=[str(i) for i in raw.get("done") or []],
            )
            _parse_time(cursor.after)
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"not an Amazon order cursor: {exc}") from None
        return cursor


class AmazonOrderSource:
    """New or changed orders, one getOrders page per pull, each with all its order items.

    Cursor semantics: a pass starts at the watermark (LastUpdatedAfter, inclusive) and follows NextToken
    (`more=True`) to its last page; then the watermark moves to the newest LastUpdateDate seen, never past
    two minutes ago (getOrders "has a systematic delay ... most updated orders data are available two
    minutes after", https://developer-docs.amazon.com/sp-api/docs/get-orders-with-filtering-criteria),
    minus `overlap`. Orders in the overlap whose LastUpdateDate did not change are not handed over again;
    an order updated later is. Pending and PendingAvailability orders are skipped: unpaid, and they come
    again when they turn Unshipped. Canceled orders are handed over with `cancelled=True`.

    getOrderItems allows a burst of 30 then 0.5/s, so `page_size` stays below the burst; if it throttles
    mid-page anyway, the orders fetched so far are handed over and the next pull repeats the page
    (`more=True`) skipping them, so throttling slows a backfill down but never stalls it.
    """

    SETTLE = timedelta(minutes=2)

    def __init__(
        self,
        client: AmazonClient,
        marketplace_ids: Sequence[str],
        *,
        lookback: timedelta = timedelta(days=1),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        page_size: int = 20,
        overlap: timedelta = timedelta(minutes=5),
    ) -> None:
        if not marketplace_ids or len(marketplace_ids) > 50:
            raise ValueError("getOrders needs 1 to 50 marketplace ids")
        if not 1 <= page_size <= 100:
            raise ValueError("MaxResultsPerPage must be 1-100")
        self._client = client
        self._marketplaces = ",".join(marketplace_ids)
        self._lookback = lookback
        self._now = now
        self._page_size = page_size
        self._overlap = overlap

    def pull(self, cursor: str | None) -> PullPage:
        now = self._now()
        settled = now - self.SETTLE
        state = _Cursor.load(cursor) if cursor else _Cursor(after=_iso(now - self._lookback))
        if state.token is None and _parse_time(state.after) > settled:
            state.after = _iso(settled)  # never ask for what Amazon may not have settled yet
        page = self._orders_page(state)
        orders: list[PulledOrder] = []
        throttled = False
        listed = page.get("Orders") or []
        if not isinstance(listed, list):
            raise ChannelUnavailable("getOrders: Orders is not a list")
        for order in listed:
            if not isinstance(order, dict) or not order.get("AmazonOrderId") or not order.get("LastUpdateDate"):
                raise ChannelUnavailable("getOrders: an order without AmazonOrderId or LastUpdateDate")
            order_id, updated = str(order["AmazonOrderId"]), str(order["LastUpdateDate"])
            if not (order_id.isascii() and order_id.isprintable()):  # it goes into a URL path
                raise ChannelUnavailable("getOrders: an AmazonOrderId that is not printable ASCII")
            try:
                changed = _parse_time(updated)
            except ValueError as exc:
                raise ChannelUnavailable(f"getOrders: a LastUpdateDate that is not a time ({str(exc)[:120]})") from None
            if state.high is None or changed > _parse_time(state.high):
                state.high = updated
            if order_id in state.done or state.seen.get(order_id) == updated or not is_fulfilable(order):
                continue
            try:
                items = self._items(order_id)
            except ChannelRateLimited:
                if not orders:
                    raise
                throttled = True
                break
            orders.append(PulledOrder(order_id, {"order": order, "items": items}, cancelled=is_cancelled(order)))
            state.seen[order_id] = updated
            state.done.append(order_id)
        if throttled:
            return PullPage(orders, state.dump(), more=True)
        state.done = []
        next_token = page.get("NextToken") or None
        watermark = max(
            _parse_time(state.after), min(_parse_time(state.high or _iso(settled)), settled) - self._overlap
        )
        state.seen = {i: u for i, u in state.seen.items() if _parse_time(u) >= watermark}
        if next_token:
            state.token = str(next_token)
            return PullPage(orders, state.dump(), more=True)
        return PullPage(orders, _Cursor(after=_iso(watermark), seen=state.seen).dump(), more=False)

    def _orders_page(self, state: _Cursor) -> dict[str, Any]:
        params: dict[str, str | int] = {
            "MarketplaceIds": self._marketplaces,
            "LastUpdatedAfter": state.after,
            "MaxResultsPerPage": self._page_size,
        }
        if state.token:
            params["NextToken"] = state.token
        body = self._client.request("GET", "/orders/v0/orders", params=params)
        payload = body.get("payload") if isinstance(body, dict) else None
        if not isinstance(payload, dict):
            raise ChannelUnavailable("getOrders: answer without payload")
        return payload

    def _items(self, order_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        path = f"/orders/v0/orders/{quote(order_id, safe='')}/orderItems"
        token: str | None = None
        while True:
            body = self._client.request("GET", path, params={"NextToken": token} if token else None)
            payload = body.get("payload") if isinstance(body, dict) else None
            if not isinstance(payload, dict):
                raise ChannelUnavailable("getOrderItems: answer without payload")
            found = payload.get("OrderItems") or []
            if not isinstance(found, list):
                raise ChannelUnavailable("getOrderItems: OrderItems is not a list")
            items.extend(found)
            token = payload.get("NextToken") or None
            if token is None:
                return items
            token = str(token)


# Amazon's carrier codes (the CarrierCode list of Seller Central and the feeds' amzn-base.xsd), keyed by
# our carrier name in lower case without spaces or punctuation; anything else goes as "Other" + carrierName.
CARRIER_CODES: dict[str, str] = {
    "usps": "USPS",
    "ups": "UPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "dhlexpress": "DHL",
    "dhlparcel": "DHL",
    "dhlpaket": "DHL",
    "deutschepost": "Deutsche Post",
    "dpd": "DPD",
    "gls": "GLS",
    "hermes": "Hermes Logistik Gruppe",
    "royalmail": "Royal Mail",
    "parcelforce": "Parcelforce",
    "yodel": "Yodel",
    "tnt": "TNT",
    "laposte": "La Poste",
    "chronopost": "Chronopost",
    "posteitaliane": "Poste Italiane",
    "sda": "SDA",
    "canadapost": "Canada Post",
    "ontrac": "OnTrac",
    "lasership": "Lasership",
    "indiapost": "India Post",
    "bluedart": "BlueDart",
    "delhivery": "Delhivery",
    "aramex": "Aramex",
}


def carrier_code(carrier: str) -> str:
    return CARRIER_CODES.get("".join(ch for ch in carrier.lower() if ch.isalnum()), "Other")


def package_reference_id(shipment_id: str) -> str:
    """confirmShipment takes "only positive numeric values": a stable number derived from our shipment id."""
    if shipment_id.isdigit() and int(shipment_id) > 0:
        return shipment_id
    return str(int.from_bytes(hashlib.sha256(shipment_id.encode()).digest()[:8], "big") % 999_999_999 + 1)


class AmazonShipmentConfirmer:
    """Tell Amazon a package left: confirmShipment, one call per package (our shipment)."""

    def __init__(self, client: AmazonClient, marketplace_id: str) -> None:
        self._client = client
        self._marketplace_id = marketplace_id

    def confirm_shipment(self, notice: ShipmentNotice) -> None:
        missing = [line.sku for line in notice.lines if not line.external_line_id]
        if missing or not notice.lines:
            raise ChannelRejected(f"Amazon needs the OrderItemId of every shipped line; missing for {missing}")
        code = carrier_code(notice.carrier)
        detail: dict[str, Any] = {
            "packageReferenceId": notice.extra.get("package_reference_id") or package_reference_id(notice.shipment_id),
            "carrierCode": code,
            "trackingNumber": notice.tracking_number,
            "shipDate": _iso(notice.shipped_at),
            "orderItems": [{"orderItemId": line.external_line_id, "quantity": line.quantity} for line in notice.lines],
        }
        if notice.carrier:
            detail["carrierName"] = notice.carrier  # required with "Other", harmless with a known code
        if notice.extra.get("shipping_method"):
            detail["shippingMethod"] = notice.extra["shipping_method"]
        path = f"/orders/v0/orders/{quote(notice.order_external_id, safe='')}/shipmentConfirmation"
        self._client.request("POST", path, body={"marketplaceId": self._marketplace_id, "packageDetail": detail})


_NO_LISTING: Any = object()


class AmazonListingsStockFeed:
    """How many of a SKU Amazon may sell from our stock: patchListingsItem on `fulfillment_availability`.

    `op` "replace" sets the attribute to exactly {DEFAULT, quantity}; "merge" (added June 2025,
    https://developer-docs.amazon.com/sp-api/docs/merge-a-listing) changes the quantity only and keeps
    a handling time (`lead_time_to_ship_max_days`) or `restock_date` set in Seller Central.
    A SKU with no listing (404) is skipped: not every SKU we stock is sold on Amazon. Submissions are
    processed asynchronously: ACCEPTED means queued; later issues surface in Seller Central.
    """

    def __init__(
        self,
        client: AmazonClient,
        seller_id: str,
        marketplace_ids: Sequence[str],
        *,
        op: Literal["replace", "merge"] = "replace",
        product_type: str = "PRODUCT",
    ) -> None:
        if not seller_id or not marketplace_ids:
            raise ValueError("the Listings Items API needs the seller id and at least one marketplace id")
        self._client = client
        self._seller_id = seller_id
        self._marketplaces = ",".join(marketplace_ids)
        self._op = op
        self._product_type = product_type

    def push(self, sku: str, quantity: int, sequence: int) -> None:
        # `sequence` needs no field at Amazon: the caller pushes each SKU's quantities in order.
        body = {
            "productType": self._product_type,
            "patches": [
                {
                    "op": self._op,
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": max(0, quantity)}],
                }
            ],
        }
        path = f"/listings/2021-08-01/items/{quote(self._seller_id, safe='')}/{quote(sku, safe='')}"
        params = {"marketplaceIds": self._marketplaces, "issueLocale": "en_US"}
        answer = self._client.request("PATCH", path, params=params, body=body, missing=_NO_LISTING)
        if answer is _NO_LISTING:
            return
        if isinstance(answer, dict) and answer.get("status") == "INVALID":
            issues = [f"{i.get('code')}: {i.get('message')}" for i in answer.get("issues") or [] if isinstance(i, dict)]
            raise ChannelRejected(f"listing {sku} refused the quantity: " + ("; ".join(issues) or "INVALID"))
