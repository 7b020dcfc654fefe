"""How a channel wants its orders routed: an ordered list of rules, each a filter, a sort and a split policy.

A policy is configuration (stored per channel as JSON), so every value is checked when it is built:
a typo in a sort key must fail when the channel is set up, not quietly route orders another way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar


class RoutingConfigError(ValueError):
    """A routing policy that cannot be used; the message names the field and the bad value."""


class SortKey(StrEnum):
    DISTANCE = "distance"
    CAPACITY = "capacity"
    STOCK_BALANCE = "stock_balance"
    COST = "cost"
    PRIORITY = "priority"


class SplitMode(StrEnum):
    NEVER = "never"
    ALLOWED = "allowed"


class Fallback(StrEnum):
    NEXT_RULE = "next_rule"
    BACKORDER = "backorder"
    HOLD = "hold"
    CANCEL = "cancel"


class PartialPolicy(StrEnum):
    SHIP_AVAILABLE = "ship_available"
    WAIT_FOR_ALL = "wait_for_all"


LOCATION_KINDS = ("warehouse", "store", "dropship")

TIE_BREAKERS = (SortKey.COST, SortKey.PRIORITY, SortKey.DISTANCE)
"""What decides when a rule's own sort keys tie, in this order, before the location id. Without it two
locations with no cost profile (both cost 0) went to the one first in the alphabet, 158 km away rather
than 1 km. Priority comes before distance because it only differs when someone set it on purpose."""

_E = TypeVar("_E", bound=StrEnum)


def _enum(kind: type[_E], value: object, field: str) -> _E:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    allowed = ", ".join(member.value for member in kind)
    raise RoutingConfigError(f"{field}: unknown value {value!r} (expected one of: {allowed})")


MAX_AUTO_CANCEL_DAYS = 3650
"""Ten years: longer than any backorder is kept, far inside what a datetime can add."""


def _count(value: object, field: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RoutingConfigError(f"{field}: expected an integer, got {value!r}")
    if value < minimum:
        raise RoutingConfigError(f"{field}: must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise RoutingConfigError(f"{field}: must be at most {maximum}, got {value}")
    return value


@dataclass(frozen=True)
class SplitPolicy:
    mode: SplitMode = SplitMode.ALLOWED
    min_part_value_minor: int = 0
    """Every shipment of a split (or of a partial delivery) must carry at least this much order value."""
    max_shipments: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", _enum(SplitMode, self.mode, "mode"))
        _count(self.min_part_value_minor, "min_part_value_minor", 0)
        _count(self.max_shipments, "max_shipments", 1)


@dataclass(frozen=True)
class RoutingRule:
    name: str = "default"
    location_groups: tuple[str, ...] = ()
    """Empty: any group."""
    location_kinds: tuple[str, ...] = ()
    """Empty: warehouse, dropship and store. A store ships only with ship_from_store, whatever this says."""
    max_distance_km: float | None = None
    """Radius from the destination; a location whose distance is unknown fails it."""
    require_capacity: bool = True
    """Skip locations whose remaining daily order capacity is 0."""
    routing_safety_stock: int = 0
    """Units per SKU per location this rule leaves untouched."""
    sort: tuple[SortKey, ...] = (SortKey.COST, SortKey.PRIORITY)
    """Best first by these keys; ties fall through to `TIE_BREAKERS` not named here, then location id."""
    split: SplitPolicy = SplitPolicy()
    when_unfillable: Fallback = Fallback.NEXT_RULE

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise RoutingConfigError(f"name: a rule needs a non-empty name, got {self.name!r}")
        for field in ("location_groups", "location_kinds"):
            values = getattr(self, field)
            if isinstance(values, str) or not all(isinstance(v, str) for v in values):
                raise RoutingConfigError(f"{field}: expected a list of strings, got {values!r}")
            object.__setattr__(self, field, tuple(values))
        for kind in self.location_kinds:
            if kind not in LOCATION_KINDS:
                raise RoutingConfigError(
                    f"location_kinds: unknown kind {kind!r} (expected one of: {', '.join(LOCATION_KINDS)})"
                )
        radius = self.max_distance_km
        if radius is not None:
            if isinstance(radius, bool) or not isinstance(radius, int | float):
                raise RoutingConfigError(f"max_distance_km: expected a number or null, got {radius!r}")
            if not math.isfinite(radius) or radius < 0:
                raise RoutingConfigError(f"max_distance_km: must be a finite number >= 0, got {radius!r}")
            object.__setattr__(self, "max_distance_km", float(radius))
        if not isinstance(self.require_capacity, bool):
            raise RoutingConfigError(f"require_capacity: expected true or false, got {self.require_capacity!r}")
        _count(self.routing_safety_stock, "routing_safety_stock", 0)
        if isinstance(self.sort, str):
            raise RoutingConfigError(f"sort: expected a list of sort keys, got {self.sort!r}")
        keys = tuple(_enum(SortKey, key, "sort") for key in self.sort)
        if len(set(keys)) != len(keys):
            raise RoutingConfigError(f"sort: a key appears twice in {[k.value for k in keys]}")
        object.__setattr__(self, "sort", keys)
        if not isinstance(self.split, SplitPolicy):
            raise RoutingConfigError(f"split: expected a split policy, got {self.split!r}")
        object.__setattr__(self, "when_unfillable", _enum(Fallback, self.when_unfillable, "when_unfillable"))

    @property
    def ranking(self) -> tuple[SortKey, ...]:
        """Every key locations are ranked by: the configured sort, then the tie-breakers it leaves out."""
        return self.sort + tuple(key for key in TIE_BREAKERS if key not in self.sort)


@dataclass(frozen=True)
class RoutingPolicy:
    rules: tuple[RoutingRule, ...] = (RoutingRule(),)
    partial: PartialPolicy = PartialPolicy.WAIT_FOR_ALL
    when_nothing_fits: Fallback = Fallback.BACKORDER
    """Used when the last rule says NEXT_RULE."""
    auto_cancel_after_days: int | None = None
    """A backordered order is cancelled after this many days (the workflow enforces it); at most
    MAX_AUTO_CANCEL_DAYS, since the workflow adds it to its clock (more would overflow a datetime)."""

    def __post_init__(self) -> None:
        if isinstance(self.rules, RoutingRule) or not self.rules:
            raise RoutingConfigError("rules: a policy needs at least one rule")
        rules = tuple(self.rules)
        if not all(isinstance(rule, RoutingRule) for rule in rules):
            raise RoutingConfigError("rules: expected routing rules")
        names = [rule.name for rule in rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise RoutingConfigError(f"rules: rule names must be unique, {', '.join(map(repr, duplicates))} repeats")
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "partial", _enum(PartialPolicy, self.partial, "partial"))
        fallback = _enum(Fallback, self.when_nothing_fits, "when_nothing_fits")
        if fallback is Fallback.NEXT_RULE:
            raise RoutingConfigError(
                "when_nothing_fits: there is no rule after the last one; use backorder, hold or cancel"
            )
        object.__setattr__(self, "when_nothing_fits", fallback)
        if self.auto_cancel_after_days is not None:
            _count(self.auto_cancel_after_days, "auto_cancel_after_days", 1, MAX_AUTO_CANCEL_DAYS)


# JSON shape ------------------------------------------------------------------------------------------

_POLICY_KEYS = frozenset({"rules", "partial", "when_nothing_fits", "auto_cancel_after_days"})
_RULE_KEYS = frozenset(
    {
        "name",
        "location_groups",
        "location_kinds",
        "max_distance_km",
        "require_capacity",
        "routing_safety_stock",
        "sort",
        "split",
        "when_unfillable",
    }
)
_SPLIT_KEYS = frozenset({"mode", "min_part_value_minor", "max_shipments"})


def _mapping(data: object, path: str, keys: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise RoutingConfigError(f"{path or 'policy'}: expected an object, got {type(data).__name__}")
    unknown = sorted(str(key) for key in data if key not in keys)
    if unknown:
        raise RoutingConfigError(
            f"{path or 'policy'}: unknown field {', '.join(map(repr, unknown))} (expected: {', '.join(sorted(keys))})"
        )
    return data


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise RoutingConfigError(f"{path}: expected a list, got {value!r}")
    return list(value)


def _build(path: str, build: Any, **fields: Any) -> Any:
    """Construct a config object, naming where in the document a bad value sits."""
    try:
        return build(**fields)
    except RoutingConfigError as exc:
        raise RoutingConfigError(f"{path}.{exc}" if path else str(exc)) from None


def _split_from_dict(data: object, path: str) -> SplitPolicy:
    fields = dict(_mapping(data, path, _SPLIT_KEYS))
    split: SplitPolicy = _build(path, SplitPolicy, **fields)
    return split


def _rule_from_dict(data: object, path: str) -> RoutingRule:
    fields = dict(_mapping(data, path, _RULE_KEYS))
    for key in ("location_groups", "location_kinds", "sort"):
        if key in fields:
            fields[key] = tuple(_list(fields[key], f"{path}.{key}"))
    if "split" in fields:
        fields["split"] = _split_from_dict(fields["split"], f"{path}.split")
    rule: RoutingRule = _build(path, RoutingRule, **fields)
    return rule


def policy_from_dict(data: Mapping[str, Any]) -> RoutingPolicy:
    """Parse a JSON-shaped policy; missing fields take their defaults, unknown fields are refused."""
    fields = dict(_mapping(data, "", _POLICY_KEYS))
    if "rules" in fields:
        raw_rules = _list(fields["rules"], "rules")
        if not raw_rules:
            raise RoutingConfigError("rules: a policy needs at least one rule")
        fields["rules"] = tuple(_rule_from_dict(rule, f"rules[{i}]") for i, rule in enumerate(raw_rules))
    policy: RoutingPolicy = _build("", RoutingPolicy, **fields)
    return policy


def policy_to_dict(policy: RoutingPolicy) -> dict[str, Any]:
    """The JSON shape of a policy, every field spelled out; policy_from_dict reads it back unchanged."""
    return {
        "rules": [
            {
                "name": rule.name,
                "location_groups": list(rule.location_groups),
                "location_kinds": list(rule.location_kinds),
                "max_distance_km": rule.max_distance_km,
                "require_capacity": rule.require_capacity,
                "routing_safety_stock": rule.routing_safety_stock,
                "sort": [key.value for key in rule.sort],
                "split": {
                    "mode": rule.split.mode.value,
                    "min_part_value_minor": rule.split.min_part_value_minor,
                    "max_shipments": rule.split.max_shipments,
                },
                "when_unfillable": rule.when_unfillable.value,
            }
            for rule in policy.rules
        ],
        "partial": policy.partial.value,
        "when_nothing_fits": policy.when_nothing_fits.value,
        "auto_cancel_after_days": policy.auto_cancel_after_days,
    }
