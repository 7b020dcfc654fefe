"""Sourcing: one location, the first by (priority, location_id) that holds every demanded unit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.sourcing import LocationStock, choose_single_location

pytestmark = pytest.mark.unit


def test_lowest_priority_value_wins() -> None:
    decision = choose_single_location(
        {"SKU-A": 1},
        [
            LocationStock("AAA-store", 5, {"SKU-A": 10}),
            LocationStock("ZZZ-warehouse", 1, {"SKU-A": 10}),
            LocationStock("MMM-dropship", 3, {"SKU-A": 10}),
        ],
    )
    assert decision.location_id == "ZZZ-warehouse"
    assert decision.reason.startswith("ZZZ-warehouse: first by priority")
    assert "skipped" not in decision.reason


def test_equal_priority_is_broken_by_location_id() -> None:
    decision = choose_single_location(
        {"SKU-A": 2},
        [LocationStock("wh-b", 1, {"SKU-A": 2}), LocationStock("wh-a", 1, {"SKU-A": 2})],
    )
    assert decision.location_id == "wh-a"


def test_short_locations_are_skipped_and_explained() -> None:
    decision = choose_single_location(
        {"SKU-A": 2, "SKU-B": 1, "SKU-C": 1},
        [
            LocationStock("wh-1", 1, {"SKU-A": 1, "SKU-B": 5, "SKU-C": 0}),
            LocationStock("wh-2", 2, {"SKU-A": 5, "SKU-C": 1}),
            LocationStock("wh-3", 3, {"SKU-A": 2, "SKU-B": 1, "SKU-C": 1}),
            LocationStock("wh-4", 4, {"SKU-A": 9, "SKU-B": 9, "SKU-C": 9}),
        ],
    )
    assert decision.location_id == "wh-3"  # exactly enough is enough
    assert "skipped wh-1 short of SKU-A, SKU-C; wh-2 short of SKU-B" in decision.reason
    assert "wh-4" not in decision.reason


def test_none_when_no_location_has_everything() -> None:
    decision = choose_single_location(
        {"SKU-A": 1, "SKU-B": 1},
        [LocationStock("wh-1", 1, {"SKU-A": 1}), LocationStock("wh-2", 2, {"SKU-B": 1})],
    )
    assert decision.location_id is None
    assert decision.reason.startswith("no single location can ship everything")
    assert "wh-1 short of SKU-B" in decision.reason
    assert "wh-2 short of SKU-A" in decision.reason


def test_none_when_there_are_no_locations() -> None:
    decision = choose_single_location({"SKU-A": 1}, [])
    assert decision.location_id is None
    assert "no location stocks these SKUs" in decision.reason


def test_a_negative_available_count_is_short() -> None:
    decision = choose_single_location({"SKU-A": 1}, [LocationStock("wh-1", 1, {"SKU-A": -3})])
    assert decision.location_id is None


SKUS = ["SKU-A", "SKU-B", "SKU-C", "SKU-D"]
LOCATION_IDS = ["store-ams", "store-utr", "wh-1", "wh-10", "wh-2", "dropship-x", "a", "B"]

demands = st.dictionaries(st.sampled_from(SKUS), st.integers(min_value=1, max_value=5), min_size=1, max_size=4)


@st.composite
def candidate_lists(draw: st.DrawFn) -> list[LocationStock]:
    ids = draw(st.lists(st.sampled_from(LOCATION_IDS), unique=True, max_size=6))
    return [
        LocationStock(
            location_id,
            draw(st.integers(min_value=0, max_value=3)),
            draw(st.dictionaries(st.sampled_from(SKUS), st.integers(min_value=0, max_value=6))),
        )
        for location_id in ids
    ]


@settings(max_examples=200, deadline=None, database=None)
@given(demand=demands, candidates=candidate_lists())
def test_property_first_full_location_by_priority_then_id(
    demand: dict[str, int], candidates: list[LocationStock]
) -> None:
    def has_everything(c: LocationStock) -> bool:
        return all(c.available.get(sku, 0) >= qty for sku, qty in demand.items())

    decision = choose_single_location(demand, candidates)
    full = [c for c in candidates if has_everything(c)]
    if decision.location_id is None:
        assert full == []
        return
    chosen = next(c for c in candidates if c.location_id == decision.location_id)
    assert has_everything(chosen)
    for other in full:
        assert (chosen.priority, chosen.location_id) <= (other.priority, other.location_id)
