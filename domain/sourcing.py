"""Choosing where an order ships from: `plan_shipments` routes by a channel's policy, splitting
where allowed."""

from __future__ import annotations

import heapq
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain import geo
from domain.routing import Fallback, PartialPolicy, RoutingPolicy, RoutingRule, SortKey, SplitMode

# Multi-location sourcing ---------------------------------------------------------------------------
#
# plan_shipments routes an order by a channel's RoutingPolicy: rules in order, each filtering the
# locations, sorting them and deciding whether and how far to split. It reads no clock and no database:
# the caller passes the stock it just read, so a lost reservation race is re-planned with fresh stock.


class SourcingError(ValueError):
    """The request itself cannot be planned (negative demand, two locations with one id)."""


@dataclass(frozen=True)
class CostProfile:
    base_minor: int = 0
    """Fixed cost per shipment from this location, in minor units of the order currency."""
    per_km_minor: int = 0
    """Added per km of distance to the destination (the product rounded half up to a whole total)."""


@dataclass(frozen=True)
class SourcingLocation:
    location_id: str
    kind: str
    """"warehouse" | "store" | "dropship"."""
    country: str
    latitude: float | None = None
    longitude: float | None = None
    priority: int = 100
    """Lower is preferred."""
    group: str = ""
    cost: CostProfile = CostProfile()
    ship_from_store: bool = False
    remaining_capacity: int | None = None
    """Orders it can still take today; None: unlimited."""
    active: bool = True


@dataclass(frozen=True)
class Destination:
    country: str
    latitude: float | None = None
    longitude: float | None = None
    pickup_location_id: str | None = None
    """Click & collect: the store the customer collects from."""


@dataclass(frozen=True)
class SourcingRequest:
    demand: Mapping[str, int]
    """SKU → units."""
    unit_values: Mapping[str, int]
    """SKU → value per unit in minor units (for a split's minimum part value)."""
    destination: Destination


class PlanOutcome(StrEnum):
    SHIP = "ship"
    PARTIAL = "partial"
    BACKORDER = "backorder"
    HOLD = "hold"
    CANCEL = "cancel"


@dataclass(frozen=True)
class PlannedShipment:
    location_id: str
    lines: tuple[tuple[str, int], ...]
    """(sku, units), sorted by sku."""
    distance_km: float | None
    cost_minor: int
    transfer_to: str | None = None
    """Click & collect sourced elsewhere: ship to this store first."""


@dataclass(frozen=True)
class SourcingPlan:
    outcome: PlanOutcome
    shipments: tuple[PlannedShipment, ...]
    unfilled: tuple[tuple[str, int], ...]
    """(sku, units) nobody can ship now, sorted by sku."""
    rule: str | None
    """Name of the rule that decided; None when the policy's last resort did."""
    reasons: tuple[str, ...]
    """Human-readable, in decision order."""

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons)


def shipping_cost_minor(cost: CostProfile, distance: float | None) -> int:
    """Base + per km x distance, rounded half up; with the distance unknown only the base is known."""
    if distance is None:
        return cost.base_minor
    return cost.base_minor + math.floor(cost.per_km_minor * distance + 0.5)


_MAX_SKIP_LINES = 5
_DEFAULT_KINDS = frozenset({"warehouse", "dropship", "store"})
_FALLBACK_WORDS = {
    Fallback.NEXT_RULE: "next rule",
    Fallback.BACKORDER: "backorder",
    Fallback.HOLD: "hold for a person",
    Fallback.CANCEL: "cancel",
}
_BEST_BY = {
    SortKey.COST: "cheapest",
    SortKey.DISTANCE: "nearest",
    SortKey.CAPACITY: "most capacity left",
    SortKey.STOCK_BALANCE: "most stock",
    SortKey.PRIORITY: "first by priority",
}
_EQUAL_ON = {
    SortKey.COST: "cost",
    SortKey.DISTANCE: "distance",
    SortKey.CAPACITY: "capacity left",
    SortKey.STOCK_BALANCE: "stock",
    SortKey.PRIORITY: "priority",
}
_OUTCOME_FOR = {
    Fallback.BACKORDER: PlanOutcome.BACKORDER,
    Fallback.HOLD: PlanOutcome.HOLD,
    Fallback.CANCEL: PlanOutcome.CANCEL,
    Fallback.NEXT_RULE: PlanOutcome.BACKORDER,  # RoutingPolicy refuses it as a last resort; just in case
}


