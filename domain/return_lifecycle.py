"""A return's life after the customer asks: an RMA, the parcel received and judged line by line, each
unit given a disposition, the money settled, or the request left to expire.

Pure rules, no I/O, no clock (times are passed in, UTC-aware): the order workflow calls these in
its update validators and handlers, so a refusal is raised before anything reaches history and the
same inputs give the same answer on replay. What may be asked back at all (window, units shipped
and not yet returned) stays with domain.returns.check_return; what units are worth stays with
domain.allocation, so a return refunded in parts still adds up to what was paid, to the cent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from domain.allocation import goods_total, paid_for, refund_for_units
from domain.limits import LEDGER_REASON
from domain.money import Money
from domain.order import Order

_E = TypeVar("_E", bound=StrEnum)

# --- States and the moves between them ------------------------------------------------------------


class ReturnState(StrEnum):
    """Where a return is. (domain.returns.ReturnStatus is what the one-step return of 1.x records;
    a wired lifecycle maps RESOLVED onto it.)"""

    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    """Asked for by the customer (self-service) and waiting for support; skipped when support asks
    or the shop auto-approves. No RMA label is sent yet."""
    REQUESTED = "REQUESTED"
    """Approved, RMA issued: we wait for the parcel (and refund now if the channel refunds on request)."""
    RECEIVED = "RECEIVED"
    """The parcel is in at a location: quantities and condition per line confirmed."""
    DISPOSED = "DISPOSED"
    """Every unit received has a disposition (restock, refurbish, scrap, back to the supplier)."""
    RESOLVED = "RESOLVED"
    """Settled with the customer (refund, exchange or store credit): the return is over."""
    EXPIRED = "EXPIRED"
    """Never received within the expiry setting. A parcel that turns up later is still received:
    the goods are physically here, and refusing to book them in would lose stock."""
    REJECTED = "REJECTED"
    """Support refused the request before any goods came (outside policy, not our item)."""
    CANCELLED = "CANCELLED"
    """Withdrawn before the goods came (the customer kept them after all)."""


ALLOWED: Mapping[ReturnState, frozenset[ReturnState]] = {
    ReturnState.AWAITING_APPROVAL: frozenset({ReturnState.REQUESTED, ReturnState.REJECTED, ReturnState.CANCELLED}),
    ReturnState.REQUESTED: frozenset({ReturnState.RECEIVED, ReturnState.EXPIRED, ReturnState.CANCELLED}),
    ReturnState.RECEIVED: frozenset({ReturnState.DISPOSED}),
    ReturnState.DISPOSED: frozenset({ReturnState.RESOLVED}),
    ReturnState.EXPIRED: frozenset({ReturnState.RECEIVED}),
    ReturnState.RESOLVED: frozenset(),
    ReturnState.REJECTED: frozenset(),
    ReturnState.CANCELLED: frozenset(),
}
"""The moves a return may make. Nothing goes backwards: once goods are booked in, the ledger has
moved, so a receipt cannot be undone by cancelling; a correction is a stock adjustment."""

FINISHED = frozenset({ReturnState.RESOLVED, ReturnState.REJECTED, ReturnState.CANCELLED})
"""States nothing follows: a step asked of them is refused as FINISHED, not OUT_OF_ORDER."""


class ReturnStepRefusalKind(StrEnum):
    OUT_OF_ORDER = "out_of_order"
    """Not a step this return waits for now (received twice, disposed before received): HTTP 409."""
    FINISHED = "finished"
    """The return is resolved, rejected or cancelled: nothing left to do: HTTP 409."""
    UNANNOUNCED = "unannounced"
    """A SKU received that the request did not announce (book it as a new return): HTTP 422."""
    TOO_MANY = "too_many"
    """More units received than announced: HTTP 422."""
    DOES_NOT_ADD_UP = "does_not_add_up"
    """Dispositions that do not account for exactly the units received: HTTP 422."""
    INVALID = "invalid"
    """A quantity that is not a whole number ≥ 0, a repeated line, a scrap without a reason: HTTP 422."""


class ReturnStepRefused(ValueError):
    def __init__(self, kind: ReturnStepRefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def check_transition(current: ReturnState, target: ReturnState) -> ReturnState:
    """`target` when a return in `current` may move there, else ReturnStepRefused saying why."""
    if target in ALLOWED[current]:
        return target
    if current in FINISHED:
        raise ReturnStepRefused(ReturnStepRefusalKind.FINISHED, f"the return is {current.value}; nothing follows")
    waiting = ", ".join(sorted(state.value for state in ALLOWED[current]))
    raise ReturnStepRefused(
        ReturnStepRefusalKind.OUT_OF_ORDER,
        f"a return that is {current.value} cannot become {target.value} (it may become: {waiting})",
    )


# --- The RMA number ---------------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U, so what is read off a label is typed back right."""
_TYPED_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_RMA_BODY = 10
"""50 bits of the order id: distinct across orders with near certainty (one clash expected per
~30 million orders), and the sequence makes it unique on its order outright."""


