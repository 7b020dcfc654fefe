"""Returns and shipment confirmations: what the workflow's answer means to the caller."""

from __future__ import annotations

from datetime import datetime

import pytest

from contracts.errors import ErrorType
from contracts.return_lifecycle import ReceivedLineInput, ReceiveReturnRequest, ReturnDecision, ReturnView
from contracts.returns import ReturnAccepted, ReturnRequest, ReturnRequestLine
from contracts.shipments import ShipmentProgress, StepConfirmation
from domain.fulfilment import ShipmentStatus
from domain.money import Money
from domain.status import OrderStatus
from persistence.models import ReturnRecord, ShipmentRecord
from services.errors import Conflict, Failed, NotFound, Unprocessable
from services.gateway import EngineError, EngineUnavailable, UpdateFailed, WorkflowNotFound, WorkflowNotRunning
from services.returns import Returns
from services.shipments import Shipments
from tests.fakes import order_record

ORDER = "order-webshop-7"
SHIPMENT = "shipment-order-webshop-7-AMS"
RETURN = ReturnRequest(lines=[ReturnRequestLine("MUG", 1)])
PICKED = StepConfirmation("pick", "AMS")


def _refused(error_type: str, kind: str, message: str) -> UpdateFailed:
    return UpdateFailed(message, error_type=error_type, message=message, refusal=kind)


@pytest.fixture
def returns(units, workflows) -> Returns:
    units.store.orders.add(order_record(ORDER, OrderStatus.SHIPPED))
    return Returns(units, workflows)


async def test_a_return_the_workflow_accepts_is_answered(returns, workflows):
    workflows.returns[ORDER] = ReturnAccepted("return-1", "REFUNDED", Money(1250, "EUR"))
    assert (await returns.request(ORDER, RETURN)).return_id == "return-1"
    assert workflows.return_requests == [(ORDER, RETURN)]


async def test_a_return_of_an_order_we_do_not_have_never_reaches_the_engine(returns, workflows):
    with pytest.raises(NotFound, match="no order order-webshop-8"):
        await returns.request("order-webshop-8", RETURN)
    assert workflows.return_requests == []


@pytest.mark.parametrize(
    ("kind", "refused"), [("too_many", Unprocessable), ("invalid", Unprocessable), ("not_shipped", Conflict)]
)
async def test_a_refused_return_names_its_kind(returns, workflows, kind, refused):
    workflows.failures["request_return"] = [_refused(ErrorType.RETURN_REFUSED, kind, "only 1 of MUG left to return")]
    with pytest.raises(refused) as answer:
        await returns.request(ORDER, RETURN)
    assert (answer.value.message, answer.value.facts) == ("only 1 of MUG left to return", {"refusal": kind})


@pytest.mark.parametrize("ended", [WorkflowNotFound("not found"), WorkflowNotRunning("workflow completed")])
async def test_a_return_after_the_workflow_ended_is_a_closed_window(returns, workflows, ended):
    workflows.failures["request_return"] = [ended]
    with pytest.raises(Conflict) as answer:
        await returns.request(ORDER, RETURN)
    assert answer.value.message == f"order {ORDER} is SHIPPED: its returns window is closed"
    assert answer.value.facts == {"refusal": "window_closed"}


async def test_a_return_the_workflow_failed_or_the_engine_refused(returns, workflows):
    workflows.failures["request_return"] = [
        UpdateFailed("refund declined", error_type="RefundFailed", message="refund declined", refusal=None),
        EngineError("resource exhausted"),
    ]
    with pytest.raises(Failed, match="the return could not be completed: refund declined"):
        await returns.request(ORDER, RETURN)
    with pytest.raises(EngineUnavailable):
        await returns.request(ORDER, RETURN)


@pytest.fixture
def shipments(units, workflows) -> Shipments:
    units.store.shipments.records[SHIPMENT] = ShipmentRecord(
        shipment_id=SHIPMENT, order_id=ORDER, location_id="AMS", status="RESERVED", kind="delivery",
        lines={"MUG": 1}, created_at=datetime(2026, 1, 1),
    )  # fmt: skip
    workflows.progress[SHIPMENT] = ShipmentProgress(
        SHIPMENT, ORDER, "AMS", "delivery", ShipmentStatus.PICKED, "pack", {"MUG": 1}
    )
    return Shipments(units, workflows)


async def test_a_confirmation_answers_with_the_record_and_the_live_state(shipments, workflows):
    view = await shipments.confirm(SHIPMENT, PICKED)
    assert view.record.shipment_id == SHIPMENT and view.progress is not None and view.progress.next_step == "pack"
    assert workflows.confirmations == [(SHIPMENT, PICKED)]


@pytest.mark.parametrize(
    ("kind", "refused"),
    [("wrong_location", Unprocessable), ("invalid", Unprocessable), ("out_of_order", Conflict), ("finished", Conflict)],
)
async def test_a_refused_confirmation_names_its_kind(shipments, workflows, kind, refused):
    workflows.failures["confirm_step"] = [_refused(ErrorType.CONFIRMATION_REFUSED, kind, "UTR does not pick for AMS")]
    with pytest.raises(refused) as answer:
        await shipments.confirm(SHIPMENT, PICKED)
    assert answer.value.facts == {"refusal": kind}


