"""What the API measures of itself: each request's latency per route template and status class
(never the raw path: an order id in a label would make a series per order), webhook deliveries
refused and why, and one log line per request naming its route, never its raw path.

Counters and histograms are this process's (prometheus_client's default registry); compose runs
one uvicorn process per API container, so a scrape sees everything the container counted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi.routing import APIRoute
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.errors import Unprocessable

log = logging.getLogger("oms.http")

ROUTINE_ROUTES = frozenset({"/health", "/metrics"})
UNMATCHED = "<unmatched>"
"""The route of a request no route took: a 404, or one refused before routing (api.request_guards)."""

HTTP_LATENCY = Histogram(
    "oms_http_request_duration_seconds",
    "Time to answer an HTTP request, per method, route template and status class",
    ["method", "route", "status"],
)
WEBHOOK_REJECTIONS = Counter(
    "oms_webhook_rejections",
    "Webhook deliveries refused, per webhook (shopify, woocommerce, a payment or carrier's) and reason",
    ["webhook", "reason"],
)

REJECTION_REASONS = {400: "malformed", 401: "bad_signature", 413: "oversized", 422: "unprocessable"}
"""A webhook's refusal, by the status it is answered with (api.routes.webhooks, api.request_guards)."""
UNKNOWN_WEBHOOK = "unknown"


def count_webhook_rejection(webhook: str, status: int) -> None:
    reason = REJECTION_REASONS.get(status)
    if reason is not None:
        WEBHOOK_REJECTIONS.labels(webhook=webhook, reason=reason).inc()


def count_oversized(path: str) -> None:
    """api.request_guards.BodyLimit's refusal, read off the raw path: counted under the webhook it
    names when a route serves it, else as `unknown` (a made-up path adds no series)."""
    prefix, _, name = path.partition("/webhooks/")
    if not prefix and name:
        name = name.strip("/")
        count_webhook_rejection(name if name in WebhookRoute.names else UNKNOWN_WEBHOOK, 413)


class WebhookRoute(APIRoute):
    """The webhook routes' class (api.routes.webhooks): a delivery the route refuses (bad
    signature, malformed, not an order we can take) is counted under the webhook its route names
    (`/webhooks/shopify`: shopify). A body past its cap is counted where it is refused
    (count_oversized), not here again."""

    names: set[str] = set()
    """Every webhook a route serves, for count_oversized."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        webhook = self.path.rstrip("/").rsplit("/", 1)[-1]
        WebhookRoute.names.add(webhook)

        async def counted(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                if exc.status_code != 413:
                    count_webhook_rejection(webhook, exc.status_code)
                raise
            except Unprocessable:
                count_webhook_rejection(webhook, 422)
                raise

        return counted


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class HttpMetrics:
    """ASGI middleware, outermost: times every request, labels it with the route template the
    router matched, and writes the request's log line (method, route, status, duration)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        structlog.contextvars.clear_contextvars()  # nothing bound by an earlier request on this context
        status = 500  # what the client gets if the app fails before it answers
        started = time.perf_counter()
        answered: float | None = None

        async def watched(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = time.perf_counter()

        try:
            await self.app(scope, receive, watched)
        finally:
            # Until the answer's last byte: a background task after it (intake's workflow start) is
            # not the request's time.
            elapsed = (answered or time.perf_counter()) - started
            route = route_template(scope)
            method = str(scope.get("method", ""))
            HTTP_LATENCY.labels(method=method, route=route, status=f"{status // 100}xx").observe(elapsed)
            extra: dict[str, Any] = {"route": route, "status": status, "duration_ms": round(elapsed * 1000, 1)}
            # Health checks and scrapes come every few seconds: their lines only when asked (or failing).
            level = logging.DEBUG if route in ROUTINE_ROUTES and status < 400 else logging.INFO
            log.log(level, "%s %s %d", method, route, status, extra=extra)


async def bind_route_ids(request: Request) -> None:
    """An app-wide dependency: the order (or shipment) a route works on goes on every log line of
    its request. Async on purpose: a sync dependency runs on another thread, whose binding the
    route would never see."""
    ids = {key: value for key, value in request.path_params.items() if key in ("order_id", "shipment_id")}
    if ids:
        structlog.contextvars.bind_contextvars(**ids)