@dataclass(slots=True)
class _Site:
    """One location with everything about it that does not depend on the rule, computed once per plan."""

    location: SourcingLocation
    distance: float | None
    cost: int
    raw: list[int]
    """Units available per demanded SKU (in the plan's SKU order), never below 0."""
    relevant: bool
    """Holds any of the demanded SKUs: worth explaining when it is skipped."""


# Sort values that do not depend on the rule; smaller sorts first.
_STATIC_SORT: dict[SortKey, Callable[[_Site], Any]] = {
    SortKey.COST: lambda site: site.cost,
    SortKey.DISTANCE: lambda site: math.inf if site.distance is None else site.distance,
    SortKey.CAPACITY: lambda site: (
        -math.inf if site.location.remaining_capacity is None else -site.location.remaining_capacity
    ),
    SortKey.PRIORITY: lambda site: site.location.priority,
}


@dataclass(slots=True)
class _Job:
    skus: list[str]
    wanted: list[int]
    values: list[int]
    total: int
    sites: list[_Site]
    pickup: int | None
    """Index in sites of the click & collect store."""
    ids: list[str] = field(default_factory=list)
    sort_columns: dict[SortKey, list[Any]] = field(default_factory=dict)
    """Sort values that do not depend on the rule, per site, computed for the first rule that needs them."""


@dataclass(slots=True)
class _Part:
    site: int
    take: list[int]


@dataclass(slots=True)
class _RuleResult:
    filled: bool
    parts: list[_Part]
    remaining: list[int]
    notes: list[str]
    """What this rule skipped and why (always reported)."""
    decision: list[str]
    """How the parts were chosen (reported when they ship)."""
    why_not: str = ""
    in_store: bool = False


def _km(distance: float) -> str:
    return f"{distance:.0f}" if distance >= 10 else f"{distance:.1f}"


def _where(site: _Site) -> str:
    distance = "distance unknown" if site.distance is None else f"{_km(site.distance)} km"
    return f"{distance}, cost {site.cost}"


def _filter_reason(rule: RoutingRule, site: _Site, is_pickup: bool) -> str | None:
    """Why the rule does not consider this location at all, or None when it does."""
    loc = site.location
    if not loc.active:
        return "inactive"
    kinds = rule.location_kinds or _DEFAULT_KINDS
    if loc.kind not in kinds:
        return f"kind {loc.kind} excluded" if rule.location_kinds else f"kind {loc.kind!r} is not routable"
    if loc.kind == "store" and not loc.ship_from_store and not is_pickup:
        return "ship-from-store off"
    if rule.location_groups and loc.group not in rule.location_groups:
        return f"group {loc.group!r} excluded" if loc.group else "no group"
    radius = rule.max_distance_km
    if radius is not None:
        if site.distance is None:
            return f"distance unknown for the {radius:g} km radius"
        if site.distance > radius:
            shown = f"{site.distance:.0f}" if site.distance - radius >= 1 else f"{site.distance:.1f}"
            return f"{shown} km beyond the {radius:g} km radius"
    if rule.require_capacity and loc.remaining_capacity is not None and loc.remaining_capacity <= 0:
        return "capacity reached"
    return None


def _shortage(job: _Job, units: list[int]) -> str:
    short = [
        f"{sku} (needs {wanted}, has {has})"
        for sku, wanted, has in zip(job.skus, job.wanted, units, strict=True)
        if has < wanted
    ]
    more = f" and {len(short) - 3} more" if len(short) > 3 else ""
    return "short of " + ", ".join(short[:3]) + more


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _rank(rule: RoutingRule, job: _Job, indices: list[int], usable: list[list[int]]) -> tuple[list[int], list[Any]]:
    """The given site indices, best first by the rule's ranking (its sort, then the tie-breakers), then
    location id; and every site's sort key (one value per ranking key, then the id)."""
    sites = job.sites
    columns: list[list[Any]] = []
    for key in rule.ranking:
        if key == SortKey.STOCK_BALANCE:
            columns.append([-sum(units) for units in usable])
        else:
            column = job.sort_columns.get(key)
            if column is None:
                column = job.sort_columns[key] = [_STATIC_SORT[key](site) for site in sites]
            columns.append(column)
    columns.append(job.ids)
    keys = list(zip(*columns, strict=True))
    return sorted(indices, key=keys.__getitem__), keys


def _decided_by(rule: RoutingRule, best: tuple[Any, ...], runner_up: tuple[Any, ...]) -> str:
    """What put the best location ahead of the next one: the first key they differ on, and the keys they
    tie on before it ("nearest ... at equal cost and priority")."""
    ranking = rule.ranking
    at = next(n for n, (mine, theirs) in enumerate(zip(best, runner_up, strict=True)) if mine != theirs)
    best_by = (_BEST_BY[ranking[at]] if at < len(ranking) else "first by id") + " with full stock"
    return f"{best_by} at equal {_words([_EQUAL_ON[key] for key in ranking[:at]])}" if at else best_by


