"""Changing an order before it ships, for every way in (staff through the API, channels through
their webhooks and pulls): the read model is asked first (an unknown order is 404 whether or not
the engine answers, a SKU nobody stocks is refused here), then the order's workflow decides
(OrderWorkflow.edit_order: its validator refuses before history) and its answers become 409 or 422."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.errors import ErrorType
from contracts.order_edits import (
    CARRIER_UNAVAILABLE,
    PAYMENT_UNAVAILABLE,
    EditChange,
    EditOrderRequest,
    EditOrderResult,
)
from domain.money import Money
from domain.order_edits import EditKind, EditRefusalKind
from domain.status import OrderStatus
from services.errors import Conflict, Failed, NotFound, Unavailable, Unprocessable, refused
from services.gateway import (
    EngineError,
    EngineUnavailable,
    UpdateFailed,
    WorkflowGateway,
    WorkflowNotFound,
    WorkflowNotRunning,
)
from services.unit_of_work import UnitOfWorkFactory

_UNPROCESSABLE = frozenset({EditRefusalKind.INVALID.value})


@dataclass(frozen=True)
class ChannelEdit:
    """An edit a channel made on its side, by its own line ids."""

    ref: str
    """The channel's id for the edit (e.g. "shopify order edit 1234"): taken once."""
    removals: Mapping[str, int]
    additions: Mapping[str, int]
    reason: str


class OrderEdits:
    def __init__(self, units: UnitOfWorkFactory, workflows: WorkflowGateway) -> None:
        self._units = units
        self._workflows = workflows

    async def edit(self, order_id: str, request: EditOrderRequest) -> EditOrderResult:
        """The new version; NotFound, Conflict (handed over, too early or late, more money than the
        card can be asked for, the card declined it) or Unprocessable (an invalid change), each with
        its `refusal`; Unavailable (the card's gateway did not answer); EngineUnavailable."""
        recorded = await asyncio.to_thread(self._check, order_id, request)
        try:
            return await self._workflows.edit_order(order_id, request)
        except UpdateFailed as exc:
            if exc.error_type == ErrorType.ORDER_EDIT_REFUSED:
                kind = exc.refusal or EditRefusalKind.NOT_EDITABLE.value
                if kind in (PAYMENT_UNAVAILABLE, CARRIER_UNAVAILABLE):  # no answer: nothing changed, try again
                    raise Unavailable(exc.refused_because, retry_after=30, refusal=kind) from None
                raise refused(exc.refused_because, kind, _UNPROCESSABLE) from None
            raise Failed(f"the edit could not be completed: {exc.reason}") from None
        except (WorkflowNotFound, WorkflowNotRunning):
            message = f"order {order_id} is {recorded.value}: it can no longer be changed"
            raise Conflict(message, refusal=EditRefusalKind.NOT_EDITABLE.value) from None
        except EngineError:
            raise EngineUnavailable() from None

    async def edit_from_channel(
        self, order_id: str, channel: str, edit: ChannelEdit, *, confirm_items: Sequence[str] = ()
    ) -> str:
        """The channel changed the order on its side (Shopify's orders/edited): the same edit here,
        by the channel, once per `edit.ref`. Units off a line we have reduce it; units added to one
        are priced as that line; a line item new to us, or an edit the order cannot take (an item
        handed over, on hold), goes on the timeline for a person. The outcome, for the audit row."""
        changes, unknown, seen = await asyncio.to_thread(self._channel_changes, order_id, edit)
        if seen:
            return "duplicate: edit taken already"
        notes = [f"{channel} added line items unknown here ({', '.join(unknown)}): add them with an edit"]
        notes = notes if unknown else []
        outcome = "nothing to change here"
        if changes:
            request = EditOrderRequest(changes, channel, f"{edit.reason} ({edit.ref})", list(confirm_items))
            try:
                outcome = f"edited: version {(await self.edit(order_id, request)).version}"
            except (Conflict, Unprocessable) as refused:
                notes.append(f"{channel} changed the order ({edit.ref}); not taken here: {refused.message}")
                outcome = f"edit not taken: {refused.message}"
        for note in notes:
            await asyncio.to_thread(self._note, order_id, note)
        return outcome[:200]

    def _channel_changes(self, order_id: str, edit: ChannelEdit) -> tuple[list[EditChange], list[str], bool]:
        with self._units(read_only=True) as uow:
            record = uow.orders.get(order_id)
            if record is None:
                raise NotFound(f"no order {order_id}")
            seen = any(edit.ref in version.reason for version in uow.orders.versions(order_id))
            lines = list(record.lines)
            currency = record.currency
        changes: list[EditChange] = []
        for n, line in enumerate(lines):
            off = edit.removals.get(line.external_line_id, 0) if line.external_line_id else 0
            if off >= line.quantity:
                changes.append(EditChange(EditKind.REMOVE_LINE.value, line=n))
            elif off:
                changes.append(EditChange(EditKind.REDUCE_LINE.value, line=n, quantity=off))
        by_id = {line.external_line_id: line for line in lines if line.external_line_id}
        unknown = [item for item in edit.additions if item not in by_id]
        for item, units in edit.additions.items():
            same = by_id.get(item)
            if same is not None:
                price = Money(same.unit_price_minor, currency)
                add = EditChange(
                    EditKind.ADD_LINE.value, sku=same.sku, quantity=units, unit_price=price, title=same.title
                )
                changes.append(add)
        return changes, unknown, seen

    def _note(self, order_id: str, detail: str) -> None:
        with self._units() as uow:
            uow.orders.add_event(order_id, "channel_edit", detail, datetime.now(UTC))
            uow.commit()

    def _check(self, order_id: str, request: EditOrderRequest) -> OrderStatus:
        """What the read model can tell: the order exists, and every SKU added is one we stock."""
        added = {change.sku for change in request.changes if change.kind == EditKind.ADD_LINE.value and change.sku}
        with self._units(read_only=True) as uow:
            recorded = uow.orders.status_of(order_id)
            if recorded is None:
                raise NotFound(f"no order {order_id}")
            unknown = sorted(added - uow.orders.known_skus(added))
        if unknown:
            raise Unprocessable(
                f"no location stocks {', '.join(unknown)}: add it to the inventory first",
                refusal=EditRefusalKind.INVALID.value,
            )
        return recorded
