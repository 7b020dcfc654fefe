"""Cancel and release as staff ask for them: the read model first, then the workflow's live state,
and who asked on the order's timeline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.order_workflow import CancelRequest, OrderState, ReleaseRequest
from domain.status import OrderStatus
from services.errors import Conflict, NotFound, Unavailable
from services.gateway import EngineUnavailable, QueryFailed, WorkflowNotFound
from services.order_actions import OrderActions
from tests.fakes import order_record

ORDER = "order-webshop-42"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def actions(units, workflows) -> OrderActions:
    units.store.orders.add(order_record(ORDER, OrderStatus.ON_HOLD))
    workflows.states[ORDER] = OrderState(ORDER, OrderStatus.ON_HOLD, hold_reason="unknown SKU MUG")
    return OrderActions(units, workflows)


async def test_an_order_we_do_not_have_is_unknown_whether_or_not_the_engine_answers(actions, workflows):
    workflows.reachable = False
    with pytest.raises(NotFound, match="no order order-webshop-404"):
        await actions.cancel("order-webshop-404", CancelRequest())
    with pytest.raises(NotFound):
        await actions.release("order-webshop-404", ReleaseRequest())


async def test_an_order_still_only_in_the_intake_is_unavailable_not_unknown(actions, units, workflows):
    units.store.intake.take_in(
        order_id="order-webshop-43", channel="webshop", workflow_input="{}", received_at=NOW, first_try=NOW
    )
    with pytest.raises(Unavailable, match="not started yet") as refused:
        await actions.cancel("order-webshop-43", CancelRequest())
    assert refused.value.retry_after == 5 and workflows.signals == []


async def test_a_cancel_is_claimed_signalled_and_noted(actions, units, workflows):
    await actions.cancel(ORDER, CancelRequest(reason="customer phoned", requested_by="alice"))
    assert [(kind, order_id) for kind, order_id, _ in workflows.signals] == [("cancel", ORDER)]
    assert ORDER in units.store.orders.cancel_claims
    assert units.store.orders.timeline == [(ORDER, "cancel_requested", "by alice: customer phoned")]


async def test_a_finished_order_is_refused_without_asking_the_engine(actions, units, workflows):
    units.store.orders.records[ORDER].status = OrderStatus.COMPLETED.value
    workflows.reachable = False
    with pytest.raises(Conflict, match="has shipped; request a return"):
        await actions.cancel(ORDER, CancelRequest())


async def test_a_cancel_once_shipping_started_is_refused_and_nothing_is_claimed(actions, units, workflows):
    workflows.states[ORDER] = OrderState(ORDER, OrderStatus.IN_FULFILMENT, shipping_started=True)
    with pytest.raises(Conflict, match="has shipped"):
        await actions.cancel(ORDER, CancelRequest())
    assert units.store.orders.cancel_claims == set() and workflows.signals == []
    assert units.store.orders.timeline == []


async def test_a_workflow_that_ended_meanwhile_refuses_and_the_claim_is_forgotten(actions, units, workflows):
    workflows.failures["cancel_order"] = [WorkflowNotFound("workflow execution already completed")]
    with pytest.raises(Conflict, match=r"no longer running \(workflow execution already completed\)"):
        await actions.cancel(ORDER, CancelRequest())
    assert units.store.orders.cancel_claims == set()
    assert units.store.orders.timeline == []


async def test_a_workflow_that_cannot_answer_refuses(actions, workflows):
    workflows.failures["order_state"] = [QueryFailed("the query timed out")]
    with pytest.raises(Conflict, match=f"order {ORDER} cannot be queried: the query timed out"):
        await actions.release(ORDER, ReleaseRequest())


async def test_an_engine_that_is_away_is_not_a_refusal(actions, workflows):
    workflows.reachable = False
    with pytest.raises(EngineUnavailable):
        await actions.release(ORDER, ReleaseRequest())


async def test_a_release_is_signalled_and_noted(actions, units, workflows):
    await actions.release(ORDER, ReleaseRequest(note="stock counted", released_by="bob"))
    assert [(kind, order_id) for kind, order_id, _ in workflows.signals] == [("release", ORDER)]
    assert units.store.orders.timeline == [(ORDER, "release_requested", "by bob: stock counted")]


@pytest.mark.parametrize(
    ("state", "request_", "refusal"),
    [
        (OrderState(ORDER, OrderStatus.RESERVED), ReleaseRequest(), "order is RESERVED, not on hold or backordered"),
        (
            OrderState(ORDER, OrderStatus.ON_HOLD, hold_reason="total differs", price_mismatch=True),
            ReleaseRequest(note="looks fine"),
            "accept the channel's total",
        ),
        (
            OrderState(ORDER, OrderStatus.ON_HOLD),
            ReleaseRequest(note="why not", accept_channel_total=True),
            "nothing to accept",
        ),
        (
            OrderState(ORDER, OrderStatus.ON_HOLD, price_mismatch=True),
            ReleaseRequest(accept_channel_total=True),
            "say why the channel's total is accepted",
        ),
    ],
)
async def test_a_release_the_live_state_does_not_allow_is_refused(actions, units, workflows, state, request_, refusal):
    workflows.states[ORDER] = state
    with pytest.raises(Conflict, match=refusal):
        await actions.release(ORDER, request_)
    assert workflows.signals == [] and units.store.orders.timeline == []
