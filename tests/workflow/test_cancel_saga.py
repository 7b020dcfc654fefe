"""Cancel at every step: before the first parcel leaves, the saga undoes exactly what was done, once;
once a parcel is leaving, cancel is refused and the order ships."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import select

from api.services.intake import start_order
from domain.money import Money
from domain.status import OrderStatus
from integrations.providers import Dispatch, GatewayPayment
from integrations.sandbox.payments import SandboxPaymentGateway
from integrations.sandbox.warehouse import SandboxWarehouse
from persistence import orders as order_store
from persistence.models import PaymentRecord, StockMovement
from tests.factories import add_location, make_order, stock
from tests.workflow.conftest import running_engine
from workflows.order import OrderWorkflow
from workflows.payloads import CancelRequest


class Gate:
    """Holds one step until the test lets it go."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.open = threading.Event()

    def hold(self) -> None:
        self.reached.set()
        if not self.open.wait(30):
            raise TimeoutError("the test never opened the gate")


class GatedGateway(SandboxPaymentGateway):
    def __init__(self, gate: Gate | None) -> None:
        self.gate = gate

    def authorize(self, idempotency_key: str, amount: Money, payment_method: str, order_id: str) -> GatewayPayment:
        if self.gate:
            self.gate.hold()
        return super().authorize(idempotency_key, amount, payment_method, order_id)


class GatedWarehouse(SandboxWarehouse):
    def __init__(self, gates: dict[str, Gate]) -> None:
        self.gates = gates

    def request_pick(self, shipment_id: str, location_id: str, lines: dict[str, int]) -> None:
        if "pick" in self.gates:
            self.gates["pick"].hold()

    def confirm_pack(self, shipment_id: str) -> None:
        if "pack" in self.gates:
            self.gates["pack"].hold()

    def dispatch(self, shipment_id: str, location_id: str) -> Dispatch:
        if "ship" in self.gates:
            self.gates["ship"].hold()
        return super().dispatch(shipment_id, location_id)


@pytest.mark.parametrize("step", ["authorize", "pick", "pack", "ship"])
async def test_cancel_at_every_step(temporal_client, sqlite_database, step):
    gate = Gate()
    gateway = GatedGateway(gate if step == "authorize" else None)
    warehouse = GatedWarehouse({step: gate} if step != "authorize" else {})
    db = sqlite_database
    async with running_engine(temporal_client, db, gateway=gateway, warehouse=warehouse) as engine:
        add_location(db.session_factory, "AMS")
        stock(db.session_factory, "AMS", {"A": 3})
        order = make_order([("A", 2, 1500)], paid=False, payment_method="pm_card_visa")
        order_id, _ = await start_order(temporal_client, engine.settings, order)
        handle = temporal_client.get_workflow_handle_for(OrderWorkflow.run, order_id)
        assert await asyncio.to_thread(gate.reached.wait, 30)
        await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="customer asked"))
        await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="customer asked again"))
        gate.open.set()

        def moves() -> list[tuple[str, int, int]]:
            with db.session() as session:
                rows = session.scalars(select(StockMovement).where(StockMovement.order_id == order_id))
                return [(m.kind, m.on_hand_delta, m.reserved_delta) for m in rows]

        if step == "ship":  # the parcel was leaving: cancel refused, the order ships
            await engine.wait_for_status(order_id, "SHIPPED")
            assert moves() == [("reservation", 0, 2), ("shipment", -2, -2)]
            await handle.terminate("test done")
            return
        assert (await asyncio.wait_for(handle.result(), 30)).status is OrderStatus.CANCELLED
        assert moves() == ([] if step == "authorize" else [("reservation", 0, 2), ("release", 0, -2)])
        with db.session() as session:
            payment = session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
            assert (payment.status, payment.voided_minor, payment.captured_minor) == ("VOIDED", 3495, 0)
            kinds = [e.kind for e in order_store.order_events(session, order_id)]
        assert kinds.count("payment_voided") == 1 and kinds.count("stock_released") == (step != "authorize")
        assert kinds[-1] == "status:CANCELLED"