def _greedy(
    job: _Job, candidates: list[int], usable: list[list[int]], covers: list[int], max_parts: int, min_value: int
) -> _RuleResult:
    """Fewest shipments by greedy set cover: take the candidate covering the most remaining units.

    Lazy evaluation: what a candidate covers only shrinks as units are assigned, so its last count is
    an upper bound and only candidates that could still win are recounted. Heap entries carry the
    rank position, so equal counts go to the rule's sort. A candidate whose part would be worth less
    than the minimum value is passed over for good (its part can only get smaller).
    """
    remaining = list(job.wanted)
    left = job.total
    parts: list[_Part] = []
    unused = set(range(len(candidates)))
    heap = [(-covers[pos], pos, 0) for pos in range(len(candidates)) if covers[pos]]
    heapq.heapify(heap)
    while left and len(parts) < max_parts and heap:
        bound, pos, counted_in = heapq.heappop(heap)
        units = usable[candidates[pos]]
        if counted_in != len(parts):
            fresh = sum(map(min, units, remaining))
            if fresh:
                heapq.heappush(heap, (-fresh, pos, len(parts)))
            continue
        take = list(map(min, units, remaining))
        if min_value and sum(map(operator.mul, take, job.values)) < min_value:
            continue
        parts.append(_Part(candidates[pos], take))
        unused.discard(pos)
        remaining = list(map(operator.sub, remaining, take))
        left += bound
    result = _RuleResult(filled=left == 0, parts=parts, remaining=remaining, notes=[], decision=[])
    if left:
        if len(parts) == max_parts:
            result.why_not = f"would need more than {max_parts} shipment{'s' if max_parts > 1 else ''}"
        elif any(sum(map(min, usable[candidates[pos]], remaining)) for pos in unused):
            result.why_not = f"a split would leave a part worth less than {min_value}"
        else:
            result.why_not = "not enough stock: " + _shortage(job, list(map(operator.sub, job.wanted, remaining)))
    return result


def _skip_lines(rule: RoutingRule, job: _Job, skipped: list[tuple[int, str]]) -> list[str]:
    """One line per skipped location, best-ranked first, at most a handful (50 stores are a wall of text)."""
    lines = [f"{job.sites[i].location.location_id} skipped: {why}" for i, why in skipped[:_MAX_SKIP_LINES]]
    if len(skipped) > _MAX_SKIP_LINES:
        lines.append(f"rule {rule.name!r}: {len(skipped) - _MAX_SKIP_LINES} more skipped")
    return lines


@dataclass(slots=True)
class _Screen:
    """What one rule makes of the locations."""

    usable: list[list[int]]
    """Units per demanded SKU per site, after the rule's safety stock (only where the rule looks)."""
    ranked: list[int]
    """Sites that pass the filters or are worth explaining, best first by the rule's ranking."""
    keys: list[Any]
    """Per site, what it is ranked by (see _rank)."""
    filtered: dict[int, str]
    """Why each site worth explaining (it holds some of the SKUs) fails the filters."""
    candidates: list[int]
    """Sites that may ship, in rank order (the click & collect store is handled on its own)."""


def _screen(rule: RoutingRule, job: _Job) -> _Screen:
    sites, pickup = job.sites, job.pickup
    filtered: dict[int, str] = {}
    passing: list[int] = []
    for i, site in enumerate(sites):
        why = _filter_reason(rule, site, i == pickup)
        if why is None:
            passing.append(i)
        elif site.relevant:  # locations holding none of the SKUs need no explaining
            filtered[i] = why
    safety = rule.routing_safety_stock
    usable = [site.raw for site in sites]
    if safety:
        for i in passing:
            usable[i] = [units - safety if units > safety else 0 for units in usable[i]]
        if SortKey.STOCK_BALANCE in rule.sort:  # the balance of skipped locations still orders the reasons
            for i in filtered:
                usable[i] = [units - safety if units > safety else 0 for units in usable[i]]
    ranked, keys = _rank(rule, job, passing + list(filtered), usable)
    candidates = [i for i in ranked if i not in filtered and i != pickup]
    return _Screen(usable, ranked, keys, filtered, candidates)


