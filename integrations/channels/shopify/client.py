"""Shopify's GraphQL Admin API: the client every outbound Shopify call goes through.

`ShopifyAdminClient.graphql` posts to ``{shop}/admin/api/{version}/graphql.json`` through the shared
`ChannelHttp` (HTTP status → `ChannelError`, Retry-After) and adds the two refusals Shopify sends as
HTTP 200: a ``THROTTLED`` GraphQL error (cost-based rate limit, waiting as the leaky bucket says) and
a mutation's ``userErrors``. The stock feed, the fulfilments and the cancellations build on it.

Reference: https://shopify.dev/docs/api/admin-graphql and https://shopify.dev/docs/api/usage/limits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from integrations.channels.errors import (
    ChannelAuthFailed,
    ChannelError,
    ChannelRateLimited,
    ChannelRejected,
    ChannelUnavailable,
)
from integrations.channels.http import ChannelHttp, asked_wait, parse_json

DEFAULT_API_VERSION = "2025-10"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
_SHOPIFY_GID = re.compile(r"^gid://shopify/(?P<type>[A-Za-z]+)/(?P<id>\d+)$")


def shopify_gid(resource: str, value: str | int) -> str:
    """``gid://shopify/<resource>/<id>`` from a numeric id or the gid itself (checked, never guessed)."""
    text = str(value).strip()
    match = _SHOPIFY_GID.fullmatch(text)
    if match and match["type"] == resource:
        return text
    if text.isdigit():
        return f"gid://shopify/{resource}/{text}"
    raise ValueError(f"not a Shopify {resource} id: {text!r}")


def legacy_id(value: str) -> str:
    """The numeric tail of a gid (``gid://shopify/LineItem/13`` → ``13``); a number stays itself."""
    return value.strip().rsplit("/", 1)[-1]


def at_least(api_version: str, since: str) -> bool:
    return api_version == "unstable" or api_version >= since  # "YYYY-MM" sorts as text


class ShopifyUserErrors(ChannelRejected):
    """A mutation answered with `userErrors`: Shopify understood the request and refused it."""

    def __init__(self, root_field: str, errors: Sequence[Mapping[str, Any]]) -> None:
        self.root_field = root_field
        self.user_errors = [dict(error) for error in errors]
        self.codes = frozenset(str(error["code"]) for error in self.user_errors if error.get("code"))
        details = "; ".join(_user_error_text(error) for error in self.user_errors)
        super().__init__(f"Shopify refused {root_field}: {details}")


def _user_error_text(error: Mapping[str, Any]) -> str:
    field = error.get("field")
    where = ".".join(str(part) for part in field) if isinstance(field, list) and field else ""
    message = str(error.get("message") or "no message")
    return f"{where}: {message}" if where else message


