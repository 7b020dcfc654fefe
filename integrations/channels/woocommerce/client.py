"""WooCommerce REST API v3: the client every outbound WooCommerce call goes through.

Endpoints (https://woocommerce.github.io/woocommerce-rest-api-docs/), all under `{shop}/wp-json/wc/v3`
with HTTP Basic auth (consumer key as user, consumer secret as password; HTTPS in production). Every
failure is one of integrations.channels.errors (through the shared `ChannelHttp`); nothing sleeps or
retries here: the Temporal activity around a call owns retries and backoff.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from integrations.channels.errors import ChannelRejected
from integrations.channels.http import ChannelHttp, parse_json

API_PATH = "/wp-json/wc/v3"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class ResourceNotFound(ChannelRejected):
    """404: the product, variation or order is not (or no longer) in the shop."""


def _error_message(response: httpx.Response) -> str:
    """WooCommerce's own words: {"code": ..., "message": ..., "data": {"status": ...}}."""
    try:
        body = parse_json(response.text)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        code = body.get("code")
        return f"{body['message']} ({code})" if isinstance(code, str) and code else body["message"]
    return f"HTTP {response.status_code}"


class WooCommerceClient:
    """A small sync client for the calls the engine makes (activities run in threads)."""

    def __init__(
        self,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        http = httpx.Client(
            base_url=base_url.rstrip("/") + API_PATH,
            auth=httpx.BasicAuth(consumer_key, consumer_secret),
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "oms-woocommerce/1"},
        )
        self._api = ChannelHttp("WooCommerce", http, describe=_error_message, not_found=ResourceNotFound)

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> WooCommerceClient:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """One request; the JSON answer with exact decimals, or a ChannelError (a maintenance page or a
        security plugin answering HTML: ChannelUnavailable)."""
        what = f"{method} {path}"
        response = self._api.send(method, path, what=what, params=params, json_body=body)
        return self._api.json(response, what)
