"""Properties of plan_shipments over random locations, stock, orders and routing policies (hypothesis).

The filters are re-stated here independently of the implementation, so a plan is checked against
what the rule says, not against the code that applied it.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.geo import distance_km, point_for
from domain.routing import (
    Fallback,
    PartialPolicy,
    RoutingPolicy,
    RoutingRule,
    SortKey,
    SplitMode,
    SplitPolicy,
    policy_from_dict,
    policy_to_dict,
)
from domain.sourcing import (
    CostProfile,
    Destination,
    PlanOutcome,
    SourcingLocation,
    SourcingRequest,
    plan_shipments,
    shipping_cost_minor,
)

pytestmark = pytest.mark.unit

SKUS = ["A", "B", "C", "D"]
IDS = ["L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7"]
GROUPS = ["", "nl", "de"]
KINDS = ["warehouse", "store", "dropship"]
PROPERTY = settings(max_examples=200, deadline=None, database=None)

coordinate = st.tuples(st.floats(50.0, 54.0), st.floats(3.0, 14.0)) | st.none()


@st.composite
def locations(draw: st.DrawFn) -> list[SourcingLocation]:
    ids = draw(st.lists(st.sampled_from(IDS), unique=True, max_size=len(IDS)))
    result = []
    for location_id in ids:
        point = draw(coordinate)
        result.append(
            SourcingLocation(
                location_id=location_id,
                kind=draw(st.sampled_from(KINDS)),
                country=draw(st.sampled_from(["NL", "DE", "XX"])),
                latitude=None if point is None else point[0],
                longitude=None if point is None else point[1],
                priority=draw(st.integers(0, 5)),
                group=draw(st.sampled_from(GROUPS)),
                cost=CostProfile(draw(st.integers(0, 500)), draw(st.integers(0, 3))),
                ship_from_store=draw(st.booleans()),
                remaining_capacity=draw(st.sampled_from([None, 0, 1, 5])),
                active=draw(st.booleans() | st.just(True)),
            )
        )
    return result


def stocks(ids: list[str]) -> st.SearchStrategy[dict[str, dict[str, int]]]:
    per_location = st.dictionaries(st.sampled_from(SKUS), st.integers(-1, 6))
    return st.fixed_dictionaries({location_id: per_location for location_id in ids})


rules = st.builds(
    RoutingRule,
    location_groups=st.lists(st.sampled_from(GROUPS), unique=True, max_size=2).map(tuple),
    location_kinds=st.lists(st.sampled_from(KINDS), unique=True, max_size=2).map(tuple),
    max_distance_km=st.none() | st.floats(0, 800),
    require_capacity=st.booleans(),
    routing_safety_stock=st.integers(0, 2),
    sort=st.permutations(list(SortKey)).flatmap(lambda keys: st.integers(0, len(keys)).map(lambda n: tuple(keys[:n]))),
    split=st.builds(
        SplitPolicy,
        mode=st.sampled_from(SplitMode),
        min_part_value_minor=st.sampled_from([0, 0, 500, 2000]),
        max_shipments=st.integers(1, 4),
    ),
    when_unfillable=st.sampled_from([Fallback.NEXT_RULE, Fallback.NEXT_RULE, Fallback.BACKORDER, Fallback.HOLD]),
)


@st.composite
def policies(draw: st.DrawFn) -> RoutingPolicy:
    drawn = draw(st.lists(rules, min_size=1, max_size=3))
    named = tuple(replace(rule, name=f"rule-{n}") for n, rule in enumerate(drawn))
    return RoutingPolicy(
        rules=named,
        partial=draw(st.sampled_from(PartialPolicy)),
        when_nothing_fits=draw(st.sampled_from([Fallback.BACKORDER, Fallback.HOLD, Fallback.CANCEL])),
        auto_cancel_after_days=draw(st.none() | st.integers(1, 60)),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[SourcingRequest, dict[str, dict[str, int]], list[SourcingLocation], Any]:
    locs = draw(locations())
    stock = draw(stocks([loc.location_id for loc in locs]))
    demand = draw(st.dictionaries(st.sampled_from(SKUS), st.integers(1, 5), min_size=1))
    values = {sku: draw(st.integers(0, 2000)) for sku in demand}
    point = draw(coordinate)
    ids: list[str | None] = [loc.location_id for loc in locs]
    pickup = draw(st.none() | st.none() | st.sampled_from(ids or [None]))
    destination = Destination(
        country=draw(st.sampled_from(["NL", "DE", "XX"])),
        latitude=None if point is None else point[0],
        longitude=None if point is None else point[1],
        pickup_location_id=pickup,
    )
    return SourcingRequest(demand, values, destination), stock, locs, draw(policies())


# The rules, restated ------------------------------------------------------------------------------------


def target_point(request: SourcingRequest, locs: list[SourcingLocation]) -> tuple[float, float] | None:
    dest = request.destination
    for loc in locs:
        if loc.location_id == dest.pickup_location_id:
            store = point_for(loc.latitude, loc.longitude, loc.country)
            if store is not None:
                return store
    return point_for(dest.latitude, dest.longitude, dest.country)


def distance_to(request: SourcingRequest, locs: list[SourcingLocation], loc: SourcingLocation) -> float | None:
    here, there = point_for(loc.latitude, loc.longitude, loc.country), target_point(request, locs)
    return None if here is None or there is None else distance_km(*there, *here)


def passes(rule: RoutingRule, request: SourcingRequest, locs: list[SourcingLocation], loc: SourcingLocation) -> bool:
    is_pickup = loc.location_id == request.destination.pickup_location_id
    if not loc.active:
        return False
    if loc.kind not in (rule.location_kinds or KINDS):
        return False
    if loc.kind == "store" and not loc.ship_from_store and not is_pickup:
        return False
    if rule.location_groups and loc.group not in rule.location_groups:
        return False
    if rule.max_distance_km is not None:
        distance = distance_to(request, locs, loc)
        if distance is None or distance > rule.max_distance_km:
            return False
    return not (rule.require_capacity and loc.remaining_capacity is not None and loc.remaining_capacity <= 0)


def usable(stock: dict[str, dict[str, int]], loc: SourcingLocation, sku: str, rule: RoutingRule) -> int:
    return max(0, stock.get(loc.location_id, {}).get(sku, 0) - rule.routing_safety_stock)


def rule_named(policy: RoutingPolicy, name: str | None) -> RoutingRule:
    return next(rule for rule in policy.rules if rule.name == name)


# A rule ranks by its own sort, then by whichever of these it does not name, then by location id.
TIE_BREAKERS = (SortKey.COST, SortKey.PRIORITY, SortKey.DISTANCE)
BEST_BY = {
    SortKey.COST: "cheapest",
    SortKey.DISTANCE: "nearest",
    SortKey.CAPACITY: "most capacity left",
    SortKey.STOCK_BALANCE: "most stock",
    SortKey.PRIORITY: "first by priority",
}


def ranking(rule: RoutingRule) -> list[SortKey]:
    return [*rule.sort, *(key for key in TIE_BREAKERS if key not in rule.sort)]


def rank_key(
    rule: RoutingRule,
    request: SourcingRequest,
    stock: dict[str, dict[str, int]],
    locs: list[SourcingLocation],
    loc: SourcingLocation,
) -> tuple[Any, ...]:
    """What the location is ranked by under the rule, smaller first, the location id last."""
    distance = distance_to(request, locs, loc)
    values = {
        SortKey.COST: shipping_cost_minor(loc.cost, distance),
        SortKey.DISTANCE: math.inf if distance is None else distance,
        SortKey.CAPACITY: -math.inf if loc.remaining_capacity is None else -loc.remaining_capacity,
        SortKey.STOCK_BALANCE: -sum(usable(stock, loc, sku, rule) for sku in request.demand),
        SortKey.PRIORITY: loc.priority,
    }
    return (*(values[key] for key in ranking(rule)), loc.location_id)


def full_stock_candidates(
    rule: RoutingRule, request: SourcingRequest, stock: dict[str, dict[str, int]], locs: list[SourcingLocation]
) -> list[SourcingLocation]:
    """Locations the rule may ship the whole order from (the click & collect store aside)."""
    return [
        loc
        for loc in locs
        if loc.location_id != request.destination.pickup_location_id
        and passes(rule, request, locs, loc)
        and all(usable(stock, loc, sku, rule) >= units for sku, units in request.demand.items())
    ]


def pickup_is_usable(request: SourcingRequest, locs: list[SourcingLocation]) -> bool:
    pickup = request.destination.pickup_location_id
    return pickup is None or any(loc.location_id == pickup and loc.active for loc in locs)


# Properties ---------------------------------------------------------------------------------------------


@PROPERTY
@given(scenarios())
def test_property_plan_is_consistent_with_stock_filters_and_demand(scenario: Any) -> None:
    request, stock, locs, policy = scenario
    plan = plan_shipments(request, stock, locs, policy)
    by_id = {loc.location_id: loc for loc in locs}
    demand = Counter(request.demand)

    assert plan.reasons
    if plan.outcome is PlanOutcome.SHIP:
        assert plan.unfilled == ()
    if plan.outcome is PlanOutcome.PARTIAL:
        assert plan.unfilled and plan.shipments
    if plan.outcome not in (PlanOutcome.SHIP, PlanOutcome.PARTIAL):
        assert plan.shipments == ()
        assert dict(plan.unfilled) == dict(demand)
        return

    rule = rule_named(policy, plan.rule)
    assigned: Counter[str] = Counter()
    assert len(plan.shipments) <= (1 if rule.split.mode is SplitMode.NEVER else rule.split.max_shipments)
    assert len({s.location_id for s in plan.shipments}) == len(plan.shipments)
    for shipment in plan.shipments:
        loc = by_id[shipment.location_id]
        assert passes(rule, request, locs, loc), shipment.location_id
        assert shipment.lines == tuple(sorted(shipment.lines)) and shipment.lines
        for sku, units in shipment.lines:
            assert 0 < units <= usable(stock, loc, sku, rule)
            assigned[sku] += units
        distance = distance_to(request, locs, loc)
        if distance is None:
            assert shipment.distance_km is None
        else:
            assert shipment.distance_km == pytest.approx(distance)
        assert shipment.cost_minor == shipping_cost_minor(loc.cost, shipment.distance_km)
        pickup = request.destination.pickup_location_id
        assert shipment.transfer_to == (None if pickup in (None, loc.location_id) else pickup)
        if len(plan.shipments) > 1 or plan.outcome is PlanOutcome.PARTIAL:
            value = sum(units * request.unit_values[sku] for sku, units in shipment.lines)
            assert value >= rule.split.min_part_value_minor
    unfilled = Counter(dict(plan.unfilled))
    assert assigned + unfilled == demand
    assert plan.unfilled == tuple(sorted(plan.unfilled))


@PROPERTY
@given(scenarios())
def test_property_one_location_that_can_fill_everything_means_one_shipment(scenario: Any) -> None:
    request, stock, locs, policy = scenario
    first = policy.rules[0]
    single = [
        loc
        for loc in locs
        if passes(first, request, locs, loc)
        and all(usable(stock, loc, sku, first) >= units for sku, units in request.demand.items())
    ]
    plan = plan_shipments(request, stock, locs, policy)
    if single and pickup_is_usable(request, locs):
        assert plan.outcome is PlanOutcome.SHIP
        assert plan.rule == first.name
        assert len(plan.shipments) == 1
        assert plan.shipments[0].location_id in {loc.location_id for loc in single}


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False))
def test_property_the_order_of_the_inputs_does_not_matter(scenario: Any, rng: random.Random) -> None:
    request, stock, locs, policy = scenario
    plan = plan_shipments(request, stock, locs, policy)
    shuffled_locs = list(locs)
    rng.shuffle(shuffled_locs)
    shuffled_stock = {key: dict(sorted(value.items(), reverse=True)) for key, value in reversed(stock.items())}
    shuffled_demand = dict(reversed(list(request.demand.items())))
    again = SourcingRequest(shuffled_demand, request.unit_values, request.destination)
    assert plan_shipments(again, shuffled_stock, shuffled_locs, policy) == plan


@PROPERTY
@given(policies())
def test_property_policies_round_trip(policy: RoutingPolicy) -> None:
    assert policy_from_dict(policy_to_dict(policy)) == policy


@PROPERTY
@given(scenarios())
def test_property_one_shipment_comes_from_the_best_ranked_full_stock_location_and_says_why(scenario: Any) -> None:
    request, stock, locs, policy = scenario
    plan = plan_shipments(request, stock, locs, policy)
    if plan.outcome is not PlanOutcome.SHIP or len(plan.shipments) != 1:
        return
    (shipment,) = plan.shipments
    if shipment.location_id == request.destination.pickup_location_id:
        return  # collected in store: no ranking involved
    rule = rule_named(policy, plan.rule)
    candidates = full_stock_candidates(rule, request, stock, locs)
    ranked = sorted(candidates, key=lambda loc: rank_key(rule, request, stock, locs, loc))
    assert ranked[0].location_id == shipment.location_id
    decision = plan.reasons[-1]
    if len(ranked) == 1:
        assert decision.startswith(f"{shipment.location_id}: only location with full stock")
        return
    best, runner_up = (rank_key(rule, request, stock, locs, loc) for loc in ranked[:2])
    at = next(n for n, (mine, theirs) in enumerate(zip(best, runner_up, strict=True)) if mine != theirs)
    keys = ranking(rule)
    phrase = BEST_BY[keys[at]] if at < len(keys) else "first by id"
    assert decision.startswith(f"{shipment.location_id}: {phrase} with full stock")
    if at:
        assert " at equal " in decision
        for key in keys[:at]:
            assert key.value.split("_")[0] in decision.replace("capacity left", "capacity")


DEFAULT_POLICY = RoutingPolicy()


@st.composite
def tied_scenarios(draw: st.DrawFn) -> tuple[SourcingRequest, dict[str, dict[str, int]], list[SourcingLocation]]:
    """Several routable warehouses, most of them able to ship everything, costs and priorities often equal
    (most have no cost profile, all the default priority)."""
    request, _, _, _ = draw(scenarios())
    ids = draw(st.lists(st.sampled_from(IDS), unique=True, min_size=2, max_size=6))
    locs, stock = [], {}
    for location_id in ids:
        point = draw(coordinate)
        locs.append(
            SourcingLocation(
                location_id,
                "warehouse",
                draw(st.sampled_from(["NL", "DE", "XX"])),
                None if point is None else point[0],
                None if point is None else point[1],
                cost=draw(st.sampled_from([CostProfile(), CostProfile(), CostProfile(100), CostProfile(0, 1)])),
            )
        )
        short = draw(st.integers(0, 3)) == 0
        stock[location_id] = {sku: units - short for sku, units in request.demand.items()}
    return request, stock, locs


@PROPERTY
@given(tied_scenarios())
def test_property_among_locations_of_equal_cost_and_priority_the_nearest_ships(scenario: Any) -> None:
    """Issue 11, item 3: under the default policy a cost tie is never won by a farther location."""
    request, stock, locs = scenario
    plan = plan_shipments(request, stock, locs, DEFAULT_POLICY)
    if plan.outcome is not PlanOutcome.SHIP or len(plan.shipments) != 1:
        return
    (shipment,) = plan.shipments
    if shipment.location_id == request.destination.pickup_location_id:
        return
    chosen = next(loc for loc in locs if loc.location_id == shipment.location_id)
    rule = DEFAULT_POLICY.rules[0]
    for other in full_stock_candidates(rule, request, stock, locs):
        other_distance = distance_to(request, locs, other)
        if (shipping_cost_minor(other.cost, other_distance), other.priority) == (
            shipment.cost_minor,
            chosen.priority,
        ):
            mine = math.inf if shipment.distance_km is None else shipment.distance_km
            assert mine <= (math.inf if other_distance is None else other_distance), other.location_id