class ShopifyAdminClient:
    """One shop's GraphQL Admin API. Sync (activities run in threads); never retries or sleeps itself."""

    def __init__(
        self,
        shop_url: str,
        access_token: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if not shop_url.strip() or not access_token:
            raise ValueError("a Shopify shop URL and access token are required")
        base = shop_url.strip().rstrip("/")
        if "://" not in base:
            base = f"https://{base}"
        self.api_version = api_version
        self.endpoint = f"{base}/admin/api/{api_version}/graphql.json"
        http = httpx.Client(
            timeout=timeout,
            headers={"X-Shopify-Access-Token": access_token, "Accept": "application/json"},
        )
        self._api = ChannelHttp("Shopify", http, describe=_error_text, rate_limit_wait=_rate_limit_wait)

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> ShopifyAdminClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run one query or mutation and return its `data`; raises a `ChannelError` for anything else."""
        request = {"query": query, "variables": dict(variables or {})}
        response = self._api.send("POST", self.endpoint, what="GraphQL", json_body=request)
        body = self._api.json(response, "GraphQL")  # a proxy's HTML page in front of a 200: an outage
        if not isinstance(body, dict):
            raise ChannelUnavailable("Shopify answered with unexpected JSON")
        if body.get("errors"):
            raise _graphql_error(body["errors"], body.get("extensions"))
        data = body.get("data")
        if not isinstance(data, dict):
            raise ChannelUnavailable("Shopify answered without data")
        for root_field, payload in data.items():
            if isinstance(payload, dict) and payload.get("userErrors"):
                raise ShopifyUserErrors(root_field, payload["userErrors"])
        return data


def _rate_limit_wait(response: httpx.Response) -> float | None:
    """Retry-After; a 429 without it may still carry the GraphQL cost extension."""
    asked = asked_wait(response)
    if asked is not None:
        return asked
    try:
        body = parse_json(response.text)
    except ValueError:
        return None
    return throttle_wait(body.get("extensions")) if isinstance(body, dict) else None


def _error_text(response: httpx.Response) -> str:
    """Shopify's own words: ``{"errors": "..."}``, ``{"errors": {field: [...]}}`` or a list of messages."""
    try:
        body = parse_json(response.text)
    except ValueError:
        return response.reason_phrase or "no details"
    errors = body.get("errors", body.get("error")) if isinstance(body, dict) else body
    if isinstance(errors, list):
        text = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
    elif isinstance(errors, dict):
        text = "; ".join(f"{key}: {value}" for key, value in errors.items())
    else:
        text = str(errors) if errors else response.reason_phrase
    return text[:500] or "no details"


def _graphql_error(errors: Any, extensions: Any) -> ChannelError:
    items: list[Any] = errors if isinstance(errors, list) else [errors]
    codes: set[str] = set()
    messages: list[str] = []
    for raw in items:
        item: dict[str, Any] = raw if isinstance(raw, dict) else {"message": str(raw)}
        found = item.get("extensions")
        item_extensions: dict[str, Any] = found if isinstance(found, dict) else {}
        codes.add(str(item_extensions.get("code") or ""))
        messages.append(str(item.get("message") or "no message"))
        # The docs once nested the cost in the error's extensions; the API puts it at the top level.
        if not isinstance(extensions, dict) and "cost" in item_extensions:
            extensions = item_extensions
    text = "; ".join(messages)[:500]
    if "THROTTLED" in codes:
        return ChannelRateLimited(f"Shopify throttled the query: {text}", throttle_wait(extensions))
    if "ACCESS_DENIED" in codes:
        return ChannelAuthFailed(f"Shopify denied access (missing scope?): {text}")
    if codes & {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}:
        return ChannelUnavailable(f"Shopify failed: {text}")
    return ChannelRejected(f"Shopify refused the query: {text}")


def throttle_wait(extensions: Any) -> float | None:
    """Seconds until the leaky bucket holds the query's requested cost again.

    `extensions.cost` = {requestedQueryCost, throttleStatus: {currentlyAvailable, restoreRate, ...}}:
    the deficit refills at `restoreRate` points per second. At least one point's worth, so never 0.
    """
    try:
        cost = extensions["cost"]
        requested = Decimal(str(cost["requestedQueryCost"]))
        available = Decimal(str(cost["throttleStatus"]["currentlyAvailable"]))
        rate = Decimal(str(cost["throttleStatus"]["restoreRate"]))
    except (KeyError, TypeError, InvalidOperation):
        return None
    if not rate.is_finite() or rate <= 0:
        return None
    return float(max(requested - available, Decimal(1)) / rate)


# Response models: only the fields we select, extra ignored (a connection may come as nodes or edges).

T = TypeVar("T")


class AnswerModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Connection(AnswerModel, Generic[T]):
    nodes: list[T] = []

    @model_validator(mode="before")
    @classmethod
    def _edges_to_nodes(cls, value: Any) -> Any:
        if isinstance(value, dict) and "nodes" not in value and isinstance(value.get("edges"), list):
            return {"nodes": [edge.get("node") for edge in value["edges"] if isinstance(edge, dict)]}
        return value


class Ref(AnswerModel):
    id: str


def parse_answer(model: type[BaseModel], value: Any, what: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise ChannelRejected(f"Shopify answered an unexpected {what}: {exc.error_count()} invalid field(s)") from exc
