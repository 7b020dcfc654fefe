"""Fulfilment: each reserved shipment runs as its own ShipmentWorkflow at its location, all at the
same time; the order hears how each ended. A cancel withdraws every shipment that has not left;
what a pick did not find is sourced again; what left is counted for the payment."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.inventory import ReservedShipment
    from contracts.order_workflow import CancelRequest, FulfilmentOptions, OrderRun, ShipmentState
    from contracts.shipments import ShipmentOutcome, ShipmentWorkflowInput
    from domain.fulfilment import ShipmentStatus
    from domain.order import Order
    from domain.status import OrderStatus
    from workflows.shipment import ShipmentWorkflow

from workflows.order.payment import Payment
from workflows.order.steps import Cancelled, OrderSteps

ShipmentHandle = workflow.ChildWorkflowHandle[ShipmentWorkflow, ShipmentOutcome]


class Fulfilment:
    def __init__(self, run: OrderRun, steps: OrderSteps, payment: Payment) -> None:
        self._run = run
        self._steps = steps
        self._payment = payment
        self._handles: dict[str, ShipmentHandle] = {}
        """The running shipments' workflows (run.in_flight), by shipment id."""
        self._options: FulfilmentOptions | None = None

    async def fulfil_pending(self, order: Order, options: FulfilmentOptions | None) -> None:
        """Run the reserved shipments until each has ended. A cancel that came before any left
        raises Cancelled; one after a shipment left lets that one stand and drops the rest."""
        run = self._run
        if not run.pending and not (run.edits and run.in_flight):
            return
        if not run.handed_over_any:
            self._steps.raise_if_cancelled()
        self._options = options
        for shipment in run.pending:
            await self._start(order, shipment, options or FulfilmentOptions())
        run.pending = []
        if run.status is OrderStatus.RESERVED:
            self._steps.mark(OrderStatus.IN_FULFILMENT)
        await self._until_every_shipment_ended(order)
        if run.cancel is not None:
            if not run.handed_over_any:
                raise Cancelled
            # The cancel came after a shipment had left: that one stands, the rest is cancelled.
            run.remaining = {}
            run.shipped_detail = f"cancelled after a shipment had left ({run.cancel.reason}): the rest will not ship"

    async def start_pending(self, order: Order) -> None:
        """Start what an edit reserved while the order's shipments run (the order's loop waits for them too)."""
        run = self._run
        for shipment in run.pending:
            await self._start(order, shipment, self._options or FulfilmentOptions())
        run.pending = []

    async def withdraw(self, shipment_ids: list[str], request: CancelRequest) -> None:
        """Ask these running shipments to stand down (an edit took units off them)."""
        for shipment_id in shipment_ids:
            handle = self._handles.get(shipment_id)
            if handle is not None and not handle.done():
                await self._withdraw(shipment_id, handle, request)

    async def _start(self, order: Order, shipment: ReservedShipment, options: FulfilmentOptions) -> None:
        shipment_input = ShipmentWorkflowInput.of(order, shipment, options)
        handle = await workflow.start_child_workflow(
            ShipmentWorkflow.run,
            shipment_input,
            id=shipment.shipment_id,
            task_queue=shipment.task_queue or workflow.info().task_queue,
            static_summary=f"{shipment_input.kind} of {sum(shipment.lines.values())} units from {shipment.location_id}",
        )
        self._run.in_flight[shipment.shipment_id] = shipment
        self._handles[shipment.shipment_id] = handle

    async def _until_every_shipment_ended(self, order: Order) -> None:
        run = self._run
        while run.in_flight:
            await workflow.wait_condition(
                lambda: (
                    any(handle.done() for handle in self._handles.values())
                    or (run.cancel is not None and not run.withdrawn)
                )
            )
            if run.cancel is not None and not run.withdrawn:
                run.withdrawn = True
                for shipment_id, handle in self._handles.items():
                    if not handle.done():
                        await self._withdraw(shipment_id, handle, run.cancel)
                continue
            for shipment_id in [sid for sid, handle in self._handles.items() if handle.done()]:
                shipment, handle = run.in_flight.pop(shipment_id), self._handles.pop(shipment_id)
                await self._settle(order, shipment, handle.result())

    @staticmethod
    async def _withdraw(shipment_id: str, handle: ShipmentHandle, request: CancelRequest) -> None:
        """Ask a shipment to stand down. One that already ended on the server (its end and this
        cancel reached the order together) cannot be signalled: its outcome, already on its way
        to us, says what became of it, so the failed signal is not the order's failure."""
        try:
            await handle.signal(ShipmentWorkflow.withdraw, request)
        except ApplicationError as err:
            workflow.logger.info("shipment %s had already ended: %s", shipment_id, err.message)

    async def _settle(self, order: Order, shipment: ReservedShipment, outcome: ShipmentOutcome) -> None:
        """What became of a shipment: re-source a short pick, note an uncollected pickup, count
        what was handed over (and capture it where the payment takes a capture per parcel)."""
        run = self._run
        run.shipments[shipment.shipment_id] = ShipmentState(
            shipment.shipment_id, shipment.location_id, outcome.status, outcome.carrier, outcome.tracking_number
        )
        edited = shipment.shipment_id in run.edit_withdrawn  # what it still should carry is wanted already
        if outcome.cancelled_order and run.cancel is None and not edited:
            # The cancel was taken (the database says so) before its signal reached us.
            run.cancel = CancelRequest(reason="cancelled", requested_by="api")
        if outcome.short and run.cancel is None and not edited:
            for sku, units in outcome.short.items():
                run.remaining[sku] = run.remaining.get(sku, 0) + units
            run.resource_now = True
        if outcome.status == ShipmentStatus.EXPIRED:
            for sku, units in outcome.released.items():
                run.not_collected[sku] = run.not_collected.get(sku, 0) + units
            left = ", ".join(f"{sku} x{units}" for sku, units in sorted(run.not_collected.items()))
            run.shipped_detail = f"not collected in time: {left}"
        if not outcome.handed_over:
            return
        run.shipping_started = run.handed_over_any = True
        order = run.order_now(order)
        value = self._payment.count_handover(order, outcome.handed_over)
        await self._payment.parcel_left(order, value)
