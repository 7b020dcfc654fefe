"""Take an order from a channel: keep it, or cancel it; a second delivery of the same order finds
the first one. The one path webhooks, POST /orders and pulled channels share.

A new order is kept in the durable intake (persistence.guarded_writes.order_intake) in one
transaction with the audit row of its payload, and answered then: a 2xx means the order is
recorded, whether or not Temporal is there. Its workflow is started right after the answer
(`start_taken`), or by the sweeper (services.intake_sweeper) when that did not happen. Whether we
have an order is the database's to say: the intake row, or the order row `record_order` writes
(Temporal refuses a second start of a workflow id only while the first run is within retention, so
a channel that resends an order weeks later would otherwise start it again; the intake row itself
goes after OMS_INTAKE_RETENTION, long after the order row is there).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from temporalio.client import Client

from config import Settings
from contracts.order_edits import EditChange, EditOrderRequest
from contracts.order_workflow import CancelRequest, FulfilmentOptions, OrderWorkflowInput
from domain.fulfilment import DEFAULT_SLAS
from domain.order import FULFILLED_AT_COUNTER, FULFILLED_BY_CHANNEL, Order
from domain.outside_fulfilment import counter_sale_refusal
from domain.status import OrderStatus
from domain.store_credit import CreditRefused
from persistence.db import SessionFactory
from services.cancel import claim_and_signal
from services.errors import Conflict, Unprocessable
from services.gateway import TemporalWorkflows, WorkflowGateway, WorkflowNotFound
from services.intake_input import as_json, from_json
from services.metrics import OrderTaken, count_taken
from services.order_edits import OrderEdits
from services.payload_audit import KeptPayload, PayloadAudit
from services.store_credit import refused, spend_on_order
from services.unit_of_work import UnitOfWorkFactory, units_on
from services.waiting import reason

log = logging.getLogger("oms.intake")

TAKEN = "taken"
"""The outcome of a new order: kept in the intake, its workflow started right after the answer."""


@dataclass(frozen=True)
class Taken:
    """What became of an order a channel sent: its id, whether it repeated what we already had
    (a duplicate delivery, or a cancel too late to honour) and the outcome for the audit row."""

    order_id: str
    repeated: bool
    outcome: str
    to_start: OrderWorkflowInput | None = None
    """A new order kept in the intake: start it right after the answer (Intake.start_taken)."""


def fulfilment_options(settings: Settings) -> FulfilmentOptions:
    slas = {kind: {**steps, **settings.sla_overrides.get(kind, {})} for kind, steps in DEFAULT_SLAS.items()}
    return FulfilmentOptions(
        auto_confirm=settings.auto_confirm_enabled,
        slas=slas,
        pickup_expiry_seconds=int(settings.pickup_expiry.total_seconds()),
    )


def order_workflow_input(settings: Settings, order: Order) -> OrderWorkflowInput:
    return OrderWorkflowInput(
        order=order,
        received_at=datetime.now(UTC),
        return_window_seconds=int(settings.return_window.total_seconds()),
        backorder_deadline_seconds=(
            int(settings.backorder_deadline.total_seconds()) if settings.backorder_deadline else None
        ),
        fulfilment=fulfilment_options(settings),
        history_limit=settings.order_history_limit,
    )


HELD_CHECKS = 20
HELD_POLL_SECONDS = 0.5
"""A new order with a partial cancellation request is edited once its checks hold it: asked this
often, this far apart (its workflow records and checks it in well under a second)."""


class Intake:
    """`on_taken`: told the channel of every order recorded new (services.metrics; the worker
    counts through its Temporal runtime's meter instead of this process's registry). `audit`: keeps
    a payload's audit row in the transaction that takes its order (the API's)."""

    def __init__(
        self,
        settings: Settings,
        units: UnitOfWorkFactory,
        workflows: WorkflowGateway,
        *,
        on_taken: OrderTaken = count_taken,
        audit: PayloadAudit | None = None,
    ) -> None:
        self._settings = settings
        self._units = units
        self._workflows = workflows
        self._on_taken = on_taken
        self._audit = audit
        self._started: list[str] = []
        """Orders whose workflow started, waiting for their intake rows' mark (_mark_started)."""
        self._marking = asyncio.Lock()
        self._starting: set[asyncio.Task[bool]] = set()

    async def take(
        self,
        order: Order,
        *,
        cancel_reason: str | None = None,
        confirm_lines: Sequence[str] = (),
        kept: KeptPayload | None = None,
    ) -> Taken:
        """Keep a new order in the intake, or, given a cancel_reason, cancel it (starting it first if
        it is new to us). A new order needs no engine: it is kept with `kept` (its payload's audit
        row, outcome set here) in one transaction, and `Taken.to_start` is for the caller to start
        after its answer; a repeat is a duplicate. A cancel reaches the engine first: while it is
        away nothing is decided (EngineUnavailable), and the channel delivers again.
        `confirm_lines`: see cancel_from_channel."""
        structlog.contextvars.bind_contextvars(order_id=order.order_id)  # on every log line of this request
        if cancel_reason is not None:
            await self._workflows.connect()
            finished = await self.cancel_from_channel(order, cancel_reason, confirm_lines)
            return Taken(order.order_id, finished, "cancel too late: shipped or ended" if finished else "cancelled")
        data = order_workflow_input(self._settings, order)
        if not await asyncio.to_thread(self._take_in, data, kept):
            return Taken(order.order_id, True, "duplicate")
        self._on_taken(order.channel)
        return Taken(order.order_id, False, TAKEN, to_start=data)

    def _take_in(self, data: OrderWorkflowInput, kept: KeptPayload | None) -> bool:
        """One transaction: the order into the intake unless we have it (in the intake or as an
        order), and the payload's audit row. True: new to us. Keeping the payload is best effort
        (services.payload_audit): when the transaction with it fails, the order is taken without
        it, and the caller keeps the payload on its own (which logs why it cannot)."""
        if kept is None or self._audit is None:
            return self._take_in_with(data, None)
        try:
            return self._take_in_with(data, kept)
        except Exception:
            log.warning("order %s: taken without its payload's audit row, kept apart", data.order.order_id)
            return self._take_in_with(data, None)

    def _take_in_with(self, data: OrderWorkflowInput, kept: KeptPayload | None) -> bool:
        order = data.order
        joined = kept is not None and self._audit is not None
        with self._units() as uow:
            new = uow.intake.take_in(
                order_id=order.order_id,
                channel=order.channel,
                workflow_input=as_json(data),
                received_at=data.received_at,
                first_try=data.received_at + self._settings.intake_retry_first,
            )
            if joined:
                assert kept is not None and self._audit is not None
                kept.outcome = TAKEN if new else "duplicate"
                self._audit.write_in(uow, kept)
            uow.commit()
        if joined:
            assert kept is not None
            kept.kept = True
        return new

    def start_soon(self, data: OrderWorkflowInput) -> None:
        """Start an order just taken on its own task, so the request that took it ends at once.

        Not a request's background task: those run before the ASGI call returns, and a keep-alive
        connection takes its next request only then, so under load each webhook on a connection
        waited for the previous one's start (p50 0.7 s, p99 4 s at 50 concurrent while Temporal
        was busy). The task is held here until it ends; one lost in a crash is the sweeper's."""
        task = asyncio.get_running_loop().create_task(self.start_taken(data))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def start_taken(self, data: OrderWorkflowInput) -> bool:
        """Start the workflow of an order just taken, and mark its intake row started: right after
        the answer (start_soon) or in the pull that took it. A start that fails
        (the engine away) is left to the sweeper, which tries until the engine takes it: False."""
        order_id = data.order.order_id
        try:
            await self._workflows.start_order(data, task_queue=self._settings.task_queue)
            await self._mark_started(order_id)
        except Exception as exc:  # the order is kept: the sweeper starts it; nobody waits for this
            log.warning("order %s taken, not started now (%s): the intake sweeper starts it", order_id, reason(exc))
            return False
        return True

    async def _mark_started(self, order_id: str) -> None:
        """Marked when this returns: in one UPDATE with every other start that finished while the
        one before was being written (under load, one write for many orders, not one each)."""
        self._started.append(order_id)
        async with self._marking:
            if not self._started:
                return  # the write that just ended took ours along
            order_ids, self._started = self._started, []
            await asyncio.to_thread(self._write_started, order_ids)

    def _write_started(self, order_ids: list[str]) -> None:
        with self._units() as uow:
            uow.intake.mark_started(order_ids, datetime.now(UTC))
            uow.commit()

    async def take_canonical(self, order: Order, *, kept: KeptPayload | None = None) -> Taken:
        """An order from POST /orders: a counter sale is refused (Unprocessable) where it names a
        location that cannot sell at the counter, before anything else."""
        refusal = await asyncio.to_thread(self._counter_sale_refusal, order)
        if refusal is not None:
            raise Unprocessable(f"pickup_location_id: {refusal}")
        if order.store_credit is not None:
            if order.fulfilled_by == FULFILLED_BY_CHANNEL:
                raise Unprocessable("store_credit: an order the channel fulfils is paid on the channel")
            return await self._take_paid_with_credit(order)
        return await self.take(order, kept=kept)

    async def _take_paid_with_credit(self, order: Order) -> Taken:
        """An order paying (part of) its total with store credit: recorded and its credit spent in
        one transaction before its workflow starts, so a 2xx means both happened; too little credit
        is refused (Unprocessable, with the amount available) and nothing is recorded. A repeated
        delivery spends nothing more; it starts the workflow again only while the order is still
        RECEIVED (a start that failed after the order was recorded), which Temporal dedupes."""
        structlog.contextvars.bind_contextvars(order_id=order.order_id)
        await self._workflows.connect()
        data = order_workflow_input(self._settings, order)
        status = await asyncio.to_thread(self._record_and_spend, order, data.received_at)
        if status is not None and status is not OrderStatus.RECEIVED:
            return Taken(order.order_id, True, "duplicate")
        started = await self._workflows.start_order(data, task_queue=self._settings.task_queue)
        if started and status is None:
            self._on_taken(order.channel)
        return Taken(order.order_id, not started, "started" if started else "duplicate")

    def _record_and_spend(self, order: Order, received_at: datetime) -> OrderStatus | None:
        """The order's status when it was recorded already (nothing spent now), else None: recorded
        and paid with credit in this transaction, under the credit account's lock."""
        assert order.store_credit is not None
        with self._units() as uow:
            status = uow.orders.status_of(order.order_id)
            if status is not None:
                return status
            shop = uow.channels.policy(order.channel).shop
            try:
                if not spend_on_order(uow, order, shop, received_at):
                    return OrderStatus.RECEIVED  # a delivery racing this one spent and recorded it
            except CreditRefused as exc:
                raise refused(exc) from None
            uow.orders.record(order, received_at)
            paid = f"{order.store_credit.format()} paid with store credit at shop {shop}"
            uow.orders.add_event(order.order_id, "store_credit:spent", paid, received_at)
            uow.commit()
        return None

    async def cancel_from_channel(self, order: Order, reason: str, confirm_lines: Sequence[str] = ()) -> bool:
        """The channel cancelled the order. One we have: its workflow is signalled, after the cancel
        is claimed like a staff cancel (so it cannot cross a shipment that is leaving right now);
        never a second run. One new to us (a cancellation can overtake the creation): started with
        the cancel, so it is recorded, then cancelled. One still only in the intake (taken while
        the engine was away, or a moment ago): started now as it was taken, with the cancel, in the
        same call (a run that started meanwhile just gets the cancel). `confirm_lines`: the lines
        whose cancellation the customer requested and the channel wants confirmed once done (bol).
        True when the order's workflow had already ended, or something had left."""
        request = CancelRequest(reason=reason, requested_by=order.channel, confirm_lines=list(confirm_lines))
        if await self._is_recorded(order.order_id):
            try:
                refusal = await claim_and_signal(self._units, self._workflows, order.order_id, request)
            except WorkflowNotFound:  # its workflow has ended, perhaps long ago
                return True
            return refusal is not None
        taken = await asyncio.to_thread(self._in_intake, order.order_id)
        if taken is None:
            return not await self._start(order, cancel=request)
        started = await self._workflows.start_order(taken, task_queue=self._settings.task_queue, cancel=request)
        await self._mark_started(order.order_id)
        return not started

    def _in_intake(self, order_id: str) -> OrderWorkflowInput | None:
        with self._units(read_only=True) as uow:
            waiting = uow.intake.waiting(order_id)
        return None if waiting is None else from_json(waiting.workflow_input)

    async def cancel_items_from_channel(self, order: Order, item_ids: Sequence[str], *, new: bool = False) -> str:
        """The customer asked the channel to cancel some items of an order we have: an edit by the
        channel (services.order_edits), whose items are confirmed there once taken. A `new` order
        is edited once its checks hold it for the request (its workflow was just started). One
        the order cannot take (an item handed over) goes on its timeline for a person. The
        outcome, for the audit row."""
        if new:
            await self._until_held(order.order_id)
        open_items = await asyncio.to_thread(self._open_items, order.order_id, item_ids)
        if not open_items:
            return "items cancelled already"
        request = EditOrderRequest(
            [EditChange("cancel_lines", line=line, quantity=units) for line, units in open_items],
            requested_by=order.channel,
            reason=f"the customer asked {order.channel} to cancel",
            confirm_lines=list(item_ids),
        )
        edits = OrderEdits(self._units, self._workflows)
        try:
            for attempt in range(HELD_CHECKS if new else 1):
                try:
                    result = await edits.edit(order.order_id, request)
                    break
                except Conflict as refused:  # just held: its workflow may not wait for a person yet
                    if attempt + 1 == (HELD_CHECKS if new else 1) or refused.facts.get("refusal") != "not_editable":
                        raise
                    await asyncio.sleep(HELD_POLL_SECONDS)
        except (Conflict, Unprocessable) as refused:
            items = ", ".join(item_ids)
            detail = f"the customer asked {order.channel} to cancel items {items}; not taken: {refused.message}"
            await asyncio.to_thread(self._note, order.order_id, "channel_cancel_request", detail)
            return f"items cancel not taken: {refused.message}"[:200]
        return f"items cancelled: version {result.version}"

    async def _until_held(self, order_id: str) -> None:
        """A new order's checks hold it (or it moved on) within HELD_CHECKS polls, usually at once."""

        def status() -> OrderStatus | None:
            with self._units(read_only=True) as uow:
                return uow.orders.status_of(order_id)

        for _ in range(HELD_CHECKS):
            if await asyncio.to_thread(status) not in (None, OrderStatus.RECEIVED):
                return
            await asyncio.sleep(HELD_POLL_SECONDS)

    def _open_items(self, order_id: str, item_ids: Sequence[str]) -> list[tuple[int, int]]:
        """(position, units) of the order's lines, as it stands, that are these channel items."""
        wanted = set(item_ids)
        with self._units(read_only=True) as uow:
            record = uow.orders.get(order_id)
            lines = list(record.lines) if record is not None else []
        return [(n, line.quantity) for n, line in enumerate(lines) if line.external_line_id in wanted]

    def _note(self, order_id: str, kind: str, detail: str) -> None:
        with self._units() as uow:
            uow.orders.add_event(order_id, kind, detail, datetime.now(UTC))
            uow.commit()

    async def _start(self, order: Order, *, cancel: CancelRequest | None = None) -> bool:
        data = order_workflow_input(self._settings, order)
        started = await self._workflows.start_order(data, task_queue=self._settings.task_queue, cancel=cancel)
        if started:  # a second delivery finds the first run (or the order row) and is not counted
            self._on_taken(order.channel)
        return started

    async def _is_recorded(self, order_id: str) -> bool:
        """Asked on a thread, in a read-only unit of work closed before we go on."""

        def recorded() -> bool:
            with self._units(read_only=True) as uow:
                return uow.orders.status_of(order_id) is not None

        return await asyncio.to_thread(recorded)

    def _counter_sale_refusal(self, order: Order) -> str | None:
        """Why this counter sale may not be taken at the location it names (not a store, too many
        units), or None. Checked here as well as where its stock moves
        (persistence.guarded_writes.inventory.sell_at_counter), so no caller can go around it. A
        location we do not know is not refused: the order is held for a person, as any naming
        something new."""
        store = order.pickup_location_id
        if order.fulfilled_by != FULFILLED_AT_COUNTER or not store:
            return None
        with self._units(read_only=True) as uow:
            kind = uow.locations.kind(store)
        return None if kind is None else counter_sale_refusal(store, kind, order.demand())


async def start_order(client: Client, settings: Settings, order: Order) -> tuple[str, bool]:
    """Start the order's workflow without asking the database first, for a process that holds a
    Temporal client (scripts, tests): (order_id, duplicate)."""
    data = order_workflow_input(settings, order)
    started = await TemporalWorkflows.on(client).start_order(data, task_queue=settings.task_queue)
    return order.order_id, not started


async def cancel_from_channel(
    client: Client,
    settings: Settings,
    order: Order,
    reason: str,
    session_factory: SessionFactory,
    *,
    confirm_lines: Sequence[str] = (),
) -> tuple[str, bool]:
    """Intake.cancel_from_channel for a process that holds a client and a session factory:
    (order_id, finished)."""
    intake = Intake(settings, units_on(session_factory), TemporalWorkflows.on(client))
    return order.order_id, await intake.cancel_from_channel(order, reason, confirm_lines)
