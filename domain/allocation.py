"""What units of an order are worth, so that the parts of an order always add up to its total.

Parcels leave one at a time, and which units leave together is known only as each one goes (a
split, a short pick sourced again, a backorder that ships weeks later). So no part is rounded on its
own: every part is the difference of one function of the units gone so far,

    part = charged_for(before + parcel) - charged_for(before)

and the parts telescope to charged_for(everything), which is the channel's total exactly, however
the units were split and in whatever order they left. Each part is never negative, because
charged_for only grows as units are added.

`paid_for(units)` is what the customer paid for the goods themselves: the channel's total less
shipping and other charges (so order discounts are already off), spread over the lines in
proportion to their totals, each line's total spread over its units (the first n of q units are
worth total*n//q). Lines of one SKU are filled in order. `charged_for` adds shipping and other
charges with the first units that leave: that is when the customer is charged for delivery.

A refund of returned units uses the same paid_for, so what comes back for units is what was taken
for them.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.money import Money
from domain.order import Order


def units_per_line(order: Order, units: Mapping[str, int]) -> list[int]:
    """How many of each line's units `units` covers: lines of one SKU fill up in order; units beyond
    what was ordered count for nothing."""
    left = {sku: max(0, quantity) for sku, quantity in units.items()}
    covered: list[int] = []
    for line in order.lines:
        take = min(left.get(line.sku, 0), line.quantity)
        covered.append(take)
        if take:
            left[line.sku] -= take
    return covered


def extras(order: Order) -> int:
    """Shipping and other charges (tips, duties): charged with the first units that leave. Never
    more than the channel's total."""
    charges = max(0, order.shipping.amount_minor) + max(0, order.other_charges.amount_minor)
    return min(charges, max(0, order.total.amount_minor))


def goods_total(order: Order) -> int:
    """What the customer paid for the goods: the channel's total less shipping and charges. Equal to
    the lines less order discounts when they reconcile; the channel's figure when a person accepted
    a total that does not."""
    return max(0, order.total.amount_minor) - extras(order)


def paid_for(order: Order, units: Mapping[str, int]) -> Money:
    """What the customer paid for these units of goods (no shipping); exact: all units → goods_total."""
    return _paid_for_lines(order, units_per_line(order, units))


def _paid_for_lines(order: Order, covered: list[int]) -> Money:
    goods = goods_total(order)
    lines_total = sum(line.total.amount_minor for line in order.lines)
    if lines_total > 0:
        value = sum(line.total.amount_minor * n // line.quantity for line, n in zip(order.lines, covered, strict=True))
        return Money(goods * value // lines_total, order.currency)
    # Every line free (a giveaway with paid shipping, say): the goods' share by units.
    ordered = sum(line.quantity for line in order.lines)
    return Money(goods * sum(covered) // ordered, order.currency)


def charged_for(order: Order, units: Mapping[str, int]) -> Money:
    """What the customer is charged once these units have left: their goods, plus shipping and
    charges as soon as anything left. All units → the channel's total, to the cent."""
    covered = units_per_line(order, units)
    value = _paid_for_lines(order, covered).amount_minor
    if any(covered):
        value += extras(order)
    return Money(value, order.currency)


def charge_for_parcel(order: Order, before: Mapping[str, int], parcel: Mapping[str, int]) -> Money:
    """The part of the total a parcel carries, given the units that left before it."""
    after = {sku: before.get(sku, 0) + parcel.get(sku, 0) for sku in {*before, *parcel}}
    return charged_for(order, after) - charged_for(order, before)


def refund_for_units(order: Order, returned_before: Mapping[str, int], returning: Mapping[str, int]) -> Money:
    """What goes back for `returning` units, given `returned_before` were refunded already:
    paid_for(before + now) - paid_for(before). Returning every unit, in one go or in parts, refunds
    exactly what the goods cost; shipping and charges are not refunded here."""
    after = {sku: returned_before.get(sku, 0) + returning.get(sku, 0) for sku in {*returned_before, *returning}}
    return paid_for(order, after) - paid_for(order, returned_before)