def rma_number(order_id: str, sequence: int) -> str:
    """The RMA of the `sequence`-th return (1, 2, ...) on an order: "RMA-7K3QX-9PDM2-1".

    Derived, never drawn: a workflow replaying its history computes the same one. The order id is
    hashed (ids run to 140 characters and hold letters a person mistypes); the sequence is plain so
    a second return on the same order is visibly a second one. Store it with a unique index and
    look a scanned RMA up together with what the warehouse sees on the parcel."""
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
        raise ValueError(f"a return's sequence on its order starts at 1, got {sequence!r}")
    if not order_id:
        raise ValueError("an RMA needs the order id")
    value = int.from_bytes(hashlib.sha256(order_id.encode()).digest()[:8], "big") >> (64 - 5 * _RMA_BODY)
    body = "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(_RMA_BODY)))
    return f"RMA-{body[:5]}-{body[5:]}-{sequence}"


def normalise_rma(typed: str) -> str | None:
    """An RMA as a person typed or a scanner read it ("rma 7k3qx9pdm2 1", "7K3QX-9PDM2-1", with O
    for 0 or l for 1), in the form rma_number gives; None when it cannot be one."""
    text = typed.strip().upper()
    text = text.removeprefix("RMA")
    chars = "".join(c for c in text if c.isalnum() or c in "- ").replace("-", " ").split()
    if len(chars) >= 2 and chars[-1].isascii() and chars[-1].isdigit():
        body, sequence = "".join(chars[:-1]).translate(_TYPED_AS), chars[-1]
    else:
        return None
    if len(body) != _RMA_BODY or any(c not in _CROCKFORD for c in body) or int(sequence) < 1:
        return None
    return f"RMA-{body[:5]}-{body[5:]}-{int(sequence)}"


# --- Receipt -----------------------------------------------------------------------------------------


class Condition(StrEnum):
    """The state a unit comes back in, as the person at the returns desk judges it."""

    AS_NEW = "as_new"
    """Unopened or indistinguishable from new: fit to sell again."""
    OPENED = "opened"
    """Used or repackaged: sellable once someone has looked it over."""
    DAMAGED = "damaged"
    """Physically broken or soiled."""
    DEFECTIVE = "defective"
    """Does not work as it should: the supplier's warranty may take it back."""


@dataclass(frozen=True)
class ReceivedLine:
    sku: str
    quantity: int
    condition: Condition = Condition.AS_NEW


@dataclass(frozen=True)
class Receipt:
    """What came out of the parcel, per SKU and condition, and what did not."""

    by_condition: Mapping[str, Mapping[Condition, int]]
    """Units received per SKU and condition (no zero entries)."""
    short: Mapping[str, int]
    """Units announced but not in the parcel, per SKU (no zero entries)."""

    @property
    def received(self) -> dict[str, int]:
        """Units received per SKU, whatever their condition (SKUs with none left out)."""
        return {sku: sum(units.values()) for sku, units in self.by_condition.items()}