def _evaluate(rule: RoutingRule, job: _Job, want_partial: bool) -> _RuleResult:
    """Try one rule: collect in store, else one location with everything, else a split (or its parts)."""
    screen = _screen(rule, job)
    usable, ranked, filtered, candidates = screen.usable, screen.ranked, screen.filtered, screen.candidates
    sites, pickup = job.sites, job.pickup

    notes: list[str] = []
    transfer = ""
    wanted, total = job.wanted, job.total
    if pickup is not None:
        store_id = sites[pickup].location.location_id
        why = _filter_reason(rule, sites[pickup], True)
        if why is None and all(map(operator.ge, usable[pickup], wanted)):
            result = _RuleResult(True, [_Part(pickup, list(wanted))], [0] * len(wanted), notes, [])
            result.decision.append(f"{store_id}: collect in store, full stock")
            result.in_store = True
            return result
        notes.append(f"{store_id} (pickup): {why or _shortage(job, usable[pickup])}; transfer needed")
        transfer = f", transfer to {store_id}"

    covers = [sum(map(min, usable[i], wanted)) for i in candidates]
    # One location that ships everything: the best-ranked one, whatever the split policy says.
    if total in covers:
        chosen = candidates[covers.index(total)]
        ahead: list[tuple[int, str]] = []
        for i in ranked:
            if i == chosen:
                break
            if sites[i].relevant and i != pickup:
                ahead.append((i, filtered.get(i) or _shortage(job, usable[i])))
        notes.extend(_skip_lines(rule, job, ahead))
        if covers.count(total) == 1:
            best_by = "only location with full stock"
        else:
            runner_up = candidates[covers.index(total, covers.index(total) + 1)]
            best_by = _decided_by(rule, screen.keys[chosen], screen.keys[runner_up])
        site = sites[chosen]
        result = _RuleResult(True, [_Part(chosen, list(wanted))], [0] * len(wanted), notes, [])
        result.decision.append(f"{site.location.location_id}: {best_by}{transfer} ({_where(site)})")
        return result

    notes.extend(_skip_lines(rule, job, [(i, filtered[i]) for i in ranked if i in filtered and i != pickup]))
    if not candidates:
        return _RuleResult(False, [], list(wanted), notes, [], why_not="no location passes the filters")
    split = rule.split
    if split.mode == SplitMode.NEVER:
        if want_partial:
            result = _greedy(job, candidates, usable, covers, 1, split.min_part_value_minor)
        else:
            result = _RuleResult(False, [], list(wanted), [], [])
        result.why_not = "no single location has everything and splitting is off"
    else:
        result = _greedy(job, candidates, usable, covers, split.max_shipments, split.min_part_value_minor)
        if result.filled:
            result.decision.append(f"no single location has everything: {len(result.parts)} shipments")
    result.notes = notes
    result.decision.extend(
        f"{job.sites[part.site].location.location_id}: {sum(part.take)} of {total} units{transfer} "
        f"({_where(job.sites[part.site])})"
        for part in result.parts
    )
    return result


def _prepare(
    order: SourcingRequest, stock: Mapping[str, Mapping[str, int]], locations: Sequence[SourcingLocation]
) -> _Job:
    for sku, units in order.demand.items():
        if isinstance(units, bool) or not isinstance(units, int) or units < 0:
            raise SourcingError(f"demand for {sku}: expected a whole number of units >= 0, got {units!r}")
    skus = sorted(sku for sku, units in order.demand.items() if units > 0)
    wanted = [order.demand[sku] for sku in skus]
    values = [order.unit_values.get(sku, 0) for sku in skus]

    dest = order.destination
    index_of: dict[str, int] = {}
    for i, loc in enumerate(locations):
        if loc.location_id in index_of:
            raise SourcingError(f"location {loc.location_id} is listed twice")
        index_of[loc.location_id] = i
    pickup = index_of.get(dest.pickup_location_id) if dest.pickup_location_id is not None else None

    points = [geo.point_for(loc.latitude, loc.longitude, loc.country) for loc in locations]
    # Click & collect: the goods travel to the store, so distances are measured from there.
    target = points[pickup] if pickup is not None else None
    if target is None:
        target = geo.point_for(dest.latitude, dest.longitude, dest.country)
    distances = geo.distances_from(target, points)

    sites: list[_Site] = []
    empty: Mapping[str, int] = {}
    zeros = [0] * len(skus)
    for loc, distance in zip(locations, distances, strict=True):
        raw = list(map(stock.get(loc.location_id, empty).get, skus, zeros))
        if raw and min(raw) < 0:
            raw = [max(0, units) for units in raw]
        sites.append(_Site(loc, distance, shipping_cost_minor(loc.cost, distance), raw, any(raw)))
    return _Job(skus, wanted, values, sum(wanted), sites, pickup, [loc.location_id for loc in locations])


