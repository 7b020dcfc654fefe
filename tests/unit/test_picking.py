"""The floor's pure rules: which step a recorded shipment waits for (it must agree with the
workflow's order of steps, or the screen offers a step the workflow refuses), when it is due, and
counting scans against a pick list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.fulfilment import DONE_STATUS, STEPS, ShipmentKind, ShipmentStatus, Step
from domain.picking import (
    Scan,
    ScanRefused,
    StepTimes,
    clean_counts,
    count_scan,
    missing_units,
    read_scan,
    step_due,
    waiting_step,
    where_step_happens,
)

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind", list(ShipmentKind))
def test_the_waiting_step_follows_the_workflows_steps_for_every_kind(kind):
    steps = STEPS[kind]
    assert waiting_step(kind.value, ShipmentStatus.RESERVED.value) is steps[0]
    for done, following in zip(steps, [*steps[1:], None], strict=True):
        assert waiting_step(kind.value, DONE_STATUS[done].value) is following


@pytest.mark.parametrize(
    "status", ["WITHDRAWN", "EXPIRED", "CANCELLED", "COLLECTED", "IN_TRANSIT", "DELIVERED", "nonsense"]
)
def test_a_finished_or_unknown_shipment_waits_for_nothing(status):
    assert waiting_step("delivery", status) is None
    assert waiting_step("transfer_collect", status) is None


def test_ready_and_collect_happen_at_the_pickup_store():
    assert where_step_happens(Step.PICK, "transfer_collect", "AMS", "UTR") == "AMS"
    assert where_step_happens(Step.READY, "transfer_collect", "AMS", "UTR") == "UTR"
    assert where_step_happens(Step.COLLECT, "collect", "UTR", None) == "UTR"
    assert where_step_happens(Step.SHIP, "delivery", "AMS", None) == "AMS"


def test_a_step_is_due_its_sla_after_the_step_before_and_a_pickup_when_it_expires():
    slas = {"pick": 4 * 3600, "pack": 2 * 3600, "ship": 8 * 3600, "ready": 3600}
    times = StepTimes(T0, picked_at=T0 + timedelta(hours=1), packed_at=T0 + timedelta(hours=2))
    assert step_due(Step.PICK, times, slas, 86400) == T0 + timedelta(hours=4)
    assert step_due(Step.PACK, times, slas, 86400) == T0 + timedelta(hours=3)
    assert step_due(Step.SHIP, times, slas, 86400) == T0 + timedelta(hours=10)
    assert step_due(Step.READY, times, slas, 86400) == T0 + timedelta(hours=2)  # collect: after the pick
    ready = StepTimes(T0, ready_at=T0 + timedelta(hours=5))
    assert step_due(Step.COLLECT, ready, slas, 86400) == T0 + timedelta(hours=29)
    assert step_due(Step.PACK, StepTimes(T0), slas, 86400) is None  # not picked: no start yet
    assert step_due(Step.PICK, times, {}, 86400) is None  # no SLA for it


@pytest.mark.parametrize(
    ("typed", "units", "expected"),
    [
        ("8712345678906", 1, Scan("8712345678906", 1)),
        ("  mug-1 \n", 1, Scan("mug-1", 1)),
        ("3x MUG-1", 1, Scan("MUG-1", 3)),
        ("12 X MUG-1", 1, Scan("MUG-1", 12)),
        ("2*8712345678906", 1, Scan("8712345678906", 2)),
        ("MUG-1", 4, Scan("MUG-1", 4)),
    ],
)
def test_a_scan_is_a_code_and_a_number_of_units(typed, units, expected):
    assert read_scan(typed, units) == expected


@pytest.mark.parametrize(("typed", "units"), [("", 1), ("   ", 1), ("MUG-1", 0), ("1000x MUG-1", 1)])
def test_a_scan_without_a_code_or_with_an_impossible_number_is_refused(typed, units):
    with pytest.raises(ValueError, match=r"scan or type|units"):
        read_scan(typed, units)


LINES = {"MUG-1": 2, "tee-Blue": 1}
EANS = {"MUG-1": "8712345678906", "tee-Blue": None}


def test_a_scan_counts_by_ean_or_by_sku_in_any_letter_case():
    sku, counts = count_scan(LINES, {}, Scan("8712345678906", 1), EANS)
    assert (sku, counts) == ("MUG-1", {"MUG-1": 1})
    sku, counts = count_scan(LINES, counts, Scan("TEE-BLUE", 1), EANS)
    assert (sku, counts) == ("tee-Blue", {"MUG-1": 1, "tee-Blue": 1})


def test_a_wrong_item_and_one_unit_too_many_are_refused():
    with pytest.raises(ScanRefused, match="CAP-1 is not on this pick list"):
        count_scan(LINES, {}, Scan("CAP-1", 1), EANS)
    with pytest.raises(ScanRefused, match="not on this pick list"):
        count_scan(LINES, {}, Scan("871234567890", 1), EANS)  # an EAN one digit short is another code
    with pytest.raises(ScanRefused, match="asks for 2, this would make 3"):
        count_scan(LINES, {"MUG-1": 1}, Scan("MUG-1", 2), EANS)


@given(
    st.dictionaries(
        st.one_of(st.sampled_from(sorted(LINES)), st.text(max_size=12)),
        st.one_of(st.integers(), st.text(max_size=3), st.none(), st.booleans(), st.floats()),
    )
)
def test_counts_from_a_form_name_every_line_and_never_more_than_it_asks(posted):
    counts = clean_counts(LINES, posted)
    assert set(counts) == set(LINES)  # every line named: a SKU left out would count as picked in full
    assert all(0 <= counts[sku] <= LINES[sku] for sku in LINES)


def test_what_a_short_pick_leaves_behind():
    assert missing_units(LINES, {"MUG-1": 1, "tee-Blue": 1}) == {"MUG-1": 1}
    assert missing_units(LINES, {"MUG-1": 2, "tee-Blue": 1}) == {}
    assert missing_units(LINES, {}) == LINES
