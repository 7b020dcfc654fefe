"""A return's life (domain.return_lifecycle): moves only forward, an RMA a workflow can recompute,
receipts never above what was announced, dispositions that account for every unit received, and
refunds for what came back that add up to the cent and never exceed what was paid."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.allocation import goods_total, refund_for_units
from domain.money import Money
from domain.order import Order, OrderLine
from domain.return_lifecycle import (
    ALLOWED,
    FINISHED,
    Condition,
    Disposition,
    DispositionLine,
    Receipt,
    ReceivedLine,
    RefundTiming,
    ReturnState,
    ReturnStepRefusalKind,
    ReturnStepRefused,
    StockEffects,
    WriteOff,
    after_recovery,
    check_dispositions,
    check_receipt,
    check_transition,
    expires_at,
    has_expired,
    normalise_rma,
    refund_on_receipt,
    refund_on_request,
    refundable_goods,
    rma_number,
    suggested_dispositions,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def order_of(lines: list[tuple[str, int, int]], *, shipping: int = 495, discount: int = 0) -> Order:
    return Order(
        channel="webshop",
        external_id="R-15",
        currency="EUR",
        lines=tuple(OrderLine(sku, qty, eur(total // qty), eur(total)) for sku, qty, total in lines),
        placed_at=NOW,
        total=eur(sum(t for _, _, t in lines) + shipping - discount),
        shipping=eur(shipping),
        discount=eur(discount) if discount else None,
    )


ORDER = order_of([("TEE", 3, 2999), ("MUG", 1, 1250), ("TEE", 1, 1000)])


def refused(kind: ReturnStepRefusalKind) -> pytest.RaisesExc[ReturnStepRefused]:
    return pytest.raises(ReturnStepRefused, check=lambda err: err.kind is kind and bool(str(err)))


# --- states ---------------------------------------------------------------------------------------


def test_the_happy_path_goes_requested_received_disposed_resolved():
    state = ReturnState.AWAITING_APPROVAL
    for target in (ReturnState.REQUESTED, ReturnState.RECEIVED, ReturnState.DISPOSED, ReturnState.RESOLVED):
        state = check_transition(state, target)
    assert state is ReturnState.RESOLVED


def test_a_late_parcel_is_still_received_after_its_request_expired():
    assert check_transition(ReturnState.EXPIRED, ReturnState.RECEIVED) is ReturnState.RECEIVED


@pytest.mark.parametrize(
    ("current", "target", "kind"),
    [
        (ReturnState.REQUESTED, ReturnState.DISPOSED, ReturnStepRefusalKind.OUT_OF_ORDER),
        (ReturnState.RECEIVED, ReturnState.RECEIVED, ReturnStepRefusalKind.OUT_OF_ORDER),
        (ReturnState.RECEIVED, ReturnState.CANCELLED, ReturnStepRefusalKind.OUT_OF_ORDER),
        (ReturnState.AWAITING_APPROVAL, ReturnState.RECEIVED, ReturnStepRefusalKind.OUT_OF_ORDER),
        (ReturnState.RESOLVED, ReturnState.RECEIVED, ReturnStepRefusalKind.FINISHED),
        (ReturnState.CANCELLED, ReturnState.REQUESTED, ReturnStepRefusalKind.FINISHED),
        (ReturnState.REJECTED, ReturnState.REQUESTED, ReturnStepRefusalKind.FINISHED),
    ],
)
def test_illegal_moves_are_refused_with_a_kind(current, target, kind):
    with refused(kind):
        check_transition(current, target)


def test_every_state_but_the_first_is_reachable_and_finished_states_lead_nowhere():
    reachable = set().union(*ALLOWED.values())
    assert reachable == set(ReturnState) - {ReturnState.AWAITING_APPROVAL}
    assert all(not ALLOWED[state] for state in FINISHED)


# --- RMA ------------------------------------------------------------------------------------------


def test_the_rma_is_short_typable_and_numbered_by_sequence():
    first, second = rma_number("order-shopify-1001", 1), rma_number("order-shopify-1001", 2)
    assert re.fullmatch(r"RMA-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}-1", first)
    assert second == first[:-1] + "2"
    assert rma_number("order-shopify-1002", 1) != first


def test_a_typed_or_scanned_rma_reads_back_as_the_same_number():
    rma = rma_number("order-bol-A2K9", 3)
    body = rma[4:15].replace("-", "")
    assert normalise_rma(rma) == rma
    assert normalise_rma(f" rma {body.lower()} 3 ") == rma
    assert normalise_rma("RMA-1234-3") is None
    assert normalise_rma("hello") is None
    assert normalise_rma(f"RMA-{body}-0") is None


@pytest.mark.parametrize("sequence", [0, -1, True])
def test_an_rma_sequence_starts_at_one(sequence):
    with pytest.raises(ValueError, match="starts at 1"):
        rma_number("order-shopify-1001", sequence)


@given(
    order_id=st.text(min_size=1, max_size=140),
    a=st.integers(min_value=1, max_value=10**6),
    b=st.integers(min_value=1, max_value=10**6),
)
def test_the_rma_is_stable_and_distinct_per_sequence(order_id, a, b):
    assert rma_number(order_id, a) == rma_number(order_id, a)
    assert (rma_number(order_id, a) == rma_number(order_id, b)) == (a == b)
    assert normalise_rma(rma_number(order_id, a)) == rma_number(order_id, a)


# --- receipt --------------------------------------------------------------------------------------


def test_fewer_than_announced_is_recorded_as_short_per_sku():
    receipt = check_receipt(
        {"TEE": 3, "MUG": 1},
        [ReceivedLine("TEE", 1, Condition.AS_NEW), ReceivedLine("TEE", 1, Condition.DAMAGED)],
    )
    assert receipt.received == {"TEE": 2}
    assert receipt.short == {"TEE": 1, "MUG": 1}
    assert receipt.by_condition == {"TEE": {Condition.AS_NEW: 1, Condition.DAMAGED: 1}}


def test_an_empty_parcel_is_short_of_everything():
    receipt = check_receipt({"TEE": 2}, [ReceivedLine("TEE", 0)])
    assert receipt.received == {} and receipt.short == {"TEE": 2}


@pytest.mark.parametrize(
    ("lines", "kind"),
    [
        ([ReceivedLine("TEE", 3), ReceivedLine("TEE", 1, Condition.OPENED)], ReturnStepRefusalKind.TOO_MANY),
        ([ReceivedLine("CAP", 1)], ReturnStepRefusalKind.UNANNOUNCED),
        ([ReceivedLine("TEE", -1)], ReturnStepRefusalKind.INVALID),
        ([ReceivedLine("TEE", True)], ReturnStepRefusalKind.INVALID),
        ([ReceivedLine("TEE", 1), ReceivedLine("TEE", 1)], ReturnStepRefusalKind.INVALID),
        ([ReceivedLine("TEE", 1, "soggy")], ReturnStepRefusalKind.INVALID),  # type: ignore[arg-type]
    ],
)
def test_impossible_receipts_are_refused_with_a_kind(lines, kind):
    with refused(kind):
        check_receipt({"TEE": 3}, lines)


# --- disposition ----------------------------------------------------------------------------------

RECEIPT = Receipt(
    by_condition={"TEE": {Condition.AS_NEW: 2, Condition.DAMAGED: 1}, "MUG": {Condition.OPENED: 1}}, short={}
)


def test_dispositions_become_plain_stock_effects():
    effects = check_dispositions(
        RECEIPT,
        [
            DispositionLine("TEE", 2, Disposition.RESTOCK),
            DispositionLine("TEE", 1, Disposition.SCRAP, "torn seam"),
            DispositionLine("MUG", 1, Disposition.REFURBISH),
        ],
    )
    assert effects == StockEffects(
        sellable={"TEE": 2}, held={"MUG": 1}, written_off=(WriteOff("TEE", 1, "torn seam"),), to_supplier={}
    )
    assert effects.defects == {"TEE": 1}


def test_the_suggested_dispositions_follow_the_condition_and_add_up():
    lines = suggested_dispositions(RECEIPT)
    effects = check_dispositions(RECEIPT, lines)
    assert effects.sellable == {"TEE": 2}
    assert effects.held == {"MUG": 1}
    assert effects.written_off == (WriteOff("TEE", 1, "returned damaged"),)


@pytest.mark.parametrize(
    ("lines", "kind"),
    [
        ([DispositionLine("TEE", 3, Disposition.RESTOCK)], ReturnStepRefusalKind.DOES_NOT_ADD_UP),  # MUG left out
        (
            [DispositionLine("TEE", 4, Disposition.RESTOCK), DispositionLine("MUG", 1, Disposition.RESTOCK)],
            ReturnStepRefusalKind.DOES_NOT_ADD_UP,
        ),
        (
            [
                DispositionLine("TEE", 3, Disposition.RESTOCK),
                DispositionLine("MUG", 1, Disposition.RESTOCK),
                DispositionLine("CAP", 1, Disposition.RESTOCK),
            ],
            ReturnStepRefusalKind.DOES_NOT_ADD_UP,
        ),
        (
            [DispositionLine("TEE", 3, Disposition.SCRAP, "  "), DispositionLine("MUG", 1, Disposition.RESTOCK)],
            ReturnStepRefusalKind.INVALID,
        ),
        (
            [DispositionLine("TEE", 0, Disposition.RESTOCK), DispositionLine("MUG", 1, Disposition.RESTOCK)],
            ReturnStepRefusalKind.INVALID,
        ),
        (
            [DispositionLine("TEE", 3, Disposition.SCRAP, "x" * 201), DispositionLine("MUG", 1, Disposition.RESTOCK)],
            ReturnStepRefusalKind.INVALID,
        ),
    ],
)
def test_dispositions_that_do_not_account_for_the_receipt_are_refused(lines, kind):
    with refused(kind):
        check_dispositions(RECEIPT, lines)


# --- money ----------------------------------------------------------------------------------------


def test_at_receipt_the_refund_is_for_what_came_not_what_was_announced():
    receipt = check_receipt({"TEE": 2, "MUG": 1}, [ReceivedLine("TEE", 1)])
    asked = refund_on_request(ORDER, RefundTiming.AT_RECEIPT, {}, {"TEE": 2, "MUG": 1})
    assert asked.refund == eur(0) and asked.refunded_units == {}
    step = refund_on_receipt(ORDER, RefundTiming.AT_RECEIPT, {}, receipt)
    assert step.refund == eur(999)  # the first of three tees for 29.99
    assert step.refunded_units == {"TEE": 1}
    assert step.over_refunded == eur(0)


def test_refunded_on_request_then_short_at_receipt_leaves_the_difference_to_recover():
    asked = refund_on_request(ORDER, RefundTiming.ON_REQUEST, {}, {"TEE": 2, "MUG": 1})
    assert asked.refund == eur(999 + 1000 + 1250)
    receipt = check_receipt({"TEE": 2, "MUG": 1}, [ReceivedLine("TEE", 2)])
    step = refund_on_receipt(ORDER, RefundTiming.ON_REQUEST, asked.refunded_units, receipt)
    assert step.refund == eur(0)
    assert step.over_refunded == eur(1250)
    basis = after_recovery(step.refunded_units, receipt.short)
    assert basis == {"TEE": 2}
    # The mug sent after all is refunded again for exactly what was recovered.
    assert refund_for_units(ORDER, basis, {"MUG": 1}) == step.over_refunded


def test_nothing_is_left_to_refund_once_every_unit_was_refunded():
    step = refund_on_request(ORDER, RefundTiming.ON_REQUEST, {}, {"TEE": 4, "MUG": 1})
    assert step.refund == eur(goods_total(ORDER))
    assert refundable_goods(ORDER, step.refunded_units) == eur(0)


def test_recovering_more_than_was_refunded_is_refused():
    with pytest.raises(ValueError, match="recover"):
        after_recovery({"TEE": 1}, {"TEE": 2})


# --- expiry ---------------------------------------------------------------------------------------


def test_a_request_expires_after_the_setting_and_only_while_it_waits_for_its_parcel():
    after = timedelta(days=14)
    assert expires_at(NOW, after) == NOW + after
    assert not has_expired(ReturnState.REQUESTED, NOW, NOW + after - timedelta(seconds=1), after)
    assert has_expired(ReturnState.REQUESTED, NOW, NOW + after, after)
    assert not has_expired(ReturnState.RECEIVED, NOW, NOW + 2 * after, after)
    assert not has_expired(ReturnState.AWAITING_APPROVAL, NOW, NOW + 2 * after, after)


@pytest.mark.parametrize(
    ("requested_at", "now", "after"),
    [
        (NOW.replace(tzinfo=None), NOW, timedelta(days=1)),
        (NOW, NOW.replace(tzinfo=None), timedelta(days=1)),
        (NOW, NOW, timedelta(0)),
    ],
)
def test_expiry_refuses_naive_times_and_a_setting_of_nothing(requested_at, now, after):
    with pytest.raises(ValueError):
        has_expired(ReturnState.REQUESTED, requested_at, now, after)


# --- properties -----------------------------------------------------------------------------------

SKUS = ("TEE", "MUG", "CAP")


@st.composite
def orders(draw: st.DrawFn) -> Order:
    lines = draw(
        st.lists(
            st.tuples(st.sampled_from(SKUS), st.integers(1, 5), st.integers(0, 20_000)),
            min_size=1,
            max_size=4,
        )
    )
    shipping = draw(st.integers(0, 1_000))
    lines_total = sum(t for _, _, t in lines)
    discount = draw(st.integers(0, lines_total))
    return order_of(lines, shipping=shipping, discount=discount)


@st.composite
def returns(draw: st.DrawFn) -> tuple[Order, dict[str, int], Receipt]:
    """An order, the units a request announced (within what was ordered) and a receipt of them."""
    order = draw(orders())
    demand = order.demand()
    announced = {sku: draw(st.integers(1, n)) for sku, n in demand.items() if draw(st.booleans())} or {
        next(iter(demand)): 1
    }
    lines = []
    for sku, want in announced.items():
        left = draw(st.integers(0, want))  # what came, spread over the conditions
        for condition in Condition:
            n = draw(st.integers(0, left))
            lines.append(ReceivedLine(sku, n, condition))
            left -= n
    return order, announced, check_receipt(announced, lines)


@settings(max_examples=200)
@given(returns())
def test_received_never_exceeds_announced_and_short_makes_up_the_rest(drawn):
    _, announced, receipt = drawn
    received = receipt.received
    for sku, want in announced.items():
        assert 0 <= received.get(sku, 0) <= want
        assert received.get(sku, 0) + receipt.short.get(sku, 0) == want
    assert set(received) <= set(announced)


@settings(max_examples=200)
@given(returns(), st.data())
def test_receipts_above_announced_are_always_refused(drawn, data):
    _, announced, _ = drawn
    sku = data.draw(st.sampled_from(sorted(announced)))
    with refused(ReturnStepRefusalKind.TOO_MANY):
        check_receipt(announced, [ReceivedLine(sku, announced[sku] + data.draw(st.integers(1, 5)))])


@settings(max_examples=200)
@given(returns(), st.data())
def test_any_split_of_the_received_units_over_dispositions_adds_up(drawn, data):
    _, _, receipt = drawn
    lines = []
    for sku, units in sorted(receipt.received.items()):
        while units:
            n = data.draw(st.integers(1, units))
            disposition = data.draw(st.sampled_from(Disposition))
            lines.append(DispositionLine(sku, n, disposition, "crushed" if disposition is Disposition.SCRAP else ""))
            units -= n
    effects = check_dispositions(receipt, lines)
    assert effects.units() == receipt.received
    assert sum(w.quantity for w in effects.written_off) == sum(effects.defects.values())
    if lines:  # one unit more or less anywhere no longer adds up
        first = lines[0]
        bumped = [DispositionLine(first.sku, first.quantity + 1, first.disposition, first.reason), *lines[1:]]
        with refused(ReturnStepRefusalKind.DOES_NOT_ADD_UP):
            check_dispositions(receipt, bumped)


@settings(max_examples=200)
@given(returns())
def test_the_refund_for_received_is_at_most_the_refund_for_announced_and_what_was_paid(drawn):
    order, announced, receipt = drawn
    for_announced = refund_on_request(order, RefundTiming.ON_REQUEST, {}, announced)
    for_received = refund_on_receipt(order, RefundTiming.AT_RECEIPT, {}, receipt)
    assert 0 <= for_received.refund.amount_minor <= for_announced.refund.amount_minor <= goods_total(order)
    assert for_received.refund.amount_minor <= order.total.amount_minor
    # Refunded on request, the over-refund is exactly the difference: both timings net the same.
    settled = refund_on_receipt(order, RefundTiming.ON_REQUEST, for_announced.refunded_units, receipt)
    assert for_announced.refund - settled.over_refunded == for_received.refund


@settings(max_examples=200)
@given(orders(), st.data())
def test_a_run_of_returns_never_refunds_more_than_the_goods_cost(order, data):
    """Returns one after another, on either timing, short or not, recovered or written off: the
    money out less what was recovered stays within what the goods cost, and equals paid_for(basis)."""
    basis: dict[str, int] = {}
    out = recovered = 0
    for _ in range(data.draw(st.integers(1, 4))):
        timing = data.draw(st.sampled_from(RefundTiming))
        announced = {sku: data.draw(st.integers(1, n)) for sku, n in order.demand().items() if data.draw(st.booleans())}
        if not announced:
            continue
        asked = refund_on_request(order, timing, basis, announced)
        got = {sku: data.draw(st.integers(0, n)) for sku, n in announced.items()}
        receipt = check_receipt(announced, [ReceivedLine(sku, n) for sku, n in got.items()])
        step = refund_on_receipt(order, timing, asked.refunded_units, receipt)
        out += asked.refund.amount_minor + step.refund.amount_minor
        basis = dict(step.refunded_units)
        if step.over_refunded.amount_minor and data.draw(st.booleans()):
            recovered += step.over_refunded.amount_minor
            basis = after_recovery(basis, receipt.short)
        assert 0 <= out - recovered <= goods_total(order)
        assert refundable_goods(order, basis).amount_minor == goods_total(order) - (out - recovered)


@given(
    st.sampled_from(ReturnState),
    st.integers(0, 10**7),
    st.integers(1, 10**7),
)
def test_expiry_is_a_pure_function_of_the_request_time_and_the_setting(state, seconds_later, setting):
    after = timedelta(seconds=setting)
    now = NOW + timedelta(seconds=seconds_later)
    assert has_expired(state, NOW, now, after) == (state is ReturnState.REQUESTED and seconds_later >= setting)


def test_two_returns_open_at_once_refunded_on_request_stay_within_what_was_paid():
    """The dearer tee is on the first line: two requests each priced from an empty basis would both
    refund 20.00 (40.00 for 30.00 of tees); priced from one basis they refund 20.00 and 10.00."""
    order = order_of([("TEE", 1, 2000), ("TEE", 1, 1000)], shipping=0)
    first = refund_on_request(order, RefundTiming.ON_REQUEST, {}, {"TEE": 1})
    second = refund_on_request(order, RefundTiming.ON_REQUEST, first.refunded_units, {"TEE": 1})
    assert (first.refund, second.refund) == (eur(2000), eur(1000))
    # The first parcel comes empty: what is owed is the tee at the margin of the basis (10.00), so
    # once recovered the order has refunded exactly one tee's worth, paid_for({"TEE": 1}) = 20.00.
    empty = check_receipt({"TEE": 1}, [])
    settled = refund_on_receipt(order, RefundTiming.ON_REQUEST, second.refunded_units, empty)
    assert settled.over_refunded == eur(1000)
    assert refundable_goods(order, after_recovery(settled.refunded_units, empty.short)) == eur(1000)
