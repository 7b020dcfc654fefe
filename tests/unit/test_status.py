"""Order statuses: the contract's list, legal moves, and when a cancel can still be honoured."""

from __future__ import annotations

import itertools

import pytest

from domain.status import (
    IllegalTransition,
    OrderStatus,
    cancel_refusal,
    check_transition,
    is_waiting_for_a_person,
)

pytestmark = pytest.mark.unit

S = OrderStatus


def test_statuses_are_the_contract_list() -> None:
    assert [s.value for s in OrderStatus] == [
        "RECEIVED",
        "ON_HOLD",
        "BACKORDERED",
        "RESERVED",
        "IN_FULFILMENT",
        "SHIPPED",
        "COMPLETED",
        "CANCELLED",
    ]


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.RECEIVED, S.RESERVED),
        (S.RECEIVED, S.ON_HOLD),
        (S.RECEIVED, S.BACKORDERED),
        (S.RECEIVED, S.CANCELLED),
        (S.ON_HOLD, S.RECEIVED),  # released: evaluated again
        (S.ON_HOLD, S.RESERVED),
        (S.ON_HOLD, S.CANCELLED),
        (S.BACKORDERED, S.RESERVED),
        (S.BACKORDERED, S.CANCELLED),
        (S.RESERVED, S.IN_FULFILMENT),
        (S.RESERVED, S.CANCELLED),
        (S.IN_FULFILMENT, S.SHIPPED),
        (S.IN_FULFILMENT, S.CANCELLED),
        (S.SHIPPED, S.COMPLETED),
        (S.RECEIVED, S.SHIPPED),  # sold at the counter, or shipped by the channel itself
        (S.ON_HOLD, S.SHIPPED),  # a held counter sale, released
        (S.SHIPPED, S.CANCELLED),  # the channel that shipped it cancels it (FBA, FBB)
    ],
)
def test_allowed_transitions(current: OrderStatus, new: OrderStatus) -> None:
    check_transition(current, new)  # does not raise


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.RECEIVED, S.IN_FULFILMENT),
        (S.RECEIVED, S.COMPLETED),
        (S.BACKORDERED, S.IN_FULFILMENT),
        (S.RESERVED, S.RECEIVED),
        (S.RESERVED, S.SHIPPED),
        (S.IN_FULFILMENT, S.RESERVED),
        (S.IN_FULFILMENT, S.COMPLETED),
        (S.SHIPPED, S.IN_FULFILMENT),
        (S.COMPLETED, S.SHIPPED),
        (S.CANCELLED, S.RECEIVED),
        (S.CANCELLED, S.RESERVED),
    ],
)
def test_illegal_transitions(current: OrderStatus, new: OrderStatus) -> None:
    with pytest.raises(IllegalTransition, match=f"from {current} to {new}"):
        check_transition(current, new)


@pytest.mark.parametrize("terminal", [S.COMPLETED, S.CANCELLED])
def test_nothing_leaves_a_terminal_status(terminal: OrderStatus) -> None:
    for new in OrderStatus:
        with pytest.raises(IllegalTransition):
            check_transition(terminal, new)


def test_shipped_goes_to_completed_or_a_channel_cancel() -> None:
    reachable = set()
    for new in OrderStatus:
        try:
            check_transition(S.SHIPPED, new)
        except IllegalTransition:
            continue
        reachable.add(new)
    assert reachable == {S.COMPLETED, S.CANCELLED}


def test_only_orders_with_nothing_to_reserve_skip_straight_to_shipped() -> None:
    sources = set()
    for current, new in itertools.product(OrderStatus, [S.SHIPPED]):
        try:
            check_transition(current, new)
        except IllegalTransition:
            continue
        sources.add(current)
    # BACKORDERED → SHIPPED: part shipped, and the backordered rest was cancelled at its deadline;
    # RECEIVED / ON_HOLD → SHIPPED: a counter sale or a channel-fulfilled order (nothing to reserve).
    assert sources == {S.IN_FULFILMENT, S.BACKORDERED, S.RECEIVED, S.ON_HOLD}


@pytest.mark.parametrize("status", [S.RECEIVED, S.ON_HOLD, S.BACKORDERED, S.RESERVED, S.IN_FULFILMENT])
def test_cancel_honoured_before_shipping(status: OrderStatus) -> None:
    assert cancel_refusal(status, shipping_started=False) is None


@pytest.mark.parametrize("status", [S.RECEIVED, S.ON_HOLD, S.BACKORDERED, S.RESERVED, S.IN_FULFILMENT])
def test_cancel_refused_once_shipping_started(status: OrderStatus) -> None:
    reason = cancel_refusal(status, shipping_started=True)
    assert reason is not None
    assert "shipped" in reason
    assert "return" in reason


@pytest.mark.parametrize("shipping_started", [False, True])
@pytest.mark.parametrize("status", [S.SHIPPED, S.COMPLETED])
def test_cancel_refused_after_shipping(status: OrderStatus, shipping_started: bool) -> None:
    reason = cancel_refusal(status, shipping_started)
    assert reason is not None
    assert "return" in reason


@pytest.mark.parametrize("shipping_started", [False, True])
def test_cancel_refused_when_already_cancelled(shipping_started: bool) -> None:
    assert cancel_refusal(S.CANCELLED, shipping_started) == "the order is already cancelled"


@pytest.mark.parametrize(
    ("status", "waiting"),
    [
        (S.RECEIVED, False),
        (S.ON_HOLD, True),
        (S.BACKORDERED, True),
        (S.RESERVED, False),
        (S.IN_FULFILMENT, False),
        (S.SHIPPED, False),
        (S.COMPLETED, False),
        (S.CANCELLED, False),
    ],
)
def test_is_waiting_for_a_person(status: OrderStatus, waiting: bool) -> None:
    assert is_waiting_for_a_person(status) is waiting