def _member(kind: type[_E], value: str, sku: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise ReturnStepRefused(ReturnStepRefusalKind.INVALID, f"{sku}: {value!r} is not one of {known}") from None


def _whole(quantity: object) -> bool:
    return isinstance(quantity, int) and not isinstance(quantity, bool) and quantity >= 0


def check_receipt(announced: Mapping[str, int], lines: Iterable[ReceivedLine]) -> Receipt:
    """The receipt of a return whose request announced `announced` units per SKU, or
    ReturnStepRefused. Fewer than announced is recorded as short (customers forget an item, send one
    back later, or keep it); more is refused, since those units were never agreed to come back (and
    were perhaps never ours); an unannounced SKU is refused for the same reason. One line per SKU
    and condition; a line of 0 says "looked for, not there"."""
    by_condition: dict[str, dict[Condition, int]] = {}
    for line in lines:
        if not _whole(line.quantity):
            raise ReturnStepRefused(
                ReturnStepRefusalKind.INVALID, f"{line.sku}: received quantity must be a whole number ≥ 0"
            )
        if line.sku not in announced:
            raise ReturnStepRefused(ReturnStepRefusalKind.UNANNOUNCED, f"{line.sku} was not announced on this return")
        condition = _member(Condition, line.condition, line.sku)
        per_sku = by_condition.setdefault(line.sku, {})
        if condition in per_sku:
            raise ReturnStepRefused(
                ReturnStepRefusalKind.INVALID, f"{line.sku} {condition.value} appears twice: one line per condition"
            )
        per_sku[condition] = line.quantity
    for sku, per_sku in by_condition.items():
        if sum(per_sku.values()) > announced[sku]:
            raise ReturnStepRefused(
                ReturnStepRefusalKind.TOO_MANY,
                f"{sum(per_sku.values())} of {sku} received, but only {announced[sku]} announced",
            )
    kept = {sku: {c: n for c, n in units.items() if n} for sku, units in by_condition.items()}
    kept = {sku: units for sku, units in kept.items() if units}
    short = {sku: want - sum(kept.get(sku, {}).values()) for sku, want in announced.items()}
    return Receipt(by_condition=kept, short={sku: n for sku, n in short.items() if n > 0})


# --- Disposition -------------------------------------------------------------------------------------


class Disposition(StrEnum):
    RESTOCK = "restock"
    """Back on the shelf, sellable: ledger `return`, available to promise goes out to the channels."""
    REFURBISH = "refurbish"
    """On hand but not sellable until a person releases it (cleaned, repackaged, repaired)."""
    SCRAP = "scrap"
    """Written off with a reason; counts as a defect of the SKU in the KPIs."""
    RETURN_TO_SUPPLIER = "return_to_supplier"
    """Sent back to the supplier (warranty, recall, consignment): leaves our stock, not written off."""


@dataclass(frozen=True)
class DispositionLine:
    sku: str
    quantity: int
    disposition: Disposition
    reason: str = ""
    """Why, for a scrap (the ledger's write-off reason); optional for the others."""


SUGGESTED: Mapping[Condition, Disposition] = {
    Condition.AS_NEW: Disposition.RESTOCK,
    Condition.OPENED: Disposition.REFURBISH,
    Condition.DAMAGED: Disposition.SCRAP,
    Condition.DEFECTIVE: Disposition.RETURN_TO_SUPPLIER,
}
"""What the returns desk is offered for each condition (and what a sandbox warehouse does on its
own); a person may choose otherwise."""


def suggested_dispositions(receipt: Receipt) -> tuple[DispositionLine, ...]:
    """One disposition line per SKU and condition received, as SUGGESTED says; a scrap's reason is
    the condition it came back in."""
    lines: list[DispositionLine] = []
    for sku in sorted(receipt.by_condition):
        for condition, units in sorted(receipt.by_condition[sku].items()):
            disposition = SUGGESTED[condition]
            reason = f"returned {condition.value}" if disposition is Disposition.SCRAP else ""
            lines.append(DispositionLine(sku, units, disposition, reason))
    return tuple(lines)


@dataclass(frozen=True)
class WriteOff:
    sku: str
    quantity: int
    reason: str


@dataclass(frozen=True)
class StockEffects:
    """What the dispositions do to stock at the receiving location, as plain data for the ledger.
    Every unit received is in exactly one of these."""

    sellable: Mapping[str, int] = field(default_factory=dict)
    """Units back to sellable stock (ledger `return`)."""
    held: Mapping[str, int] = field(default_factory=dict)
    """Units on hand in a non-sellable state until released (refurbish)."""
    written_off: tuple[WriteOff, ...] = ()
    """Units written off, per SKU and reason (scrap)."""
    to_supplier: Mapping[str, int] = field(default_factory=dict)
    """Units sent back to the supplier."""

    @property
    def defects(self) -> dict[str, int]:
        """Units scrapped per SKU: the KPI's defects."""
        out: dict[str, int] = {}
        for write_off in self.written_off:
            out[write_off.sku] = out.get(write_off.sku, 0) + write_off.quantity
        return out

    def units(self) -> dict[str, int]:
        """Units accounted for per SKU, whatever became of them (equal to what was received)."""
        out: dict[str, int] = {}
        for part in (self.sellable, self.held, self.defects, self.to_supplier):
            for sku, n in part.items():
                out[sku] = out.get(sku, 0) + n
        return out


def check_dispositions(receipt: Receipt, lines: Iterable[DispositionLine]) -> StockEffects:
    """The stock effects of disposing of what `receipt` took in, or ReturnStepRefused. Per SKU the
    dispositions add up to exactly the units received: none left in limbo, none invented. A scrap
    needs a reason (the write-off is audited)."""
    sellable: dict[str, int] = {}
    held: dict[str, int] = {}
    to_supplier: dict[str, int] = {}
    written: dict[tuple[str, str], int] = {}
    for line in lines:
        if not _whole(line.quantity) or line.quantity < 1:
            raise ReturnStepRefused(ReturnStepRefusalKind.INVALID, f"{line.sku}: quantity must be a whole number ≥ 1")
        disposition = _member(Disposition, line.disposition, line.sku)
        reason = line.reason.strip()
        if len(reason) > LEDGER_REASON:
            raise ReturnStepRefused(
                ReturnStepRefusalKind.INVALID, f"{line.sku}: reason longer than {LEDGER_REASON} characters"
            )
        if disposition is Disposition.SCRAP:
            if not reason:
                raise ReturnStepRefused(ReturnStepRefusalKind.INVALID, f"{line.sku}: a scrap needs a reason")
            written[(line.sku, reason)] = written.get((line.sku, reason), 0) + line.quantity
            continue
        part = {Disposition.RESTOCK: sellable, Disposition.REFURBISH: held}.get(disposition, to_supplier)
        part[line.sku] = part.get(line.sku, 0) + line.quantity
    effects = StockEffects(
        sellable=sellable,
        held=held,
        written_off=tuple(WriteOff(sku, n, reason) for (sku, reason), n in sorted(written.items())),
        to_supplier=to_supplier,
    )
    accounted, received = effects.units(), receipt.received
    for sku in sorted({*accounted, *received}):
        if accounted.get(sku, 0) != received.get(sku, 0):
            raise ReturnStepRefused(
                ReturnStepRefusalKind.DOES_NOT_ADD_UP,
                f"{sku}: {received.get(sku, 0)} received, but dispositions for {accounted.get(sku, 0)}",
            )
    return effects


# --- Resolution --------------------------------------------------------------------------------------


class Resolution(StrEnum):
    """How a return is settled with the customer once its goods are disposed of."""

    REFUND = "refund"
    """Money back for what came (or, refunded on request, for what was announced)."""
    EXCHANGE = "exchange"
    """Another item sent instead (domain.exchanges)."""
    STORE_CREDIT = "store_credit"
    """Credit to spend in the shop (domain.store_credit)."""


MARKETPLACES = frozenset({"bol", "amazon"})
"""Channels that take the customer's money themselves and pay it back themselves: their returns are
refunded by the channel, so we cannot give their value as our credit instead."""


def check_resolution(resolution: str, *, channel: str, on_channel: bool) -> Resolution:
    """The resolution a return may be settled by, or ReturnStepRefused (INVALID) saying why not.

    Store credit is our money given instead of a refund: refused when the channel holds the money
    (a marketplace order, or a return the channel sent us), since the channel refunds it anyway.
    An exchange ships a replacement from our stock: refused for a return the channel sent us (the
    channel settles its own returns); its rules are domain.exchanges."""
    try:
        chosen = Resolution(resolution)
    except ValueError:
        known = ", ".join(member.value for member in Resolution)
        raise ReturnStepRefused(
            ReturnStepRefusalKind.INVALID, f"{resolution!r} is not a resolution (one of {known})"
        ) from None
    if chosen is Resolution.STORE_CREDIT and (on_channel or channel in MARKETPLACES):
        raise ReturnStepRefused(
            ReturnStepRefusalKind.INVALID,
            f"{channel} took the customer's money and refunds it: "
            "a return of its order cannot be settled as store credit",
        )
    if chosen is Resolution.EXCHANGE and on_channel:
        raise ReturnStepRefused(
            ReturnStepRefusalKind.INVALID, f"{channel} settles the returns it sends: refund them, not exchange"
        )
    return chosen


# --- Money -------------------------------------------------------------------------------------------


class RefundTiming(StrEnum):
    """When a return's money goes back, per channel."""

    AT_RECEIPT = "at_receipt"
    """The default: refunded for what the warehouse found in the parcel."""
    ON_REQUEST = "on_request"
    """For trusted customers: refunded for what was announced as soon as the RMA is issued; a
    shortfall at receipt is over-refunded money to recover."""


@dataclass(frozen=True)
class RefundStep:
    """What goes back now, and the units the order's refunds have paid for afterwards.

    `refunded_units` is the refund basis: the order's goods refunds so far are always exactly
    domain.allocation.paid_for(order, refunded_units). Each refund is the difference of paid_for
    over it, so refunds add up to the cent and never exceed what the goods cost, however returns
    interleave. Keep it per order (next to the units returned) and pass it to the next step."""

    refund: Money
    refunded_units: Mapping[str, int]
    over_refunded: Money
    """Refunded on request for units that did not come (zero otherwise): owed by the customer."""


def _plus(a: Mapping[str, int], b: Mapping[str, int], sign: int = 1) -> dict[str, int]:
    out = {sku: a.get(sku, 0) + sign * b.get(sku, 0) for sku in {*a, *b}}
    return {sku: n for sku, n in out.items() if n}


def refund_on_request(
    order: Order, timing: RefundTiming, refunded_units: Mapping[str, int], announced: Mapping[str, int]
) -> RefundStep:
    """The refund when the RMA is issued: for the announced units on a channel that refunds on
    request, nothing otherwise."""
    zero = Money.zero(order.currency)
    if timing is not RefundTiming.ON_REQUEST:
        return RefundStep(zero, dict(refunded_units), zero)
    refund = refund_for_units(order, refunded_units, announced)
    return RefundStep(refund, _plus(refunded_units, announced), zero)


def refund_on_receipt(
    order: Order, timing: RefundTiming, refunded_units: Mapping[str, int], receipt: Receipt
) -> RefundStep:
    """The refund when the parcel is received: for the units RECEIVED (not announced).

    Refunded on request already: nothing more goes back, and the units announced but not received
    were refunded without coming: `over_refunded`, what those units are worth at the margin of the
    basis (paid_for(basis) - paid_for(basis - short)). Our choice: it is owed by the customer and
    recovered (charged, or netted off the next refund or credit); the short units stay in the basis
    until it is (`after_recovery`), so they can never be refunded twice, and a person may write it
    off instead, which leaves the basis as it is. Either way the order's refunds stay within what
    its goods cost."""
    if timing is RefundTiming.ON_REQUEST:
        value = paid_for(order, refunded_units) - paid_for(order, _plus(refunded_units, receipt.short, -1))
        return RefundStep(Money.zero(order.currency), dict(refunded_units), value)
    received = receipt.received
    refund = refund_for_units(order, refunded_units, received)
    return RefundStep(refund, _plus(refunded_units, received), Money.zero(order.currency))


def after_recovery(refunded_units: Mapping[str, int], short: Mapping[str, int]) -> dict[str, int]:
    """The refund basis once an over-refund for `short` units was recovered: they no longer count as
    refunded (a later return of them is refunded again, for exactly the amount recovered)."""
    out = _plus(refunded_units, short, -1)
    if any(n < 0 for n in out.values()):
        raise ValueError("cannot recover more units than were refunded")
    return out


def refundable_goods(order: Order, refunded_units: Mapping[str, int]) -> Money:
    """What is left to refund for the goods: what they cost less what their refunds paid out."""
    return Money(goods_total(order), order.currency) - paid_for(order, refunded_units)


# --- Expiry ------------------------------------------------------------------------------------------

DEFAULT_EXPIRY = timedelta(days=30)
"""How long an RMA waits for its parcel by default (a setting): long enough for a customer to find
a post office, short enough that stale requests do not block the order's completion."""


def expires_at(requested_at: datetime, after: timedelta = DEFAULT_EXPIRY) -> datetime:
    """When a request never received expires: `after` from the time it was requested."""
    if requested_at.tzinfo is None:
        raise ValueError("requested_at must carry a timezone")
    if after <= timedelta(0):
        raise ValueError("the expiry setting must be a positive duration")
    return requested_at + after


def has_expired(state: ReturnState, requested_at: datetime, now: datetime, after: timedelta = DEFAULT_EXPIRY) -> bool:
    """Whether a return has run out of time at `now`: only a REQUESTED one (waiting for its parcel)
    does; one awaiting approval waits for support, not for the customer."""
    if now.tzinfo is None:
        raise ValueError("now must carry a timezone")
    return state is ReturnState.REQUESTED and now >= expires_at(requested_at, after)
