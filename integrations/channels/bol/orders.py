"""Bol.com orders in: sweeps over `GET /retailer/orders` (status ALL, to see cancellations) and each
changed order's details, as an `OrderSource` page by page."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.times import in_utc
from integrations.channels.base import PulledOrder, PullPage
from integrations.channels.bol.client import BolClient
from integrations.channels.bol.mapping import FBB, FBR, cancellation_requested, is_cancelled, is_fully_shipped
from integrations.channels.errors import ChannelRejected

log = logging.getLogger("oms.channels.bol")


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
        requested = cancellation_requested(detail)
        return PulledOrder(
            external_id=order_id,
            payload=detail,
            cancelled=cancelled,
            confirm_cancel=requested if cancelled else (),
            cancel_items=() if cancelled else requested,
        )


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
