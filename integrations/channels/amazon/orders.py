"""Amazon orders in: getOrders and getOrderItems (SP-API Orders v0), as an `OrderSource` page by page."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from integrations.channels.amazon.client import AmazonClient, iso, parse_time
from integrations.channels.amazon.mapping import is_cancelled, is_fulfilable
from integrations.channels.base import PulledOrder, PullPage
from integrations.channels.errors import ChannelRateLimited, ChannelUnavailable


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
            parse_time(cursor.after)
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
        state = _Cursor.load(cursor) if cursor else _Cursor(after=iso(now - self._lookback))
        if state.token is None and parse_time(state.after) > settled:
            state.after = iso(settled)  # never ask for what Amazon may not have settled yet
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
                changed = parse_time(updated)
            except ValueError as exc:
                raise ChannelUnavailable(f"getOrders: a LastUpdateDate that is not a time ({str(exc)[:120]})") from None
            if state.high is None or changed > parse_time(state.high):
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
        watermark = max(parse_time(state.after), min(parse_time(state.high or iso(settled)), settled) - self._overlap)
        state.seen = {i: u for i, u in state.seen.items() if parse_time(u) >= watermark}
        if next_token:
            state.token = str(next_token)
            return PullPage(orders, state.dump(), more=True)
        return PullPage(orders, _Cursor(after=iso(watermark), seen=state.seen).dump(), more=False)

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
