"""Sourcing speed: `python -m bench.sourcing` times plan_shipments for a 10-line order over 50 locations.

Two seeded cases: stock spread so that no location holds the whole order (the plan splits), and stock
where several locations hold everything (the plan picks one). The target is well under 1 ms a plan.
"""

from __future__ import annotations

import argparse
import random
import statistics
import timeit
from collections.abc import Callable
from functools import partial

from domain.routing import RoutingPolicy, RoutingRule, SortKey, SplitPolicy
from domain.sourcing import (
    CostProfile,
    Destination,
    PlanOutcome,
    SourcingLocation,
    SourcingPlan,
    SourcingRequest,
    plan_shipments,
)

LINES = 10
LOCATIONS = 50
# Roughly the Benelux and western Germany: distances from a few km to a few hundred.
LAT_RANGE = (50.0, 53.5)
LON_RANGE = (3.5, 9.0)
COUNTRIES = ("NL", "BE", "DE")
KINDS = ("warehouse", "warehouse", "store", "store", "dropship")

# A demanding channel: nearby first (within 150 km, keeping 1 unit back), then anywhere.
POLICY = RoutingPolicy(
    rules=(
        RoutingRule(
            name="nearby",
            max_distance_km=150.0,
            routing_safety_stock=1,
            sort=(SortKey.DISTANCE, SortKey.COST, SortKey.PRIORITY),
            split=SplitPolicy(min_part_value_minor=1000, max_shipments=3),
        ),
        RoutingRule(name="anywhere", split=SplitPolicy(max_shipments=4)),
    ),
)


def build_locations(rng: random.Random) -> list[SourcingLocation]:
    locations = []
    for n in range(LOCATIONS):
        kind = KINDS[n % len(KINDS)]
        locations.append(
            SourcingLocation(
                location_id=f"LOC-{n:02d}",
                kind=kind,
                country=rng.choice(COUNTRIES),
                latitude=rng.uniform(*LAT_RANGE),
                longitude=rng.uniform(*LON_RANGE),
                priority=rng.randint(1, 200),
                group=rng.choice(("north", "south")),
                cost=CostProfile(base_minor=rng.randint(300, 900), per_km_minor=rng.randint(0, 3)),
                ship_from_store=kind == "store" and rng.random() < 0.7,
                remaining_capacity=rng.choice((None, 0, 5, 50)),
            )
        )
    return locations


def build_order(rng: random.Random) -> SourcingRequest:
    skus = [f"SKU-{n:03d}" for n in range(LINES)]
    return SourcingRequest(
        demand={sku: rng.randint(1, 3) for sku in skus},
        unit_values={sku: rng.randint(500, 5000) for sku in skus},
        destination=Destination("NL", latitude=52.37, longitude=4.90),
    )


Stock = dict[str, dict[str, int]]


def split_stock(rng: random.Random, order: SourcingRequest, locations: list[SourcingLocation]) -> Stock:
    """Each location holds about half the SKUs: nobody holds the whole order, a few together do."""
    skus = sorted(order.demand)
    stock: Stock = {}
    for loc in locations:
        held = rng.sample(skus, k=rng.randint(3, LINES // 2 + 1))
        stock[loc.location_id] = {sku: rng.randint(0, 6) for sku in held}
    return stock


def full_stock(rng: random.Random, order: SourcingRequest, locations: list[SourcingLocation]) -> Stock:
    """As above, and eight locations hold the whole order with room to spare."""
    stock = split_stock(rng, order, locations)
    for loc in rng.sample(locations, k=8):
        stock[loc.location_id] = {sku: units + 1 + rng.randint(0, 5) for sku, units in order.demand.items()}
    return stock


def time_plan(plan: Callable[[], SourcingPlan], number: int, repeat: int) -> float:
    """Median microseconds per plan over `repeat` runs of `number` plans."""
    runs = timeit.Timer(plan).repeat(repeat=repeat, number=number)
    return statistics.median(runs) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--number", type=int, default=2000, help="plans per timed run")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs (the median is reported)")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    locations = build_locations(rng)
    order = build_order(rng)
    cases = {
        "split (no location holds everything)": split_stock(rng, order, locations),
        "single (8 locations hold everything)": full_stock(rng, order, locations),
    }
    units = sum(order.demand.values())
    print(f"order: {LINES} lines, {units} units; {LOCATIONS} locations; target well under 1000 µs per plan")
    policies = {"channel policy (2 rules)": POLICY, "default policy (1 rule)": RoutingPolicy()}
    for case, stock in cases.items():
        full = [
            loc.location_id
            for loc in locations
            if all(stock[loc.location_id].get(sku, 0) >= units for sku, units in order.demand.items())
        ]
        for label, policy in policies.items():
            plan = plan_shipments(order, stock, locations, policy)
            # Measure the work a real order does: a plan that ships, and a split where the case says so.
            if plan.outcome is not PlanOutcome.SHIP or (case.startswith("split") and full):
                raise SystemExit(f"{case}: the seeded data no longer makes this case ({plan.explanation})")
            micros = time_plan(partial(plan_shipments, order, stock, locations, policy), args.number, args.repeat)
            print(
                f"{case}, {label}: {micros:6.1f} µs per plan (median of {args.repeat} x {args.number}); "
                f"decided by rule {plan.rule!r}: {len(plan.shipments)} shipment(s), {len(plan.reasons)} reasons"
            )


if __name__ == "__main__":
    main()
