"""What goes in and out of an order edit: the update `edit_order` (staff through the API, channels
through their webhooks and pulls) and the activity that records the new version.

A change is one flat dataclass (`kind` says which) rather than a union of the domain's change types,
so the payload converter never has to guess; `to_domain` turns it into domain.order_edits' changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from temporalio import activity

from domain.money import Money
from domain.order import Address, Order
from domain.order_edits import (
    AddLine,
    CancelLines,
    Change,
    ChangeAddress,
    EditKind,
    EditRefusalKind,
    EditRefused,
    LineQuantity,
    ReduceLine,
    RemoveLine,
)

NEEDS_PAYMENT = "needs_payment"
"""The refusal of an increase the card cannot be asked for without the customer (HTTP 409)."""
PAYMENT_DECLINED = "payment_declined"
"""The card declined the increase: the order stays as it was (HTTP 409)."""
PAYMENT_UNAVAILABLE = "payment_unavailable"
"""The gateway did not answer the new authorization: the order stays as it was (HTTP 503)."""
LABEL_NOT_CANCELLABLE = "label_not_cancellable"
"""A new address, but the carrier no longer lets a shipment's label go (announced to the carrier):
the order stays as it was (HTTP 409)."""
CARRIER_UNAVAILABLE = "carrier_unavailable"
"""The carrier did not answer the cancellation of a label the new address needs redone: the order
stays as it was, try again (HTTP 503)."""
APPLIED = "applied"
AWAITING_PAYMENT = "awaiting_payment"
"""EditOrderResult.status of an edit that costs more on an order whose provider asks the customer
with a payment link (Mollie): it applies once the link is paid, and lapses unpaid at its deadline."""


@dataclass
class EditChange:
    kind: str
    """domain.order_edits.EditKind: remove_line, reduce_line, add_line, change_address, cancel_lines."""
    line: int | None = None
    """remove_line, reduce_line and cancel_lines: the line's position in the order as it stands."""
    quantity: int | None = None
    """reduce_line and cancel_lines: units taken off; add_line: units added."""
    sku: str = ""
    unit_price: Money | None = None
    """add_line: what the customer pays per unit, tax included."""
    title: str = ""
    address: Address | None = None


@dataclass
class EditOrderRequest:
    changes: list[EditChange]
    requested_by: str
    """A person (StaffMember.label) or the channel's name (domain.order.CHANNELS)."""
    reason: str = ""
    confirm_lines: list[str] = field(default_factory=list)
    """The channel's line ids whose cancellation the channel wants confirmed once taken (bol
    `cancellationRequest`): told to the channel although it asked."""


@dataclass
class EditOrderResult:
    order_id: str
    version: int
    changes: list[str]
    total: Money
    difference: Money
    """New total minus old: negative is given back, positive asked of the customer."""
    void: Money
    refund: Money
    authorize: Money
    on_channel: bool
    """The channel took the money: it settles the difference, we only record it."""
    authorized: Money | None = None
    """What the card holds now when the edit authorized it anew (the old hold voided); None: unchanged."""
    credit_back: Money | None = None
    """Store credit given back to the customer's account: the order now costs less than the credit
    it spent (the card's part was taken off first); None: none."""
    status: str = APPLIED
    """APPLIED, or AWAITING_PAYMENT: nothing of the edit is applied until the customer pays
    `payment_link` (for `authorize`) before `pay_by`."""
    payment_link: str = ""
    pay_by: datetime | None = None


@dataclass
class RecordEditInput:
    order: Order
    """The order after the edit."""
    version: int
    changes: list[str]
    changed_by: str
    reason: str
    at: datetime
    idempotency_key: str
    withdraw: list[str] = field(default_factory=list)
    """Shipments the edit takes units off: refused if one has left meanwhile, else marked so their
    handover stops (they are withdrawn and what they still should carry is reserved again)."""
    readdress: list[str] = field(default_factory=list)
    payment: dict[str, int | bool] = field(default_factory=dict)
    cancel_items: list[str] = field(default_factory=list)
    """The channel's item ids to cancel there (the lines the edit removed, or those the channel asked
    to confirm): its cancellation outbox, where its cancel call takes single items (bol.com)."""
    reduced_items: list[str] = field(default_factory=list)
    """The channel's item ids of lines our edit reduced without removing: a channel that cancels whole
    items only cannot be told; the timeline says so."""
    placed_total: Money | None = None
    """The order's total as placed (version 1), recorded with the first edit."""


@dataclass
class RecordEditResult:
    version: int


@dataclass
class NoteEditInput:
    """A line on the order's timeline about an edit that waits for, or gave up on, its payment."""

    order_id: str
    kind: str
    detail: str
    at: datetime
    idempotency_key: str


class OrderEditRecords:
    """The order's versions in the read model (activities.order_edits implements it)."""

    @activity.defn
    def record_edit(self, data: RecordEditInput) -> RecordEditResult:
        raise NotImplementedError

    @activity.defn
    def note_edit(self, data: NoteEditInput) -> None:
        raise NotImplementedError


def to_domain(change: EditChange) -> Change:
    """The domain's change, or EditRefused (INVALID) naming what is missing."""
    kind = _kind(change.kind)
    if kind is EditKind.CHANGE_ADDRESS:
        if change.address is None:
            raise EditRefused(EditRefusalKind.INVALID, "change_address needs an address")
        return ChangeAddress(change.address)
    if kind is EditKind.ADD_LINE:
        if change.unit_price is None or change.quantity is None:
            raise EditRefused(EditRefusalKind.INVALID, "add_line needs a sku, a quantity and a unit_price")
        return AddLine(change.sku, change.quantity, change.unit_price, change.title)
    if change.line is None:
        raise EditRefused(EditRefusalKind.INVALID, f"{kind.value} needs the line's position (line)")
    if kind is EditKind.REMOVE_LINE:
        return RemoveLine(change.line)
    if change.quantity is None:
        raise EditRefused(EditRefusalKind.INVALID, f"{kind.value} needs a quantity")
    if kind is EditKind.REDUCE_LINE:
        return ReduceLine(change.line, change.quantity)
    return CancelLines((LineQuantity(change.line, change.quantity),))


def _kind(value: str) -> EditKind:
    try:
        return EditKind(value)
    except ValueError:
        known = ", ".join(kind.value for kind in EditKind)
        raise EditRefused(EditRefusalKind.INVALID, f"unknown change {value!r}: one of {known}") from None
