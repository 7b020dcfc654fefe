"""Routing policies, distances and plan_shipments: one example per filter, sort key, split rule and fallback."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from domain.geo import COUNTRY_CENTROIDS, distance_km, distances_from, point_for
from domain.routing import (
    Fallback,
    PartialPolicy,
    RoutingConfigError,
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
    SourcingError,
    SourcingLocation,
    SourcingPlan,
    SourcingRequest,
    plan_shipments,
    shipping_cost_minor,
)

pytestmark = pytest.mark.unit

AMS = (52.3676, 4.9041)
UTR = (52.0907, 5.1214)
RTM = (51.9244, 4.4777)
EIN = (51.4416, 5.4697)
GRO = (53.2194, 6.5665)
BER = (52.5200, 13.4050)
CUSTOMER_AMS = Destination("NL", *AMS)


def loc(location_id: str, at: tuple[float, float] | None = AMS, kind: str = "warehouse", **kw: Any) -> SourcingLocation:
    country = kw.pop("country", "DE" if at == BER else "NL")
    lat, lon = at if at is not None else (None, None)
    return SourcingLocation(location_id, kind, country, lat, lon, **kw)


def order(demand: dict[str, int], dest: Destination = CUSTOMER_AMS, value: int = 1000) -> SourcingRequest:
    return SourcingRequest(demand, {sku: value for sku in demand}, dest)


def rule(**kw: Any) -> RoutingRule:
    return RoutingRule(**kw)


def policy(*rules: RoutingRule, **kw: Any) -> RoutingPolicy:
    return RoutingPolicy(rules=rules or (RoutingRule(),), **kw)


def shipped_from(plan: SourcingPlan) -> list[str]:
    return [s.location_id for s in plan.shipments]


def lines_of(plan: SourcingPlan) -> dict[str, dict[str, int]]:
    return {s.location_id: dict(s.lines) for s in plan.shipments}


# geo -----------------------------------------------------------------------------------------------


def test_amsterdam_utrecht_is_about_35_km() -> None:
    assert distance_km(*AMS, *UTR) == pytest.approx(35, abs=3)


def test_amsterdam_berlin_is_about_577_km() -> None:
    assert distance_km(*AMS, *BER) == pytest.approx(577, abs=10)


def test_distance_is_symmetric_zero_at_the_same_point_and_half_the_globe_at_the_antipode() -> None:
    assert distance_km(*AMS, *BER) == pytest.approx(distance_km(*BER, *AMS))
    assert distance_km(*AMS, *AMS) == 0
    assert distance_km(0, 0, 0, 180) == pytest.approx(math.pi * 6371.0)


def test_distances_from_matches_distance_km() -> None:
    points = [UTR, None, BER, GRO]
    got = distances_from(AMS, points)
    assert got[1] is None
    for distance, point in zip(got, points, strict=True):
        if point is not None:
            assert distance == pytest.approx(distance_km(*AMS, *point))
    assert distances_from(None, points) == [None] * 4


def test_point_for_prefers_exact_coordinates_then_the_country_centre() -> None:
    assert point_for(52.1, 5.2, "DE") == (52.1, 5.2)
    assert point_for(52.1, None, "NL") == COUNTRY_CENTROIDS["NL"]
    assert point_for(None, None, "nl") == COUNTRY_CENTROIDS["NL"]
    assert point_for(None, None, "XX") is None


def test_every_eu_and_eea_country_and_gb_ch_us_ca_has_a_centre() -> None:
    eu = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"}
    eu |= {"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}
    assert len(eu) == 27
    for country in sorted(eu | {"IS", "LI", "NO", "GB", "CH", "US", "CA"}):
        lat, lon = COUNTRY_CENTROIDS[country]
        assert -90 <= lat <= 90 and -180 <= lon <= 180
    # A sanity check on the table: the Dutch centre is near Utrecht, the German one far from both.
    assert distance_km(*COUNTRY_CENTROIDS["NL"], *UTR) < 30
    assert distance_km(*COUNTRY_CENTROIDS["DE"], *AMS) > 300


# routing policy as configuration --------------------------------------------------------------------


RICH_POLICY: dict[str, Any] = {
    "rules": [
        {
            "name": "nl-stores",
            "location_groups": ["nl", "be"],
            "location_kinds": ["store", "warehouse"],
            "max_distance_km": 80.5,
            "require_capacity": False,
            "routing_safety_stock": 2,
            "sort": ["distance", "stock_balance", "capacity"],
            "split": {"mode": "never", "min_part_value_minor": 2500, "max_shipments": 1},
            "when_unfillable": "next_rule",
        },
        {
            "name": "anywhere",
            "location_groups": [],
            "location_kinds": [],
            "max_distance_km": None,
            "require_capacity": True,
            "routing_safety_stock": 0,
            "sort": ["cost", "priority"],
            "split": {"mode": "allowed", "min_part_value_minor": 0, "max_shipments": 3},
            "when_unfillable": "hold",
        },
    ],
    "partial": "ship_available",
    "when_nothing_fits": "cancel",
    "auto_cancel_after_days": 14,
}


def test_an_empty_document_is_the_default_policy() -> None:
    assert policy_from_dict({}) == RoutingPolicy()
    default = RoutingPolicy().rules[0]
    assert default.sort == (SortKey.COST, SortKey.PRIORITY)
    assert default.split == SplitPolicy(SplitMode.ALLOWED, 0, 3)
    assert default.when_unfillable is Fallback.NEXT_RULE
    assert RoutingPolicy().when_nothing_fits is Fallback.BACKORDER
    assert RoutingPolicy().partial is PartialPolicy.WAIT_FOR_ALL


def test_policy_round_trips_through_json_exactly() -> None:
    parsed = policy_from_dict(RICH_POLICY)
    assert policy_to_dict(parsed) == RICH_POLICY
    assert policy_from_dict(json.loads(json.dumps(policy_to_dict(parsed)))) == parsed
    assert parsed.rules[0].sort == (SortKey.DISTANCE, SortKey.STOCK_BALANCE, SortKey.CAPACITY)
    assert parsed.rules[0].split.mode is SplitMode.NEVER
    assert parsed.rules[1].when_unfillable is Fallback.HOLD
    assert policy_from_dict(policy_to_dict(RoutingPolicy())) == RoutingPolicy()


def test_missing_fields_take_their_defaults() -> None:
    parsed = policy_from_dict({"rules": [{"name": "near", "max_distance_km": 50}]})
    assert parsed.rules[0] == RoutingRule(name="near", max_distance_km=50.0)
    assert isinstance(parsed.rules[0].max_distance_km, float)


def test_constructors_accept_plain_strings_for_enums() -> None:
    built = RoutingRule(sort=("distance",), when_unfillable="hold", split=SplitPolicy(mode="never"))  # type: ignore[arg-type]
    assert built.sort == (SortKey.DISTANCE,)
    assert built.when_unfillable is Fallback.HOLD
    assert built.split.mode is SplitMode.NEVER


def _with_rule(**fields: Any) -> dict[str, Any]:
    return {"rules": [{"name": "r", **fields}]}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_with_rule(sort=["nearest"]), "rules[0].sort: unknown value 'nearest' (expected one of: distance,"),
        (_with_rule(sort=["cost", "cost"]), "rules[0].sort: a key appears twice"),
        (_with_rule(sort="cost"), "rules[0].sort: expected a list"),
        (_with_rule(routing_safety_stock=-1), "rules[0].routing_safety_stock: must be at least 0, got -1"),
        (_with_rule(routing_safety_stock=1.5), "rules[0].routing_safety_stock: expected an integer"),
        (_with_rule(routing_safety_stock=True), "rules[0].routing_safety_stock: expected an integer"),
        (_with_rule(max_distance_km=-5), "rules[0].max_distance_km: must be a finite number >= 0"),
        (_with_rule(max_distance_km=float("nan")), "rules[0].max_distance_km: must be a finite number >= 0"),
        (_with_rule(max_distance_km="50"), "rules[0].max_distance_km: expected a number or null"),
        (_with_rule(split={"max_shipments": 0}), "rules[0].split.max_shipments: must be at least 1, got 0"),
        (_with_rule(split={"min_part_value_minor": -1}), "rules[0].split.min_part_value_minor: must be at least 0"),
        (_with_rule(split={"mode": "sometimes"}), "rules[0].split.mode: unknown value 'sometimes'"),
        (_with_rule(split={"max": 2}), "rules[0].split: unknown field 'max'"),
        (_with_rule(split=3), "rules[0].split: expected an object"),
        (_with_rule(location_kinds=["shop"]), "rules[0].location_kinds: unknown kind 'shop'"),
        (_with_rule(location_groups="nl"), "rules[0].location_groups: expected a list"),
        (_with_rule(location_groups=[1]), "rules[0].location_groups: expected a list of strings"),
        (_with_rule(require_capacity="yes"), "rules[0].require_capacity: expected true or false"),
        (_with_rule(when_unfillable="retry"), "rules[0].when_unfillable: unknown value 'retry'"),
        (_with_rule(name=""), "rules[0].name: a rule needs a non-empty name"),
        (_with_rule(radius=5), "rules[0]: unknown field 'radius'"),
        ({"rules": []}, "rules: a policy needs at least one rule"),
        ({"rules": {"name": "r"}}, "rules: expected a list"),
        ({"rules": ["r"]}, "rules[0]: expected an object"),
        ({"rules": [{"name": "a"}, {"name": "a"}]}, "rules: rule names must be unique, 'a' repeats"),
        ({"partial": "some"}, "partial: unknown value 'some'"),
        ({"when_nothing_fits": "next_rule"}, "when_nothing_fits: there is no rule after the last one"),
        ({"auto_cancel_after_days": 0}, "auto_cancel_after_days: must be at least 1, got 0"),
        ({"auto_cancel_after_days": "7"}, "auto_cancel_after_days: expected an integer"),
        ({"rule": []}, "policy: unknown field 'rule'"),
    ],
)
def test_bad_configuration_is_refused_with_a_clear_message(document: dict[str, Any], message: str) -> None:
    with pytest.raises(RoutingConfigError) as caught:
        policy_from_dict(document)
    assert str(caught.value).startswith(message), str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_a_policy_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(RoutingConfigError, match="policy: expected an object"):
        policy_from_dict([])  # type: ignore[arg-type]


def test_constructors_refuse_bad_values_too() -> None:
    with pytest.raises(RoutingConfigError, match="max_shipments"):
        SplitPolicy(max_shipments=0)
    with pytest.raises(RoutingConfigError, match="at least one rule"):
        RoutingPolicy(rules=())
    with pytest.raises(RoutingConfigError, match="when_nothing_fits"):
        RoutingPolicy(when_nothing_fits=Fallback.NEXT_RULE)


# cost ------------------------------------------------------------------------------------------------


def test_cost_is_base_plus_per_km_rounded_half_up() -> None:
    assert shipping_cost_minor(CostProfile(100, 3), 2.5) == 108  # 7.5 rounds up
    assert shipping_cost_minor(CostProfile(100, 3), 2.49) == 107
    assert shipping_cost_minor(CostProfile(100, 3), 0.0) == 100
    assert shipping_cost_minor(CostProfile(100, 3), None) == 100  # distance unknown: the base is all we know


def test_the_planned_cost_uses_the_distance_to_the_destination() -> None:
    plan = plan_shipments(order({"A": 1}), {"UTR": {"A": 1}}, [loc("UTR", UTR, cost=CostProfile(400, 10))])
    (shipment,) = plan.shipments
    assert shipment.distance_km == pytest.approx(distance_km(*AMS, *UTR))
    assert shipment.cost_minor == 400 + math.floor(10 * distance_km(*AMS, *UTR) + 0.5)


# the defaults: one location, lowest cost, then priority -------------------------------------------------


def test_one_location_with_everything_beats_a_cheaper_split() -> None:
    locations = [
        loc("CHEAP-A", cost=CostProfile(100)),
        loc("CHEAP-B", cost=CostProfile(100)),
        loc("DEAR", cost=CostProfile(900)),
    ]
    stock = {"CHEAP-A": {"A": 5}, "CHEAP-B": {"B": 5}, "DEAR": {"A": 1, "B": 1}}
    plan = plan_shipments(order({"A": 1, "B": 1}), stock, locations)
    assert plan.outcome is PlanOutcome.SHIP
    assert shipped_from(plan) == ["DEAR"]
    assert plan.unfilled == ()
    assert plan.rule == "default"
    assert plan.reasons[-1] == "DEAR: only location with full stock (0.0 km, cost 900)"


def test_lowest_cost_then_priority_then_location_id() -> None:
    stock = {name: {"A": 1} for name in ("W1", "W2", "W3", "W4")}
    locations = [
        loc("W1", cost=CostProfile(500), priority=1),
        loc("W2", cost=CostProfile(300), priority=9),
        loc("W3", cost=CostProfile(300), priority=5),
        loc("W4", cost=CostProfile(300), priority=5),
    ]
    assert shipped_from(plan_shipments(order({"A": 1}), stock, locations)) == ["W3"]


def test_lines_are_sorted_by_sku_and_zero_quantities_ignored() -> None:
    plan = plan_shipments(order({"B": 1, "A": 2, "C": 0}), {"W": {"A": 2, "B": 1}}, [loc("W")])
    assert plan.shipments[0].lines == (("A", 2), ("B", 1))


def test_an_empty_order_ships_nothing() -> None:
    plan = plan_shipments(order({}), {}, [loc("W")])
    assert (plan.outcome, plan.shipments, plan.unfilled) == (PlanOutcome.SHIP, (), ())


def test_malformed_requests_are_refused() -> None:
    with pytest.raises(SourcingError, match="demand for A"):
        plan_shipments(order({"A": -1}), {}, [loc("W")])
    with pytest.raises(SourcingError, match="W is listed twice"):
        plan_shipments(order({"A": 1}), {}, [loc("W"), loc("W")])


def test_negative_stock_counts_as_none() -> None:
    plan = plan_shipments(order({"A": 1}), {"W1": {"A": -4}, "W2": {"A": 1}}, [loc("W1"), loc("W2")])
    assert shipped_from(plan) == ["W2"]


def test_same_inputs_same_plan_whatever_the_order_of_locations() -> None:
    locations = [loc(f"W{n}", cost=CostProfile(100)) for n in range(6)]
    stock = {f"W{n}": {"A": 1, "B": n % 2} for n in range(6)}
    request = order({"A": 2, "B": 1})
    plan = plan_shipments(request, stock, locations)
    assert plan_shipments(request, dict(reversed(stock.items())), list(reversed(locations))) == plan


# filters -----------------------------------------------------------------------------------------------


def test_inactive_locations_are_skipped() -> None:
    locations = [loc("CLOSED", cost=CostProfile(1), active=False), loc("OPEN", cost=CostProfile(9))]
    plan = plan_shipments(order({"A": 1}), {"CLOSED": {"A": 1}, "OPEN": {"A": 1}}, locations)
    assert shipped_from(plan) == ["OPEN"]
    assert "CLOSED skipped: inactive" in plan.reasons


def test_stores_ship_only_with_ship_from_store() -> None:
    locations = [
        loc("STORE-X", kind="store", cost=CostProfile(1)),
        loc("STORE-Y", kind="store", cost=CostProfile(2), ship_from_store=True),
        loc("WH", cost=CostProfile(9)),
    ]
    stock = {name: {"A": 1} for name in ("STORE-X", "STORE-Y", "WH")}
    plan = plan_shipments(order({"A": 1}), stock, locations)
    assert shipped_from(plan) == ["STORE-Y"]
    assert plan.reasons[0] == "STORE-X skipped: ship-from-store off"


def test_explicit_kinds_still_need_ship_from_store() -> None:
    locations = [loc("STORE-X", kind="store"), loc("STORE-Y", kind="store", ship_from_store=True)]
    stock = {"STORE-X": {"A": 1}, "STORE-Y": {"A": 1}}
    plan = plan_shipments(order({"A": 1}), stock, locations, policy(rule(location_kinds=("store",))))
    assert shipped_from(plan) == ["STORE-Y"]


def test_dropship_is_routable_by_default_and_excluded_by_kinds() -> None:
    locations = [loc("DS", kind="dropship", cost=CostProfile(1)), loc("WH", cost=CostProfile(9))]
    stock = {"DS": {"A": 1}, "WH": {"A": 1}}
    assert shipped_from(plan_shipments(order({"A": 1}), stock, locations)) == ["DS"]
    plan = plan_shipments(order({"A": 1}), stock, locations, policy(rule(location_kinds=("warehouse",))))
    assert shipped_from(plan) == ["WH"]
    assert "DS skipped: kind dropship excluded" in plan.reasons


def test_location_groups_filter() -> None:
    locations = [loc("BE-1", group="be", cost=CostProfile(1)), loc("NL-1", group="nl", cost=CostProfile(9))]
    stock = {"BE-1": {"A": 1}, "NL-1": {"A": 1}}
    plan = plan_shipments(order({"A": 1}), stock, locations, policy(rule(location_groups=("nl",))))
    assert shipped_from(plan) == ["NL-1"]
    assert "BE-1 skipped: group 'be' excluded" in plan.reasons


def test_radius_from_the_destination() -> None:
    locations = [loc("BER", BER, cost=CostProfile(1)), loc("UTR", UTR, cost=CostProfile(9))]
    stock = {"BER": {"A": 1}, "UTR": {"A": 1}}
    plan = plan_shipments(order({"A": 1}), stock, locations, policy(rule(max_distance_km=200)))
    assert shipped_from(plan) == ["UTR"]
    assert "BER skipped: 576 km beyond the 200 km radius" in plan.reasons


def test_a_location_whose_distance_is_unknown_fails_a_radius() -> None:
    locations = [loc("NOWHERE", None, country="XX", cost=CostProfile(1)), loc("UTR", UTR, cost=CostProfile(9))]
    stock = {"NOWHERE": {"A": 1}, "UTR": {"A": 1}}
    plan = plan_shipments(order({"A": 1}), stock, locations, policy(rule(max_distance_km=200)))
    assert shipped_from(plan) == ["UTR"]
    assert "NOWHERE skipped: distance unknown for the 200 km radius" in plan.reasons
    # Without a radius it is a candidate like any other, costed at its base.
    plan = plan_shipments(order({"A": 1}), stock, locations)
    assert shipped_from(plan) == ["NOWHERE"]
    assert plan.shipments[0].distance_km is None
    assert plan.reasons[-1] == "NOWHERE: cheapest with full stock (distance unknown, cost 1)"


def test_remaining_capacity_zero_is_skipped_unless_the_rule_ignores_capacity() -> None:
    locations = [
        loc("UTR", cost=CostProfile(1), remaining_capacity=0),
        loc("AMS", cost=CostProfile(5), remaining_capacity=None),
    ]
    stock = {"UTR": {"A": 1}, "AMS": {"A": 1}}
    plan = plan_shipments(order({"A": 1}), stock, locations)
    assert shipped_from(plan) == ["AMS"]
    assert plan.reasons == ("UTR skipped: capacity reached", "AMS: only location with full stock (0.0 km, cost 5)")
    plan = plan_shipments(order({"A": 1}), stock, locations, policy(rule(require_capacity=False)))
    assert shipped_from(plan) == ["UTR"]


def test_routing_safety_stock_is_left_untouched() -> None:
    locations = [loc("RTM", RTM, cost=CostProfile(1)), loc("AMS", cost=CostProfile(9))]
    stock = {"RTM": {"A": 3}, "AMS": {"A": 5}}
    plan = plan_shipments(order({"A": 2}), stock, locations, policy(rule(routing_safety_stock=2)))
    assert shipped_from(plan) == ["AMS"]
    assert "RTM skipped: short of A (needs 2, has 1)" in plan.reasons
    # Never below zero, and it holds back units from a split too.
    plan = plan_shipments(order({"A": 6}), stock, locations, policy(rule(routing_safety_stock=4)))
    assert plan.outcome is PlanOutcome.BACKORDER
    assert "not enough stock: short of A (needs 6, has 1)" in plan.explanation


# sort keys ---------------------------------------------------------------------------------------------


SORT_LOCATIONS = [
    # id, where, base cost, per km, capacity, stock of A, priority
    loc("NEAR", AMS, cost=CostProfile(900), remaining_capacity=1, priority=50),
    loc("MID", UTR, cost=CostProfile(100, 1), remaining_capacity=40, priority=30),
    loc("FAR", GRO, cost=CostProfile(50, 0), remaining_capacity=None, priority=70),
    loc("BIG", EIN, cost=CostProfile(600), remaining_capacity=5, priority=10),
]
SORT_STOCK = {"NEAR": {"A": 2}, "MID": {"A": 2}, "FAR": {"A": 2}, "BIG": {"A": 9, "B": 4}}


@pytest.mark.parametrize(
    ("sort", "expected", "phrase"),
    [
        ((SortKey.DISTANCE,), "NEAR", "nearest"),
        ((SortKey.COST,), "FAR", "cheapest"),
        ((SortKey.CAPACITY,), "FAR", "most capacity left"),
        ((SortKey.STOCK_BALANCE,), "BIG", "most stock"),
        ((SortKey.PRIORITY,), "BIG", "first by priority"),
        ((), "FAR", "cheapest"),  # no sort of its own: the tie-breakers (cost, priority, distance) rank
    ],
)
def test_each_sort_key_picks_its_best(sort: tuple[SortKey, ...], expected: str, phrase: str) -> None:
    plan = plan_shipments(order({"A": 1, "B": 0}), SORT_STOCK, SORT_LOCATIONS, policy(rule(sort=sort)))
    assert shipped_from(plan) == [expected]
    assert plan.reasons[-1].startswith(f"{expected}: {phrase} with full stock (")


def test_cost_counts_the_per_km_part() -> None:
    # MID: 100 + 35 km x 1 = 135; FAR: 50 flat; NEAR 900. Cost order: FAR, MID, BIG, NEAR.
    sort = (SortKey.COST,)
    stock = {**SORT_STOCK, "FAR": {"A": 1}}
    plan = plan_shipments(order({"A": 2}), stock, SORT_LOCATIONS, policy(rule(sort=sort)))
    assert shipped_from(plan) == ["MID"]
    assert plan.shipments[0].cost_minor == 100 + math.floor(distance_km(*AMS, *UTR) + 0.5)
    assert plan.reasons[0] == "FAR skipped: short of A (needs 2, has 1)"


def test_unknown_distance_sorts_last_for_distance() -> None:
    locations = [loc("NOWHERE", None, country="XX"), loc("BER", BER)]
    stock = {"NOWHERE": {"A": 1}, "BER": {"A": 1}}
    plan = plan_shipments(order({"A": 1}), stock, locations, policy(rule(sort=(SortKey.DISTANCE,))))
    assert shipped_from(plan) == ["BER"]


def test_capacity_sort_counts_unlimited_as_most() -> None:
    locations = [loc("A1", remaining_capacity=1000), loc("A2", remaining_capacity=None), loc("A3")]
    stock = {"A1": {"A": 1}, "A2": {"A": 1}, "A3": {"A": 1}}
    plan = plan_shipments(order({"A": 1}), stock, locations, policy(rule(sort=(SortKey.CAPACITY,))))
    assert shipped_from(plan) == ["A2"]  # A2 and A3 both unlimited: location id decides


def test_stock_balance_counts_only_demanded_skus_after_safety_stock() -> None:
    locations = [loc("L1"), loc("L2")]
    stock = {"L1": {"A": 3, "OTHER": 100}, "L2": {"A": 4}}
    sort = (SortKey.STOCK_BALANCE,)
    assert shipped_from(plan_shipments(order({"A": 1}), stock, locations, policy(rule(sort=sort)))) == ["L2"]


def test_ties_fall_through_the_sort_keys_in_order() -> None:
    locations = [
        loc("P1", cost=CostProfile(100), priority=2),
        loc("P2", cost=CostProfile(100), priority=1),
        loc("P3", cost=CostProfile(50), priority=9),
    ]
    stock = {"P1": {"A": 1}, "P2": {"A": 1}, "P3": {"A": 1}}
    by_priority_then_cost = policy(rule(sort=(SortKey.PRIORITY, SortKey.COST)))
    assert shipped_from(plan_shipments(order({"A": 1}), stock, locations, by_priority_then_cost)) == ["P2"]
    stock["P3"] = {}
    assert shipped_from(plan_shipments(order({"A": 1}), stock, locations)) == ["P2"]  # cost tie → priority


CUSTOMER_UTR = Destination("NL", 52.0907, 5.1361)  # 1 km east of Utrecht's warehouse


def test_nearest_wins_when_costs_tie() -> None:
    # Issue 11, item 3: without cost profiles every location costs 0; Groningen won on its id.
    locations = [loc("GRO", GRO), loc("UTR", UTR)]
    plan = plan_shipments(order({"A": 1}, CUSTOMER_UTR), {"GRO": {"A": 1}, "UTR": {"A": 1}}, locations)
    assert shipped_from(plan) == ["UTR"]
    assert plan.reasons == ("UTR: nearest with full stock at equal cost and priority (1.0 km, cost 0)",)


def test_a_configured_priority_still_beats_distance_on_a_cost_tie() -> None:
    locations = [loc("GRO", GRO, priority=1), loc("UTR", UTR)]
    plan = plan_shipments(order({"A": 1}, CUSTOMER_UTR), {"GRO": {"A": 1}, "UTR": {"A": 1}}, locations)
    assert shipped_from(plan) == ["GRO"]
    assert plan.reasons == ("GRO: first by priority with full stock at equal cost (158 km, cost 0)",)


@pytest.mark.parametrize(
    ("sort", "expected", "reason"),
    [
        # A and B share a building: the distance tie goes to the cheaper
        ((SortKey.DISTANCE,), "B", "B: cheapest with full stock at equal distance (0.0 km, cost 1)"),
        # all unlimited: cost, then priority tie between B and C, so distance decides
        (
            (SortKey.CAPACITY,),
            "B",
            "B: nearest with full stock at equal capacity left, cost and priority (0.0 km, cost 1)",
        ),
        ((SortKey.PRIORITY,), "B", "B: nearest with full stock at equal priority and cost (0.0 km, cost 1)"),
        ((), "B", "B: nearest with full stock at equal cost and priority (0.0 km, cost 1)"),
    ],
)
def test_every_sort_falls_back_to_cost_priority_distance_then_id(
    sort: tuple[SortKey, ...], expected: str, reason: str
) -> None:
    locations = [loc("A", cost=CostProfile(2)), loc("B", cost=CostProfile(1)), loc("C", UTR, cost=CostProfile(1))]
    stock = {"A": {"A": 1}, "B": {"A": 1}, "C": {"A": 1}}
    plan = plan_shipments(order({"A": 1}), stock, locations, policy(rule(sort=sort)))
    assert shipped_from(plan) == [expected]
    assert plan.reasons[-1] == reason


def test_a_tie_on_every_key_goes_to_the_first_location_id_and_says_so() -> None:
    locations = [loc("W2"), loc("W1")]
    plan = plan_shipments(order({"A": 1}), {"W1": {"A": 1}, "W2": {"A": 1}}, locations)
    assert shipped_from(plan) == ["W1"]
    assert plan.reasons == ("W1: first by id with full stock at equal cost, priority and distance (0.0 km, cost 0)",)


def test_the_reason_names_the_key_that_separated_the_best_two() -> None:
    # cost decides between the two full-stock locations, even though a cheaper one lacks stock
    locations = [loc("CHEAP", cost=CostProfile(1)), loc("MID", cost=CostProfile(5)), loc("DEAR", cost=CostProfile(9))]
    plan = plan_shipments(order({"A": 2}), {"CHEAP": {"A": 1}, "MID": {"A": 2}, "DEAR": {"A": 2}}, locations)
    assert plan.reasons == (
        "CHEAP skipped: short of A (needs 2, has 1)",
        "MID: cheapest with full stock (0.0 km, cost 5)",
    )


def test_split_parts_of_equal_size_go_to_the_nearest_on_a_cost_tie() -> None:
    locations = [loc("BIG", UTR), loc("GRO", GRO), loc("RTM", RTM)]
    stock = {"BIG": {"A": 1}, "GRO": {"B": 1}, "RTM": {"B": 1}}
    plan = plan_shipments(order({"A": 1, "B": 1}, CUSTOMER_UTR), stock, locations)
    assert lines_of(plan) == {"BIG": {"A": 1}, "RTM": {"B": 1}}


# splits -------------------------------------------------------------------------------------------------


def test_no_single_location_splits_into_the_fewest_shipments() -> None:
    # Cheap locations each hold one SKU; two dearer ones hold two each: 2 shipments beat 4 cheap ones.
    locations = [
        *(loc(f"CHEAP-{sku}", cost=CostProfile(10)) for sku in "ABCD"),
        loc("AB", cost=CostProfile(500)),
        loc("CD", cost=CostProfile(600)),
    ]
    stock = {**{f"CHEAP-{sku}": {sku: 5} for sku in "ABCD"}, "AB": {"A": 1, "B": 1}, "CD": {"C": 1, "D": 1}}
    plan = plan_shipments(order({"A": 1, "B": 1, "C": 1, "D": 1}), stock, locations)
    assert plan.outcome is PlanOutcome.SHIP
    assert lines_of(plan) == {"AB": {"A": 1, "B": 1}, "CD": {"C": 1, "D": 1}}
    assert "no single location has everything: 2 shipments" in plan.reasons
    assert "AB: 2 of 4 units (0.0 km, cost 500)" in plan.reasons


def test_a_split_takes_the_most_units_first_and_the_rest_from_the_best_ranked() -> None:
    locations = [loc("W1", cost=CostProfile(300)), loc("W2", cost=CostProfile(200)), loc("W3", cost=CostProfile(100))]
    stock = {"W1": {"A": 3, "B": 2}, "W2": {"B": 1}, "W3": {"B": 1}}
    plan = plan_shipments(order({"A": 3, "B": 3}), stock, locations)
    assert lines_of(plan) == {"W1": {"A": 3, "B": 2}, "W3": {"B": 1}}  # W2 and W3 tie on units: cost decides


def test_split_never_means_one_location_or_nothing() -> None:
    locations = [loc("W1"), loc("W2")]
    stock = {"W1": {"A": 1}, "W2": {"B": 1}}
    never = policy(rule(split=SplitPolicy(mode=SplitMode.NEVER)))
    plan = plan_shipments(order({"A": 1, "B": 1}), stock, locations, never)
    assert plan.outcome is PlanOutcome.BACKORDER
    assert plan.shipments == ()
    assert plan.unfilled == (("A", 1), ("B", 1))
    assert "rule 'default': cannot fill (no single location has everything and splitting is off)" in plan.reasons
    # One location holding everything is still fine.
    stock["W2"] = {"A": 1, "B": 1}
    assert shipped_from(plan_shipments(order({"A": 1, "B": 1}), stock, locations, never)) == ["W2"]


def test_max_shipments_caps_a_split() -> None:
    locations = [loc(f"W{n}") for n in range(3)]
    stock = {"W0": {"A": 1}, "W1": {"B": 1}, "W2": {"C": 1}}
    request = order({"A": 1, "B": 1, "C": 1})
    assert len(plan_shipments(request, stock, locations).shipments) == 3
    two = policy(rule(split=SplitPolicy(max_shipments=2)))
    plan = plan_shipments(request, stock, locations, two)
    assert plan.outcome is PlanOutcome.BACKORDER
    assert "rule 'default': cannot fill (would need more than 2 shipments)" in plan.reasons


def test_every_part_of_a_split_must_reach_the_minimum_value() -> None:
    locations = [loc("W1"), loc("W2")]
    stock = {"W1": {"SHIRT": 1}, "W2": {"SOCKS": 1}}
    request = SourcingRequest({"SHIRT": 1, "SOCKS": 1}, {"SHIRT": 3000, "SOCKS": 400}, CUSTOMER_AMS)
    plan = plan_shipments(request, stock, locations, policy(rule(split=SplitPolicy(min_part_value_minor=500))))
    assert plan.outcome is PlanOutcome.BACKORDER
    assert "rule 'default': cannot fill (a split would leave a part worth less than 500)" in plan.reasons
    plan = plan_shipments(request, stock, locations, policy(rule(split=SplitPolicy(min_part_value_minor=400))))
    assert plan.outcome is PlanOutcome.SHIP
    assert len(plan.shipments) == 2


def test_the_minimum_value_does_not_apply_to_a_single_shipment() -> None:
    plan = plan_shipments(
        order({"A": 1}, value=1), {"W": {"A": 1}}, [loc("W")], policy(rule(split=SplitPolicy(min_part_value_minor=999)))
    )
    assert plan.outcome is PlanOutcome.SHIP


def test_a_part_under_the_minimum_gives_way_to_the_next_best() -> None:
    # W1 covers the most units, but only cheap ones; below the minimum, W2 and W3 take them along.
    locations = [loc("W1"), loc("W2"), loc("W3")]
    stock = {"W1": {"PEN": 4}, "W2": {"PEN": 2, "BAG": 1}, "W3": {"PEN": 2, "HAT": 1}}
    request = SourcingRequest({"PEN": 4, "BAG": 1, "HAT": 1}, {"PEN": 10, "BAG": 1000, "HAT": 1000}, CUSTOMER_AMS)
    plan = plan_shipments(request, stock, locations)
    assert lines_of(plan) == {"W1": {"PEN": 4}, "W2": {"BAG": 1}, "W3": {"HAT": 1}}
    plan = plan_shipments(request, stock, locations, policy(rule(split=SplitPolicy(min_part_value_minor=500))))
    assert lines_of(plan) == {"W2": {"BAG": 1, "PEN": 2}, "W3": {"HAT": 1, "PEN": 2}}


# fallbacks ----------------------------------------------------------------------------------------------


NL_THEN_ANY = (
    rule(name="nl-only", location_groups=("nl",)),
    rule(name="anywhere"),
)


def test_next_rule_is_tried_when_a_rule_cannot_fill() -> None:
    locations = [loc("AMS", group="nl"), loc("BER", BER, group="de")]
    stock = {"AMS": {"A": 1}, "BER": {"A": 5}}
    plan = plan_shipments(order({"A": 3}), stock, locations, policy(*NL_THEN_ANY))
    assert plan.rule == "anywhere"
    assert shipped_from(plan) == ["BER"]
    assert "BER skipped: group 'de' excluded" in plan.reasons
    assert "rule 'nl-only': cannot fill (not enough stock: short of A (needs 3, has 1)); next rule" in plan.reasons
    assert plan.reasons.index(
        "rule 'nl-only': cannot fill (not enough stock: short of A (needs 3, has 1)); next rule"
    ) < (plan.reasons.index("BER: only location with full stock (576 km, cost 0)"))


@pytest.mark.parametrize(
    ("fallback", "outcome", "words"),
    [
        (Fallback.BACKORDER, PlanOutcome.BACKORDER, "backorder"),
        (Fallback.HOLD, PlanOutcome.HOLD, "hold for a person"),
        (Fallback.CANCEL, PlanOutcome.CANCEL, "cancel"),
    ],
)
def test_a_rule_can_decide_the_outcome_itself(fallback: Fallback, outcome: PlanOutcome, words: str) -> None:
    locations = [loc("AMS", group="nl"), loc("BER", BER, group="de")]
    stock = {"AMS": {"A": 1}, "BER": {"A": 5}}
    first = rule(name="nl-only", location_groups=("nl",), when_unfillable=fallback)
    plan = plan_shipments(order({"A": 3}), stock, locations, policy(first, rule(name="anywhere")))
    assert plan.outcome is outcome
    assert plan.rule == "nl-only"
    assert plan.shipments == ()
    assert plan.unfilled == (("A", 3),)
    assert plan.reasons[-1] == f"rule 'nl-only': cannot fill (not enough stock: short of A (needs 3, has 1)); {words}"


@pytest.mark.parametrize("fallback", [Fallback.BACKORDER, Fallback.HOLD, Fallback.CANCEL])
def test_when_nothing_fits_applies_after_the_last_rule(fallback: Fallback) -> None:
    plan = plan_shipments(
        order({"A": 3}), {"AMS": {"A": 1}}, [loc("AMS")], policy(*NL_THEN_ANY, when_nothing_fits=fallback)
    )
    assert plan.outcome.value == fallback.value
    assert plan.rule is None
    assert plan.reasons[-2] == "rule 'anywhere': cannot fill (not enough stock: short of A (needs 3, has 1))"
    assert plan.reasons[-1].startswith("no rule can fill the order; ")


def test_no_candidates_at_all() -> None:
    plan = plan_shipments(order({"A": 1}), {"S": {"A": 1}}, [loc("S", kind="store")])
    assert plan.outcome is PlanOutcome.BACKORDER
    assert plan.reasons == (
        "S skipped: ship-from-store off",
        "rule 'default': cannot fill (no location passes the filters)",
        "no rule can fill the order; backorder",
    )


PARTIAL_LOCATIONS = [loc("W1", cost=CostProfile(100)), loc("W2", cost=CostProfile(200))]
PARTIAL_STOCK = {"W1": {"A": 2}, "W2": {"B": 1}}
PARTIAL_ORDER = order({"A": 3, "B": 1, "C": 2})


def test_ship_available_ships_what_is_there_and_backorders_the_rest() -> None:
    plan = plan_shipments(PARTIAL_ORDER, PARTIAL_STOCK, PARTIAL_LOCATIONS, policy(partial=PartialPolicy.SHIP_AVAILABLE))
    assert plan.outcome is PlanOutcome.PARTIAL
    assert lines_of(plan) == {"W1": {"A": 2}, "W2": {"B": 1}}
    assert plan.unfilled == (("A", 1), ("C", 2))
    assert plan.rule == "default"
    assert "ship what is available under rule 'default': 3 of 6 units now, 3 backordered" in plan.reasons
    assert plan.reasons[-2:] == ("W1: 2 of 6 units (0.0 km, cost 100)", "W2: 1 of 6 units (0.0 km, cost 200)")


def test_wait_for_all_backorders_everything() -> None:
    plan = plan_shipments(PARTIAL_ORDER, PARTIAL_STOCK, PARTIAL_LOCATIONS, policy(partial=PartialPolicy.WAIT_FOR_ALL))
    assert plan.outcome is PlanOutcome.BACKORDER
    assert plan.shipments == ()
    assert plan.unfilled == (("A", 3), ("B", 1), ("C", 2))


def test_partial_respects_max_shipments_and_min_part_value() -> None:
    capped = rule(split=SplitPolicy(max_shipments=1))
    plan = plan_shipments(
        PARTIAL_ORDER, PARTIAL_STOCK, PARTIAL_LOCATIONS, policy(capped, partial=PartialPolicy.SHIP_AVAILABLE)
    )
    assert lines_of(plan) == {"W1": {"A": 2}}
    assert plan.unfilled == (("A", 1), ("B", 1), ("C", 2))
    valued = rule(split=SplitPolicy(min_part_value_minor=1500))  # B alone is worth 1000
    plan = plan_shipments(
        PARTIAL_ORDER, PARTIAL_STOCK, PARTIAL_LOCATIONS, policy(valued, partial=PartialPolicy.SHIP_AVAILABLE)
    )
    assert lines_of(plan) == {"W1": {"A": 2}}
    never = rule(split=SplitPolicy(mode=SplitMode.NEVER))
    plan = plan_shipments(
        PARTIAL_ORDER, PARTIAL_STOCK, PARTIAL_LOCATIONS, policy(never, partial=PartialPolicy.SHIP_AVAILABLE)
    )
    assert lines_of(plan) == {"W1": {"A": 2}}


def test_partial_uses_the_first_rule_that_can_ship_any() -> None:
    locations = [loc("AMS", group="nl"), loc("BER", BER, group="de")]
    stock = {"AMS": {"A": 1}, "BER": {"A": 2}}
    plan = plan_shipments(order({"A": 5}), stock, locations, policy(*NL_THEN_ANY, partial=PartialPolicy.SHIP_AVAILABLE))
    assert plan.outcome is PlanOutcome.PARTIAL
    assert plan.rule == "nl-only"
    assert lines_of(plan) == {"AMS": {"A": 1}}
    assert plan.unfilled == (("A", 4),)


def test_a_later_rule_that_fills_everything_beats_a_partial() -> None:
    locations = [loc("AMS", group="nl"), loc("BER", BER, group="de")]
    stock = {"AMS": {"A": 1}, "BER": {"A": 5}}
    plan = plan_shipments(order({"A": 5}), stock, locations, policy(*NL_THEN_ANY, partial=PartialPolicy.SHIP_AVAILABLE))
    assert plan.outcome is PlanOutcome.SHIP
    assert plan.rule == "anywhere"


def test_hold_and_cancel_are_not_turned_into_a_partial() -> None:
    for fallback in (Fallback.HOLD, Fallback.CANCEL):
        plan = plan_shipments(
            PARTIAL_ORDER,
            PARTIAL_STOCK,
            PARTIAL_LOCATIONS,
            policy(partial=PartialPolicy.SHIP_AVAILABLE, when_nothing_fits=fallback),
        )
        assert plan.outcome.value == fallback.value
        assert plan.shipments == ()


def test_nothing_in_stock_anywhere_with_ship_available_is_a_backorder() -> None:
    plan = plan_shipments(order({"A": 1}), {}, [loc("W")], policy(partial=PartialPolicy.SHIP_AVAILABLE))
    assert plan.outcome is PlanOutcome.BACKORDER
    assert plan.unfilled == (("A", 1),)


# click & collect ------------------------------------------------------------------------------------------


def collect_at(store: str) -> Destination:
    return Destination("NL", pickup_location_id=store)


def test_collect_in_store_when_the_store_holds_everything() -> None:
    locations = [loc("STORE-UTR", UTR, kind="store"), loc("WH", AMS, cost=CostProfile(0))]
    stock = {"STORE-UTR": {"A": 1, "B": 2}, "WH": {"A": 9, "B": 9}}
    plan = plan_shipments(order({"A": 1, "B": 2}, collect_at("STORE-UTR")), stock, locations)
    assert plan.outcome is PlanOutcome.SHIP
    (shipment,) = plan.shipments
    assert (shipment.location_id, shipment.transfer_to, shipment.distance_km) == ("STORE-UTR", None, 0.0)
    assert plan.reasons == ("STORE-UTR: collect in store, full stock",)


def test_collect_elsewhere_transfers_to_the_store() -> None:
    locations = [
        loc("STORE-UTR", UTR, kind="store"),
        loc("WH-AMS", AMS, cost=CostProfile(100, 1)),
        loc("WH-BER", BER, cost=CostProfile(100, 1)),
    ]
    stock = {"STORE-UTR": {"A": 1}, "WH-AMS": {"A": 1, "B": 2}, "WH-BER": {"A": 1, "B": 2}}
    plan = plan_shipments(order({"A": 1, "B": 2}, collect_at("STORE-UTR")), stock, locations)
    assert plan.outcome is PlanOutcome.SHIP
    (shipment,) = plan.shipments
    assert (shipment.location_id, shipment.transfer_to) == ("WH-AMS", "STORE-UTR")
    # Distances run to the store, not to the customer.
    assert shipment.distance_km == pytest.approx(distance_km(*AMS, *UTR))
    assert plan.reasons[0] == "STORE-UTR (pickup): short of B (needs 2, has 0); transfer needed"
    assert plan.reasons[-1] == "WH-AMS: cheapest with full stock, transfer to STORE-UTR (34 km, cost 134)"


def test_a_split_transfer_sends_every_part_to_the_store() -> None:
    locations = [loc("STORE", UTR, kind="store"), loc("W1"), loc("W2")]
    stock = {"W1": {"A": 1}, "W2": {"B": 1}}
    plan = plan_shipments(order({"A": 1, "B": 1}, collect_at("STORE")), stock, locations)
    assert {s.transfer_to for s in plan.shipments} == {"STORE"}
    assert len(plan.shipments) == 2


def test_a_pickup_store_at_capacity_is_supplied_by_transfer() -> None:
    locations = [loc("STORE", UTR, kind="store", remaining_capacity=0), loc("WH")]
    stock = {"STORE": {"A": 1}, "WH": {"A": 1}}
    plan = plan_shipments(order({"A": 1}, collect_at("STORE")), stock, locations)
    assert plan.shipments[0].location_id == "WH"
    assert plan.shipments[0].transfer_to == "STORE"
    assert plan.reasons[0] == "STORE (pickup): capacity reached; transfer needed"


def test_an_unknown_or_closed_pickup_store_is_held_for_a_person() -> None:
    stock = {"WH": {"A": 1}, "CLOSED": {"A": 1}}
    locations = [loc("WH"), loc("CLOSED", kind="store", active=False)]
    plan = plan_shipments(order({"A": 1}, collect_at("GONE")), stock, locations)
    assert (plan.outcome, plan.unfilled, plan.reasons) == (
        PlanOutcome.HOLD,
        (("A", 1),),
        ("pickup store GONE is unknown; hold",),
    )
    plan = plan_shipments(order({"A": 1}, collect_at("CLOSED")), stock, locations)
    assert plan.outcome is PlanOutcome.HOLD
    assert plan.reasons == ("pickup store CLOSED is inactive; hold",)


def test_a_partial_collection_is_transferred_too() -> None:
    locations = [loc("STORE", UTR, kind="store"), loc("WH")]
    stock = {"WH": {"A": 1}}
    plan = plan_shipments(
        order({"A": 1, "B": 1}, collect_at("STORE")), stock, locations, policy(partial=PartialPolicy.SHIP_AVAILABLE)
    )
    assert plan.outcome is PlanOutcome.PARTIAL
    assert [(s.location_id, s.transfer_to) for s in plan.shipments] == [("WH", "STORE")]


# reasons --------------------------------------------------------------------------------------------------


def test_reasons_name_the_chosen_and_why_better_ranked_ones_were_skipped() -> None:
    locations = [
        loc("AMS", AMS, cost=CostProfile(495)),
        loc("UTR", UTR, remaining_capacity=0),
        loc("RTM", RTM),
        loc("STORE-X", (52.31, 4.81), kind="store"),
        loc("BER", BER),
        loc("EIN", EIN),  # holds none of the SKUs: not worth a line
    ]
    stock = {
        "AMS": {"SKU-1": 5},
        "UTR": {"SKU-1": 5},
        "RTM": {"SKU-1": 5},
        "STORE-X": {"SKU-1": 5},
        "BER": {"SKU-1": 9},
    }
    destination = Destination("NL", 52.30, 4.80)
    nearby = policy(rule(max_distance_km=200, sort=(SortKey.DISTANCE,)))
    plan = plan_shipments(order({"SKU-1": 2}, destination), stock, locations, nearby)
    assert shipped_from(plan) == ["AMS"]
    assert plan.reasons == (
        "STORE-X skipped: ship-from-store off",
        "AMS: nearest with full stock (10 km, cost 495)",
    )
    plan = plan_shipments(
        order({"SKU-1": 2}, destination), {**stock, "AMS": {}, "RTM": {"SKU-1": 1}}, locations, nearby
    )
    assert shipped_from(plan) == []
    assert plan.reasons == (
        "STORE-X skipped: ship-from-store off",
        "UTR skipped: capacity reached",
        "BER skipped: 584 km beyond the 200 km radius",
        "rule 'default': cannot fill (not enough stock: short of SKU-1 (needs 2, has 1))",
        "no rule can fill the order; backorder",
    )
    assert plan.explanation == "; ".join(plan.reasons)


def test_shortages_list_each_missing_sku() -> None:
    locations = [loc("RTM", RTM, cost=CostProfile(1)), loc("AMS", cost=CostProfile(9))]
    stock = {"RTM": {"SKU-1": 1, "SKU-2": 3}, "AMS": {"SKU-1": 2, "SKU-2": 2, "SKU-3": 1}}
    plan = plan_shipments(order({"SKU-1": 2, "SKU-2": 2, "SKU-3": 1}), stock, locations)
    assert plan.reasons[0] == "RTM skipped: short of SKU-1 (needs 2, has 1), SKU-3 (needs 1, has 0)"


def test_skipped_lines_are_capped_per_rule() -> None:
    locations = [loc(f"S{n:02d}", kind="store") for n in range(12)] + [loc("WH", cost=CostProfile(5))]
    stock: dict[str, dict[str, int]] = {f"S{n:02d}": {"A": 1} for n in range(12)}
    stock["WH"] = {"A": 1}
    plan = plan_shipments(order({"A": 1}), stock, locations)
    assert plan.reasons == (
        "S00 skipped: ship-from-store off",
        "S01 skipped: ship-from-store off",
        "S02 skipped: ship-from-store off",
        "S03 skipped: ship-from-store off",
        "S04 skipped: ship-from-store off",
        "rule 'default': 7 more skipped",
        "WH: only location with full stock (0.0 km, cost 5)",
    )


def test_a_reason_given_under_one_rule_is_not_repeated_under_the_next() -> None:
    locations = [loc("A-UTR", UTR, group="nl", remaining_capacity=0), loc("AMS", group="nl"), loc("BER", BER)]
    stock = {"A-UTR": {"A": 5}, "AMS": {"A": 1}, "BER": {"A": 5}}
    plan = plan_shipments(order({"A": 3}), stock, locations, policy(*NL_THEN_ANY))
    assert plan.reasons.count("A-UTR skipped: capacity reached") == 1
    assert "AMS skipped: short of A (needs 3, has 1)" in plan.reasons
    assert shipped_from(plan) == ["BER"]
