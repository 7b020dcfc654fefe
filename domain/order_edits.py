"""Changing an order before it ships: what may change, what the changed order is worth, exactly,
what stock and money must follow, and the order's history of versions.

Pure rules, no I/O, no clock: the workflow passes the order as it stands, its shipments as they
stand and the time; it gets back the new order and plain data to act on (stock to release, demand to
source, shipments to withdraw or re-address, money to void, refund or authorize).

A unit handed over (parcel given to the carrier, or collected at the counter: domain.fulfilment's
HANDOVER step) has left our stock and was paid for: it can never be edited. Anything not yet handed
over can (a picked or packed parcel is re-picked). Lines are named by their position in the order
as it stands (`line_index_for` finds a channel's line id), so two lines of one SKU stay apart.

Money follows domain.allocation: the order discount is shared over the lines in proportion to their
totals, so the lines kept keep their share and the units removed take theirs with them; a line
added is priced as given, with no share of a discount given at checkout; shipping and other charges
stay as they were (they were charged with the first units). The new total reconciles exactly:
lines + shipping + charges - discount.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from domain.allocation import charged_for, units_per_line
from domain.fulfilment import DONE_STATUS, HANDOVER, STEPS, ShipmentKind, ShipmentStatus
from domain.money import Money
from domain.order import CHANNELS, FULFILLED_BY_US, Address, Order, OrderLine, price_mismatch

# Changes ---------------------------------------------------------------------------------------------


class EditKind(StrEnum):
    REMOVE_LINE = "remove_line"
    REDUCE_LINE = "reduce_line"
    ADD_LINE = "add_line"
    CHANGE_ADDRESS = "change_address"
    CANCEL_LINES = "cancel_lines"
    """A channel's partial cancellation (bol.com's cancellationRequest, Shopify's orders/edited):
    the same as reducing or removing the lines it names."""


@dataclass(frozen=True)
class RemoveLine:
    line: int
    """Position of the line in the order as it stands (0-based)."""
    kind: EditKind = field(default=EditKind.REMOVE_LINE, init=False)


@dataclass(frozen=True)
class ReduceLine:
    line: int
    by: int
    """Units taken off the line; taking all of them removes it."""
    kind: EditKind = field(default=EditKind.REDUCE_LINE, init=False)


@dataclass(frozen=True)
class AddLine:
    sku: str
    quantity: int
    unit_price: Money
    """What the customer pays per unit, tax included (the line's total is quantity x this)."""
    title: str = ""
    kind: EditKind = field(default=EditKind.ADD_LINE, init=False)


@dataclass(frozen=True)
class ChangeAddress:
    address: Address
    kind: EditKind = field(default=EditKind.CHANGE_ADDRESS, init=False)


@dataclass(frozen=True)
class LineQuantity:
    line: int
    quantity: int


@dataclass(frozen=True)
class CancelLines:
    lines: tuple[LineQuantity, ...]
    kind: EditKind = field(default=EditKind.CANCEL_LINES, init=False)


Change = RemoveLine | ReduceLine | AddLine | ChangeAddress | CancelLines


@dataclass(frozen=True)
class EditRequest:
    changes: tuple[Change, ...]
    requested_by: str
    """A person (StaffMember.label: their e-mail) or the channel's name (one of domain.order.CHANNELS)."""
    reason: str = ""

    @property
    def by_channel(self) -> bool:
        """A channel asked: it knows already, so it is not told back (domain.cancellation's rule)."""
        return self.requested_by in CHANNELS


def line_index_for(order: Order, external_line_id: str) -> int | None:
    """The position of the line a channel names by its own id (bol orderItemId), or None."""
    return next(
        (i for i, line in enumerate(order.lines) if external_line_id and line.external_line_id == external_line_id),
        None,
    )


# Refusals --------------------------------------------------------------------------------------------


class EditRefusalKind(StrEnum):
    HANDED_OVER = "handed_over"
    """The change touches units already handed to a carrier or collected: HTTP 409."""
    NOT_EDITABLE = "not_editable"
    """The order is not ours to change (fulfilled by the channel or at the counter) or its total does
    not reconcile (a person accepted the channel's figure): HTTP 409."""
    INVALID = "invalid"
    """An unknown line, a quantity below one or beyond the line, a line named twice, another
    currency, an empty address, or an edit that would leave no line (cancel the order instead): HTTP 422."""


class EditRefused(Exception):
    def __init__(self, kind: EditRefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


# Shipments -------------------------------------------------------------------------------------------

_AFTER_HANDOVER = frozenset(
    {
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.DELIVERY_FAILED,
        ShipmentStatus.DELIVERED,
        ShipmentStatus.RETURNED_TO_SENDER,
    }
)
_ENDED_WITHOUT_HANDOVER = frozenset(
    {ShipmentStatus.WITHDRAWN, ShipmentStatus.EXPIRED, ShipmentStatus.CANCELLED, ShipmentStatus.STOPPED_BY_CANCEL}
)
# Which units are released first when a SKU is reduced: those least far along (nothing to put back).
_PROGRESS = (ShipmentStatus.RESERVED, ShipmentStatus.PICKED, ShipmentStatus.PACKED, ShipmentStatus.SHIPPED)


@dataclass(frozen=True)
class ShipmentState:
    """One shipment of the order as it stands: where from, how far, carrying what."""

    shipment_id: str
    location_id: str
    kind: ShipmentKind
    status: ShipmentStatus
    units: Mapping[str, int]
    """SKU → units this shipment carries (as reserved, or as picked once picked)."""


def handed_over(kind: ShipmentKind, status: ShipmentStatus) -> bool:
    """Whether the shipment's goods have left us: its HANDOVER step (or a later one) is done, or the
    carrier reports on it."""
    steps = STEPS[kind]
    after = {DONE_STATUS[step] for step in steps[steps.index(HANDOVER[kind]) :]}
    return status in after or status in _AFTER_HANDOVER


def is_open(shipment: ShipmentState) -> bool:
    """Still carrying reserved units we may change: not handed over, not ended."""
    return shipment.status not in _ENDED_WITHOUT_HANDOVER and not handed_over(shipment.kind, shipment.status)


def handed_over_units(shipments: Sequence[ShipmentState]) -> dict[str, int]:
    """SKU → units handed over across the order's shipments: these no edit may touch."""
    units: dict[str, int] = {}
    for shipment in shipments:
        if handed_over(shipment.kind, shipment.status):
            for sku, quantity in shipment.units.items():
                units[sku] = units.get(sku, 0) + quantity
    return units


# Results ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockRelease:
    shipment_id: str
    location_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class LineChange:
    """One line before and after (quantity 0 after: removed; before: added)."""

    sku: str
    quantity_before: int
    quantity_after: int
    total_before: Money
    total_after: Money


@dataclass(frozen=True)
class EditResult:
    order: Order
    """The order after the edit (its total reconciles: lines + shipping + charges - discount)."""
    line_changes: tuple[LineChange, ...]
    address_changed: bool
    releases: tuple[StockRelease, ...]
    """Reserved units to release, per shipment, location and SKU."""
    unsourced_dropped: Mapping[str, int]
    """SKU → units removed that no location held (a backorder's demand shrinks; nothing to release)."""
    to_source: Mapping[str, int]
    """SKU → units added: to be planned (domain.sourcing) and reserved like any order's."""
    withdraw: tuple[str, ...]
    """Shipments left carrying nothing: withdraw their pick requests."""
    repick: tuple[str, ...]
    """Shipments whose contents changed after picking started: the warehouse must hear."""
    readdress: tuple[str, ...]
    """Open delivery shipments to send to the new address (a printed label must be redone)."""
    old_total: Money
    new_total: Money
    old_credit: Money
    """Store credit the order spent before the edit (0: none)."""

    @property
    def difference(self) -> Money:
        """New total minus old: negative gives money back, positive asks the customer for more."""
        return self.new_total - self.old_total

    @property
    def changed(self) -> bool:
        return bool(self.line_changes) or self.address_changed

    @property
    def credit_back(self) -> Money:
        """Store credit the order spent that goes back to the customer's account (credit_kept)."""
        return self.old_credit - self.order.store_credit if self.order.store_credit is not None else self.old_credit

    @property
    def gateway_difference(self) -> Money:
        """What the edit changes of the gateway's part: the difference less the credit given back."""
        return self.difference + self.credit_back


def apply_edit(order: Order, request: EditRequest, shipments: Sequence[ShipmentState]) -> EditResult:
    """The order after `request`, or EditRefused saying why not. An empty request changes nothing."""
    if order.fulfilled_by != FULFILLED_BY_US:
        raise EditRefused(EditRefusalKind.NOT_EDITABLE, f"this order is fulfilled by {order.fulfilled_by}, not by us")
    if price_mismatch(order):
        raise EditRefused(
            EditRefusalKind.NOT_EDITABLE, "the order's total does not reconcile with its lines: cancel and re-enter it"
        )
    reductions, additions, address = _collect(order, request.changes)
    locked = units_per_line(order, handed_over_units(shipments))
    kept = _kept_units(order, reductions, locked)
    open_shipments = [s for s in shipments if is_open(s)]
    if address is not None:
        _check_address(order, address, locked, open_shipments)
    readdressed = address is not None and address != order.shipping_address
    new_order, changes = _new_order(order, kept, additions, address)
    releases, unsourced = _releases(order, _removed_per_sku(order, kept), shipments, open_shipments)
    withdraw = _emptied(open_shipments, releases)
    started = {s.shipment_id for s in open_shipments if s.status is not ShipmentStatus.RESERVED}
    return EditResult(
        order=new_order,
        line_changes=tuple(changes),
        address_changed=readdressed,
        releases=releases,
        unsourced_dropped=unsourced,
        to_source=_demand(additions),
        withdraw=withdraw,
        repick=tuple(sorted(({r.shipment_id for r in releases} & started) - set(withdraw))),
        readdress=tuple(s.shipment_id for s in open_shipments if s.kind is ShipmentKind.DELIVERY and readdressed),
        old_total=order.total,
        new_total=new_order.total,
        old_credit=order.store_credit if order.store_credit is not None else Money.zero(order.currency),
    )


def _kept_units(order: Order, reductions: Mapping[int, int], locked: Sequence[int]) -> list[int]:
    """Units each line keeps; never fewer than were handed over (lines of one SKU fill in order)."""
    kept: list[int] = []
    for index, line in enumerate(order.lines):
        by = reductions.get(index, 0)
        if by > line.quantity:
            raise EditRefused(EditRefusalKind.INVALID, f"line {index} ({line.sku}) has {line.quantity}, not {by}")
        if line.quantity - by < locked[index]:
            raise EditRefused(
                EditRefusalKind.HANDED_OVER,
                f"line {index} ({line.sku}): {locked[index]} of {line.quantity} already handed over",
            )
        kept.append(line.quantity - by)
    return kept


def _new_order(
    order: Order, kept: list[int], additions: list[AddLine], address: Address | None
) -> tuple[Order, list[LineChange]]:
    """The order with its new lines, the discount's share on the lines kept and a reconciled total."""
    new_lines, changes = _new_lines(order, kept, additions)
    if not new_lines:
        raise EditRefused(EditRefusalKind.INVALID, "the edit leaves no line: cancel the order instead")
    discount = Money(_kept_discount(order, new_lines[: sum(1 for n in kept if n)]), order.currency)
    total = _lines_sum(new_lines, order.currency) + order.shipping + order.other_charges - discount
    new_order = replace(
        order,
        lines=tuple(new_lines),
        discount=None if order.discount is None and discount.amount_minor == 0 else discount,
        total=total,
        shipping_address=address if address is not None else order.shipping_address,
        store_credit=credit_kept(order.store_credit, total),
    )
    return new_order, changes


def credit_kept(spent: Money | None, new_total: Money) -> Money | None:
    """What of the store credit an order spent still pays for it at `new_total`: all of it while it
    fits, else the new total (None: no credit, or a total of zero).

    The gateway's part shrinks first, credit is given back last: credit pays for the first goods to
    leave (workflows.order.payment captures only beyond it), so what an edit takes off is the card's
    part until none is left, and a hold not yet captured is released at no cost, while credit given
    back stays in the shop. Increases leave the credit as it was (the gateway is asked for more)."""
    if spent is None:
        return None
    kept = min(spent.amount_minor, new_total.amount_minor)
    return Money(kept, spent.currency) if kept > 0 else None


def _collect(order: Order, changes: Sequence[Change]) -> tuple[dict[int, int], list[AddLine], Address | None]:
    """The edit as units off each line, lines added and the new address; every line named once."""
    reductions: dict[int, int] = {}
    additions: list[AddLine] = []
    address: Address | None = None

    def reduce(line: int, by: int) -> None:
        if not 0 <= line < len(order.lines):
            raise EditRefused(EditRefusalKind.INVALID, f"no line {line} on this order")
        if line in reductions:
            raise EditRefused(EditRefusalKind.INVALID, f"line {line} is changed twice in one edit")
        if isinstance(by, bool) or not isinstance(by, int) or by < 1:
            raise EditRefused(EditRefusalKind.INVALID, f"line {line}: reduce by at least one unit")
        reductions[line] = by

    for change in changes:
        if isinstance(change, RemoveLine):
            if 0 <= change.line < len(order.lines):
                reduce(change.line, order.lines[change.line].quantity)
            else:
                reduce(change.line, 1)  # refused as an unknown line
        elif isinstance(change, ReduceLine):
            reduce(change.line, change.by)
        elif isinstance(change, CancelLines):
            for item in change.lines:
                reduce(item.line, item.quantity)
        elif isinstance(change, AddLine):
            _check_addition(order, change)
            additions.append(change)
        else:
            if address is not None:
                raise EditRefused(EditRefusalKind.INVALID, "the address is changed twice in one edit")
            address = change.address
    return reductions, additions, address


def _check_addition(order: Order, line: AddLine) -> None:
    if not line.sku:
        raise EditRefused(EditRefusalKind.INVALID, "an added line needs a SKU")
    if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 1:
        raise EditRefused(EditRefusalKind.INVALID, f"{line.sku}: quantity must be at least 1")
    if line.unit_price.currency != order.currency:
        raise EditRefused(
            EditRefusalKind.INVALID, f"{line.sku}: priced in {line.unit_price.currency}, order in {order.currency}"
        )
    if line.unit_price.amount_minor < 0:
        raise EditRefused(EditRefusalKind.INVALID, f"{line.sku}: a price cannot be negative")


def _check_address(order: Order, address: Address, locked: list[int], open_shipments: list[ShipmentState]) -> None:
    if order.pickup_location_id is not None:
        raise EditRefused(EditRefusalKind.INVALID, "a click & collect order has no delivery address to change")
    if not (address.line1 and address.city and address.country):
        raise EditRefused(EditRefusalKind.INVALID, "an address needs at least a street, a city and a country")
    if sum(locked) == sum(line.quantity for line in order.lines) and not open_shipments:
        raise EditRefused(
            EditRefusalKind.HANDED_OVER, "everything was handed over already: no parcel left to re-address"
        )


def _new_lines(order: Order, kept: list[int], additions: list[AddLine]) -> tuple[list[OrderLine], list[LineChange]]:
    """Lines kept (first n of q units worth total*n//q, allocation's rule) then lines added."""
    lines: list[OrderLine] = []
    changes: list[LineChange] = []
    zero = Money.zero(order.currency)
    for line, n in zip(order.lines, kept, strict=True):
        total = Money(line.total.amount_minor * n // line.quantity, order.currency)
        if n:
            lines.append(replace(line, quantity=n, total=total))
        if n != line.quantity:
            changes.append(LineChange(line.sku, line.quantity, n, line.total, total if n else zero))
    for added in additions:
        total = added.unit_price.times(added.quantity)
        lines.append(OrderLine(added.sku, added.quantity, added.unit_price, total, title=added.title))
        changes.append(LineChange(added.sku, 0, added.quantity, zero, total))
    return lines, changes


def _kept_discount(order: Order, kept_lines: Sequence[OrderLine]) -> int:
    """The order discount's share on the lines kept: what allocation.paid_for would not take for
    them (so removed units take their share with them; all kept → the discount unchanged). A part of
    the discount beyond the lines' value (it ate into shipping) stays whole."""
    discount = order.order_discount.amount_minor
    lines_total = order.lines_total().amount_minor
    if lines_total <= 0:
        return discount
    kept_total = sum(line.total.amount_minor for line in kept_lines)
    goods = max(0, lines_total - discount)
    beyond = max(0, discount - lines_total)
    return kept_total - goods * kept_total // lines_total + beyond


def _lines_sum(lines: Sequence[OrderLine], currency: str) -> Money:
    return Money(sum(line.total.amount_minor for line in lines), currency)


def _removed_per_sku(order: Order, kept: list[int]) -> dict[str, int]:
    removed: dict[str, int] = {}
    for line, n in zip(order.lines, kept, strict=True):
        if n < line.quantity:
            removed[line.sku] = removed.get(line.sku, 0) + line.quantity - n
    return removed


def _releases(
    order: Order, removed: Mapping[str, int], shipments: Sequence[ShipmentState], open_shipments: list[ShipmentState]
) -> tuple[tuple[StockRelease, ...], dict[str, int]]:
    """Units removed come first out of what no location holds (a backorder), then out of open
    shipments least far along (nothing picked to put back), by shipment id for a stable answer."""
    demand = order.demand()
    held = {
        sku: sum(s.units.get(sku, 0) for s in shipments if s.status not in _ENDED_WITHOUT_HANDOVER) for sku in demand
    }
    releases: list[StockRelease] = []
    unsourced: dict[str, int] = {}
    ranked = sorted(open_shipments, key=lambda s: (_rank(s.status), s.shipment_id))
    for sku, quantity in sorted(removed.items()):
        nowhere = min(quantity, max(0, demand[sku] - held[sku]))
        if nowhere:
            unsourced[sku] = nowhere
        left = quantity - nowhere
        for shipment in ranked:
            take = min(left, shipment.units.get(sku, 0))
            if take:
                releases.append(StockRelease(shipment.shipment_id, shipment.location_id, sku, take))
                left -= take
    return tuple(releases), unsourced


def _rank(status: ShipmentStatus) -> int:
    return _PROGRESS.index(status) if status in _PROGRESS else len(_PROGRESS)


def _emptied(open_shipments: list[ShipmentState], releases: tuple[StockRelease, ...]) -> tuple[str, ...]:
    released: dict[str, int] = {}
    for release in releases:
        released[release.shipment_id] = released.get(release.shipment_id, 0) + release.quantity
    return tuple(
        s.shipment_id
        for s in open_shipments
        if s.shipment_id in released and released[s.shipment_id] >= sum(s.units.values())
    )


def _demand(additions: Sequence[AddLine]) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for added in additions:
        wanted[added.sku] = wanted.get(added.sku, 0) + added.quantity
    return wanted


# Payment ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentPosition:
    """Where the order's money stands before the edit."""

    authorized: Money
    """Held on the card in all (0 when the money was taken at checkout)."""
    captured: Money
    """Taken so far (by captures, or at checkout) and not refunded."""
    collected_by_channel: bool = False
    """A marketplace took the money: any difference is settled by the channel, not by us."""


@dataclass(frozen=True)
class PaymentChange:
    void: Money
    """Released from what is still held on the card."""
    refund: Money
    """Given back from what was taken, beyond what could be voided."""
    authorize: Money
    """The extra the customer must authorize (a new payment) before the added lines ship."""
    on_channel: bool
    """The channel settles the difference (void/refund/authorize are then what it should do)."""

    @property
    def net(self) -> Money:
        """authorize - void - refund: equals the edit's difference, to the cent."""
        return self.authorize - self.void - self.refund


def payment_change(difference: Money, position: PaymentPosition) -> PaymentChange:
    """A decrease is voided from the authorization still held, the rest refunded; an increase is a
    new authorization the customer must give (the one held was for the old total)."""
    zero = Money.zero(difference.currency)
    if difference.amount_minor >= 0:
        return PaymentChange(zero, zero, difference, position.collected_by_channel)
    back = -difference.amount_minor
    held = max(0, position.authorized.amount_minor - position.captured.amount_minor)
    void = min(back, held)
    return PaymentChange(
        Money(void, difference.currency), Money(back - void, difference.currency), zero, position.collected_by_channel
    )


def capture_due(order: Order, captured: Money, shipped: Mapping[str, int]) -> Money:
    """What to capture now that `shipped` units have left in all, given `captured` (net of refunds)
    was taken already: charged_for on the order as it now stands, less what was taken, never below
    zero. After an edit the parcels that left before were charged on the old version, so a parcel's
    own share (allocation.charge_for_parcel) no longer telescopes; this running difference does, and
    the last parcel brings the captures to the new total exactly (payment_change refunded whatever
    had been taken beyond it)."""
    due = charged_for(order, shipped) - captured
    return due if due.amount_minor > 0 else Money.zero(order.currency)


# Versions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderVersion:
    number: int
    """1 is the order as placed; each accepted edit adds one."""
    changes: tuple[str, ...]
    """What changed, one readable line each ("TEE: 3 → 1 (29.99 EUR → 9.99 EUR)")."""
    changed_by: str
    reason: str
    at: datetime
    total: Money


def first_version(order: Order) -> OrderVersion:
    """The order as placed: version 1, by its channel, at the time it was placed."""
    return OrderVersion(1, ("placed",), order.channel, "", order.placed_at, order.total)


def next_version(previous: OrderVersion, request: EditRequest, result: EditResult, at: datetime) -> OrderVersion:
    """The version after an accepted edit (the time is passed in, UTC-aware, never before the last)."""
    if at.tzinfo is None:
        raise ValueError("a version's time must carry a timezone")
    if at < previous.at:
        raise ValueError(f"a version at {at.isoformat()} cannot follow one at {previous.at.isoformat()}")
    return OrderVersion(
        previous.number + 1, describe(result), request.requested_by, request.reason, at, result.new_total
    )


def describe(result: EditResult) -> tuple[str, ...]:
    """The readable diff of an edit: one line per line changed, the address, then the total."""
    lines: list[str] = []
    for change in result.line_changes:
        money = f"({change.total_before.format()} → {change.total_after.format()})"
        if change.quantity_before == 0:
            lines.append(f"added {change.quantity_after} x {change.sku} {money}")
        elif change.quantity_after == 0:
            lines.append(f"removed {change.quantity_before} x {change.sku} {money}")
        else:
            lines.append(f"{change.sku}: {change.quantity_before} → {change.quantity_after} {money}")
    if result.address_changed:
        address = result.order.shipping_address
        place = " ".join(part for part in (address.postcode, address.city) if part)
        lines.append(f"shipping address → {address.line1}, {place}, {address.country}")
    if result.new_total != result.old_total:
        lines.append(f"total: {result.old_total.format()} → {result.new_total.format()}")
    return tuple(lines)