def _shipments(job: _Job, parts: list[_Part], transfer_to: str | None) -> tuple[PlannedShipment, ...]:
    return tuple(
        PlannedShipment(
            location_id=job.sites[part.site].location.location_id,
            lines=tuple((sku, units) for sku, units in zip(job.skus, part.take, strict=True) if units),
            distance_km=job.sites[part.site].distance,
            cost_minor=job.sites[part.site].cost,
            transfer_to=transfer_to,
        )
        for part in parts
    )


def _unfilled(job: _Job, remaining: list[int]) -> tuple[tuple[str, int], ...]:
    return tuple((sku, units) for sku, units in zip(job.skus, remaining, strict=True) if units)


def plan_shipments(
    order: SourcingRequest,
    stock: Mapping[str, Mapping[str, int]],
    locations: Sequence[SourcingLocation],
    policy: RoutingPolicy = RoutingPolicy(),
) -> SourcingPlan:
    """Where each unit of the order ships from, by the channel's routing policy, with the reasons.

    `stock`: location_id → sku → units available to promise (already net of reservations and the
    location's own safety stock). Same inputs, same plan.
    """
    job = _prepare(order, stock, locations)
    if not job.total:
        return SourcingPlan(PlanOutcome.SHIP, (), (), None, ("nothing to ship",))
    pickup_id = order.destination.pickup_location_id
    refused = _pickup_refusal(job, pickup_id)
    if refused is not None:
        return refused

    want_partial = policy.partial == PartialPolicy.SHIP_AVAILABLE
    reasons: list[str] = []
    first_partial: tuple[RoutingRule, _RuleResult] | None = None
    fallback = policy.when_nothing_fits
    decided_by: str | None = None
    last = len(policy.rules) - 1
    for position, rule in enumerate(policy.rules):
        result = _evaluate(rule, job, want_partial and first_partial is None)
        reasons.extend(note for note in result.notes if note not in reasons)  # said once is enough
        if result.filled:
            reasons.extend(result.decision)
            transfer_to = None if result.in_store else pickup_id
            return SourcingPlan(
                PlanOutcome.SHIP, _shipments(job, result.parts, transfer_to), (), rule.name, tuple(reasons)
            )
        if first_partial is None and result.parts:
            first_partial = (rule, result)
        if rule.when_unfillable != Fallback.NEXT_RULE:
            fallback, decided_by = rule.when_unfillable, rule.name
            reasons.append(f"rule {rule.name!r}: cannot fill ({result.why_not}); {_FALLBACK_WORDS[fallback]}")
            break
        reasons.append(
            f"rule {rule.name!r}: cannot fill ({result.why_not})" + ("; next rule" if position < last else "")
        )
    else:
        reasons.append(f"no rule can fill the order; {_FALLBACK_WORDS[fallback]}")

    if fallback == Fallback.BACKORDER and want_partial and first_partial is not None:
        return _ship_what_is_there(job, *first_partial, pickup_id, reasons)
    return SourcingPlan(_OUTCOME_FOR[fallback], (), _unfilled(job, job.wanted), decided_by, tuple(reasons))


def _pickup_refusal(job: _Job, pickup_id: str | None) -> SourcingPlan | None:
    """A click & collect order naming a store we do not know, or one that is closed, waits for a person."""
    if pickup_id is None:
        return None
    if job.pickup is None:
        why = f"pickup store {pickup_id} is unknown; hold"
    elif not job.sites[job.pickup].location.active:
        why = f"pickup store {pickup_id} is inactive; hold"
    else:
        return None
    return SourcingPlan(PlanOutcome.HOLD, (), _unfilled(job, job.wanted), None, (why,))


def _ship_what_is_there(
    job: _Job, rule: RoutingRule, result: _RuleResult, pickup_id: str | None, reasons: list[str]
) -> SourcingPlan:
    """The channel ships what is available now (the first rule that could fill part) and backorders the rest."""
    shipped = job.total - sum(result.remaining)
    reasons.append(
        f"ship what is available under rule {rule.name!r}: {shipped} of {job.total} units now, "
        f"{job.total - shipped} backordered"
    )
    reasons.extend(result.decision)
    return SourcingPlan(
        PlanOutcome.PARTIAL,
        _shipments(job, result.parts, pickup_id),
        _unfilled(job, result.remaining),
        rule.name,
        tuple(reasons),
    )
