"""Per-channel selling rules and available-to-promise: what each channel may show as in stock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.order import CHANNELS
from domain.routing import RoutingConfigError, RoutingPolicy, policy_from_dict, policy_to_dict


@dataclass(frozen=True)
class ChannelPolicy:
    channel: str
    sells_from: tuple[str, ...] | None = None
    """Locations whose stock this channel may sell; None: every location."""
    safety_stock: int = 0
    """Units per SKU held back from this channel's available-to-promise."""
    routing: RoutingPolicy = field(default_factory=RoutingPolicy)


def channel_policy_from_dict(channel: str, data: Mapping[str, Any]) -> ChannelPolicy:
    """Parse a stored or submitted channel config; RoutingConfigError names the bad field."""
    if channel not in CHANNELS:
        raise RoutingConfigError(f"unknown channel {channel!r}")
    unknown = set(data) - {"sells_from", "safety_stock", "routing"}
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
    return ChannelPolicy(channel, tuple(sells_from) if sells_from is not None else None, safety, routing)


def channel_policy_to_dict(policy: ChannelPolicy) -> dict[str, Any]:
    return {
        "sells_from": list(policy.sells_from) if policy.sells_from is not None else None,
        "safety_stock": policy.safety_stock,
        "routing": policy_to_dict(policy.routing),
    }


def available_to_promise(available: Mapping[str, int], policies: Sequence[ChannelPolicy]) -> dict[str, int]:
    """ATP of one SKU per channel: the sum over the locations a channel sells from of what they can
    still promise (on hand - reserved - location safety stock), minus the channel's safety stock."""
    result: dict[str, int] = {}
    for policy in policies:
        locations = available if policy.sells_from is None else {k: available.get(k, 0) for k in policy.sells_from}
        result[policy.channel] = max(sum(max(units, 0) for units in locations.values()) - policy.safety_stock, 0)
    return result