async def test_a_confirmation_of_a_finished_or_unknown_shipment(shipments, units, workflows):
    units.store.shipments.records[SHIPMENT].status = "SHIPPED"
    workflows.failures["confirm_step"] = [WorkflowNotFound("not found"), EngineError("unavailable")]
    with pytest.raises(Conflict, match="is not waiting for confirmations"):
        await shipments.confirm(SHIPMENT, PICKED)
    with pytest.raises(EngineUnavailable):
        await shipments.confirm(SHIPMENT, PICKED)
    with pytest.raises(NotFound, match="no shipment shipment-x"):
        await shipments.confirm("shipment-x", PICKED)


async def test_a_confirmation_of_a_shipment_whose_workflow_is_starting_waits_for_it(shipments, workflows):
    """Recorded by sourcing (RESERVED, on the pick list) a moment before its workflow starts."""
    workflows.failures["confirm_step"] = [WorkflowNotFound("not yet"), WorkflowNotFound("not yet")]
    view = await shipments.confirm(SHIPMENT, PICKED)
    assert view.progress is not None and workflows.confirmations == [(SHIPMENT, PICKED)]


async def test_a_shipment_whose_workflow_never_starts_is_refused_after_the_grace(units, workflows):
    quick = Shipments(units, workflows, starting_grace=0.4)
    units.store.shipments.records[SHIPMENT] = ShipmentRecord(
        shipment_id=SHIPMENT, order_id=ORDER, location_id="AMS", status="RESERVED", kind="delivery",
        lines={"MUG": 1}, created_at=datetime(2026, 1, 1),
    )  # fmt: skip
    workflows.failures["confirm_step"] = [WorkflowNotFound("never")] * 10
    with pytest.raises(Conflict, match="is not waiting for confirmations"):
        await quick.confirm(SHIPMENT, PICKED)
    assert len(workflows.failures["confirm_step"]) == 7  # three tries in 0.4 s, then the answer


async def test_a_shipment_is_shown_from_its_record_while_the_engine_is_away(shipments, workflows):
    assert (await shipments.view(SHIPMENT)).progress is not None
    workflows.reachable = False
    view = await shipments.view(SHIPMENT)
    assert view.record.status == "RESERVED" and view.progress is None


RETURN_ID = f"return-{ORDER}-1"


@pytest.fixture
def open_return(units, returns, workflows) -> Returns:
    units.store.returns.records.append(
        ReturnRecord(
            return_id=RETURN_ID, order_id=ORDER, status="REQUESTED", state="REQUESTED", rma="RMA-7K3QX-9PDM2-1",
            sequence=1, source="support", lines={"MUG": 1}, reason="", currency="EUR", refund_minor=0,
            over_refunded_minor=0, created_at=datetime(2026, 1, 1),
        )
    )  # fmt: skip
    workflows.return_views[RETURN_ID] = ReturnView(
        RETURN_ID, ORDER, "RMA-7K3QX-9PDM2-1", "RECEIVED", "support", {"MUG": 1}, Money(0, "EUR")
    )
    return returns


async def test_a_return_s_step_goes_to_its_workflow_by_id_or_rma(open_return, workflows):
    receipt = ReceiveReturnRequest("AMS", [ReceivedLineInput("MUG", 1)], "kim")
    view = await open_return.receive("RMA-7K3QX-9PDM2-1", receipt)
    assert view.state == "RECEIVED"
    assert workflows.return_steps == [(RETURN_ID, "receive", receipt)]
    assert open_return.get(RETURN_ID).rma == "RMA-7K3QX-9PDM2-1"
    with pytest.raises(NotFound):
        await open_return.approve("RMA-NOTHI-NGHER-9", ReturnDecision("kim"))


@pytest.mark.parametrize(
    ("kind", "refused"),
    [
        ("out_of_order", Conflict),
        ("finished", Conflict),
        ("does_not_add_up", Unprocessable),
        ("too_many", Unprocessable),
        ("unannounced", Unprocessable),
        ("invalid", Unprocessable),
    ],
)
async def test_a_refused_return_step_names_its_kind(open_return, workflows, kind, refused):
    workflows.failures["return_step"] = [_refused(ErrorType.RETURN_STEP_REFUSED, kind, "MUG: 1 received, but 0")]
    with pytest.raises(refused) as answer:
        await open_return.cancel(RETURN_ID, ReturnDecision("kim"))
    assert answer.value.facts == {"refusal": kind}


async def test_a_step_of_a_return_whose_workflow_ended_or_the_engine_is_away(open_return, workflows):
    workflows.failures["return_step"] = [WorkflowNotFound("not found"), EngineError("unavailable")]
    with pytest.raises(Conflict, match="nothing follows"):
        await open_return.cancel(RETURN_ID, ReturnDecision("kim"))
    with pytest.raises(EngineUnavailable):
        await open_return.cancel(RETURN_ID, ReturnDecision("kim"))


async def test_a_channel_return_needs_its_channel_and_its_own_id(returns):
    for source, external in (("support", "123"), ("bol", None), ("bol", "x" * 61)):
        request = ReturnRequest([ReturnRequestLine("MUG", 1)], source=source, external_rma=external)
        with pytest.raises(Unprocessable):
            await returns.open_channel_return(ORDER, request)
