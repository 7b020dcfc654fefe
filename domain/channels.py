"""Per-channel selling rules and available-to-promise: what each channel may show as in stock."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.limits import INTEGER_MAX, SHOP
from domain.money import MoneyError, currency_exponent
from domain.order import CHANNELS
from domain.return_lifecycle import RefundTiming
from domain.routing import RoutingConfigError, RoutingPolicy, policy_from_dict, policy_to_dict

DEFAULT_SHOP = "default"
_SHOP = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class ChannelPolicy:
    channel: str
    sells_from: tuple[str, ...] | None = None
    """Locations whose stock this channel may sell; None: every location."""
    safety_stock: int = 0
    """Units per SKU held back from this channel's available-to-promise."""
    routing: RoutingPolicy = field(default_factory=RoutingPolicy)
    currencies: tuple[str, ...] | None = None
    """Currencies this channel sells in, within the engine-wide list (OMS_CURRENCIES); None: that list."""
    shop: str = DEFAULT_SHOP
    """The shop this channel's customers hold store credit at (domain.store_credit): channels naming
    the same shop share it (a retailer's web shop and its tills), until an admin splits them."""
    refund_timing: RefundTiming = RefundTiming.AT_RECEIPT
    """When a return's money goes back on this channel: when the parcel is received (the default),
    or as soon as the RMA is issued (trusted customers; a shortfall is then money to recover)."""


def channel_policy_from_dict(channel: str, data: Mapping[str, Any]) -> ChannelPolicy:
    """Parse a stored or submitted channel config; RoutingConfigError names the bad field."""
    if channel not in CHANNELS:
        raise RoutingConfigError(f"unknown channel {channel!r}")
    unknown = set(data) - {"sells_from", "safety_stock", "routing", "currencies", "shop", "refund_timing"}
    if unknown:
        raise RoutingConfigError(f"unknown channel settings: {', '.join(sorted(unknown))}")
    sells_from = data.get("sells_from")
    if sells_from is not None and (
        not isinstance(sells_from, list | tuple) or not all(isinstance(x, str) and x for x in sells_from)
    ):
        raise RoutingConfigError("sells_from must be a list of location ids, or null for every location")
    safety = data.get("safety_stock", 0)
    if isinstance(safety, bool) or not isinstance(safety, int) or safety < 0:
        raise RoutingConfigError("safety_stock must be a whole number >= 0")
    routing = policy_from_dict(data["routing"]) if data.get("routing") is not None else RoutingPolicy()
    currencies = _currencies(data.get("currencies"))
    sells = tuple(sells_from) if sells_from is not None else None
    timing = data.get("refund_timing") or RefundTiming.AT_RECEIPT.value
    if timing not in {member.value for member in RefundTiming}:
        known = " or ".join(member.value for member in RefundTiming)
        raise RoutingConfigError(f"refund_timing must be {known}")
    shop = _shop(data.get("shop", DEFAULT_SHOP))
    return ChannelPolicy(channel, sells, safety, routing, currencies, shop, RefundTiming(timing))


def _shop(value: Any) -> str:
    shop = value.strip().lower() if isinstance(value, str) else ""
    if not _SHOP.fullmatch(shop) or len(shop) > SHOP:
        raise RoutingConfigError(
            f"shop must be a name of at most {SHOP} characters: a-z, 0-9, '.', '_' or '-' (e.g. {DEFAULT_SHOP!r})"
        )
    return shop


def _currencies(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not value or not all(isinstance(code, str) for code in value):
        raise RoutingConfigError(
            'currencies must be a non-empty list of ISO 4217 codes (e.g. ["EUR"]), or null for OMS_CURRENCIES'
        )
    codes = tuple(dict.fromkeys(code.strip().upper() for code in value))
    for code in codes:
        try:
            currency_exponent(code)
        except MoneyError:
            raise RoutingConfigError(f"currencies: {code!r} is not an ISO 4217 currency") from None
    return codes


def channel_policy_to_dict(policy: ChannelPolicy) -> dict[str, Any]:
    return {
        "sells_from": list(policy.sells_from) if policy.sells_from is not None else None,
        "safety_stock": policy.safety_stock,
        "routing": policy_to_dict(policy.routing),
        "currencies": list(policy.currencies) if policy.currencies is not None else None,
        "shop": policy.shop,
        "refund_timing": policy.refund_timing.value,
    }


def sold_currencies(policy: ChannelPolicy, engine_wide: Sequence[str] | None) -> tuple[str, ...] | None:
    """What the channel may sell in: the engine-wide list narrowed by the channel's own; None: any."""
    if policy.currencies is None:
        return tuple(engine_wide) if engine_wide is not None else None
    if engine_wide is None:
        return policy.currencies
    return tuple(code for code in policy.currencies if code in engine_wide)


def currency_hold_reason(currency: str, policy: ChannelPolicy, engine_wide: Sequence[str] | None) -> str | None:
    """Why an order in this currency must wait for a person (None: we sell in it). Held, not
    refused: the customer has paid or will pay in it, and someone must decide what happens."""
    sold = sold_currencies(policy, engine_wide)
    if sold is None or currency in sold:
        return None
    where = f"on {policy.channel}" if policy.currencies is not None else "by this shop"
    return f"currency {currency} is not sold {where} (sold: {', '.join(sold) or 'none'})"


def available_to_promise(available: Mapping[str, int], policies: Sequence[ChannelPolicy]) -> dict[str, int]:
    """ATP of one SKU per channel: the sum over the locations a channel sells from of what they can
    still promise (on hand - reserved - location safety stock), minus the channel's safety stock."""
    result: dict[str, int] = {}
    for policy in policies:
        locations = available if policy.sells_from is None else {k: available.get(k, 0) for k in policy.sells_from}
        promise = max(sum(max(units, 0) for units in locations.values()) - policy.safety_stock, 0)
        # Many locations can together hold more than a 32-bit count; no channel needs to hear more.
        result[policy.channel] = min(promise, INTEGER_MAX)
    return result
