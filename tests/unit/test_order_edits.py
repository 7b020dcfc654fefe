"""Order edits: what may change before shipping, and a changed order that still adds up to the cent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.allocation import charged_for
from domain.fulfilment import ShipmentKind, ShipmentStatus
from domain.money import Money
from domain.order import Address, Order, OrderLine
from domain.order_edits import (
    AddLine,
    CancelLines,
    ChangeAddress,
    EditRefusalKind,
    EditRefused,
    EditRequest,
    LineQuantity,
    PaymentPosition,
    ReduceLine,
    RemoveLine,
    ShipmentState,
    apply_edit,
    capture_due,
    credit_kept,
    first_version,
    handed_over,
    line_index_for,
    next_version,
    payment_change,
)

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
NEW_ADDRESS = Address(name="A. Customer", line1="Kerkstraat 2", postcode="1017 GL", city="Amsterdam", country="NL")


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def order(discount: int = 0, **changes: object) -> Order:
    lines = (
        OrderLine("TEE", 3, eur(1000), eur(2999), external_line_id="b-1"),  # 29.99 for three
        OrderLine("MUG", 1, eur(1250), eur(1250), external_line_id="b-2"),
        OrderLine("TEE", 1, eur(1000), eur(1000), external_line_id="b-3"),
    )
    placed = Order(
        channel="webshop",
        external_id="E-1",
        currency="EUR",
        lines=lines,
        placed_at=NOW,
        total=eur(2999 + 1250 + 1000 + 495 - discount),
        shipping=eur(495),
        discount=eur(discount) if discount else None,
    )
    return replace(placed, **changes)  # type: ignore[arg-type]


def shipment(
    sid: str, status: ShipmentStatus, kind: ShipmentKind = ShipmentKind.DELIVERY, **units: int
) -> ShipmentState:
    return ShipmentState(sid, sid.upper(), kind, status, units)


def edit(*changes: object, by: str = "anna@shop.example") -> EditRequest:
    return EditRequest(tuple(changes), by, "customer called")  # type: ignore[arg-type]


RESERVED_ALL = (shipment("ams", ShipmentStatus.RESERVED, TEE=4, MUG=1),)


def test_handed_over_follows_the_handover_step_of_each_kind() -> None:
    assert handed_over(ShipmentKind.DELIVERY, ShipmentStatus.SHIPPED)
    assert handed_over(ShipmentKind.DELIVERY, ShipmentStatus.DELIVERED)
    assert not handed_over(ShipmentKind.DELIVERY, ShipmentStatus.PACKED)
    assert not handed_over(ShipmentKind.COLLECT, ShipmentStatus.READY_FOR_PICKUP)
    assert handed_over(ShipmentKind.COLLECT, ShipmentStatus.COLLECTED)
    # Sent to the pickup store: it left the warehouse with a carrier.
    assert handed_over(ShipmentKind.TRANSFER_COLLECT, ShipmentStatus.READY_FOR_PICKUP)
    assert not handed_over(ShipmentKind.DELIVERY, ShipmentStatus.WITHDRAWN)


def test_reducing_a_line_shares_the_discount_and_releases_its_stock() -> None:
    result = apply_edit(order(discount=500), edit(ReduceLine(0, 2)), RESERVED_ALL)
    tee = result.order.lines[0]
    assert (tee.quantity, tee.total) == (1, eur(999))  # the first of three of 29.99 is worth 9.99
    # The discount's share of the kept lines: 3249 - (5249-500)*3249//5249 = 310 (allocation.paid_for floors).
    assert result.order.order_discount == eur(3249 - 4749 * 3249 // 5249)
    assert result.order.total == result.order.expected_total()
    assert result.difference == result.new_total - order(discount=500).total
    assert [(r.location_id, r.sku, r.quantity) for r in result.releases] == [("AMS", "TEE", 2)]
    assert result.withdraw == () and result.repick == ()


def test_removing_and_adding_lines_asks_for_the_extra() -> None:
    result = apply_edit(order(), edit(RemoveLine(1), AddLine("CAP", 2, eur(1500), "cap")), RESERVED_ALL)
    assert [line.sku for line in result.order.lines] == ["TEE", "TEE", "CAP"]
    assert result.order.lines[-1].total == eur(3000)
    assert result.difference == eur(3000 - 1250)
    assert result.to_source == {"CAP": 2}
    change = payment_change(result.difference, PaymentPosition(eur(5744), eur(0)))
    assert (change.authorize, change.void, change.refund) == (eur(1750), eur(0), eur(0))


def test_a_decrease_is_voided_from_what_is_held_and_the_rest_refunded() -> None:
    change = payment_change(eur(-1500), PaymentPosition(authorized=eur(5744), captured=eur(5000)))
    assert (change.void, change.refund, change.authorize) == (eur(744), eur(756), eur(0))
    assert change.net == eur(-1500)
    prepaid = payment_change(
        eur(-1500), PaymentPosition(authorized=eur(0), captured=eur(5744), collected_by_channel=True)
    )
    assert prepaid.refund == eur(1500) and prepaid.on_channel


def test_units_handed_over_cannot_be_changed_but_the_rest_can() -> None:
    shipments = (
        shipment("ams", ShipmentStatus.SHIPPED, TEE=3),
        shipment("rtm", ShipmentStatus.PICKED, TEE=1, MUG=1),
    )
    with pytest.raises(EditRefused) as refused:
        apply_edit(order(), edit(RemoveLine(0)), shipments)
    assert refused.value.kind is EditRefusalKind.HANDED_OVER
    # The second TEE line and the mug were not handed over: they go, from the picked parcel at RTM.
    result = apply_edit(order(), edit(RemoveLine(2), RemoveLine(1)), shipments)
    assert sorted((r.location_id, r.sku, r.quantity) for r in result.releases) == [("RTM", "MUG", 1), ("RTM", "TEE", 1)]
    assert result.withdraw == ("rtm",) and result.repick == ()  # nothing left in it: withdrawn
    mug_only = apply_edit(order(), edit(RemoveLine(1)), shipments)
    assert mug_only.withdraw == () and mug_only.repick == ("rtm",)  # picked already: pick it again


def test_units_no_location_holds_are_dropped_first() -> None:
    shipments = (shipment("ams", ShipmentStatus.RESERVED, TEE=2, MUG=1),)  # two TEE backordered
    result = apply_edit(order(), edit(ReduceLine(0, 3)), shipments)
    assert result.unsourced_dropped == {"TEE": 2}
    assert [(r.sku, r.quantity) for r in result.releases] == [("TEE", 1)]


def test_a_channel_cancellation_names_lines_by_its_own_ids() -> None:
    placed = order(channel="bol")
    line = line_index_for(placed, "b-2")
    assert line == 1 and line_index_for(placed, "nope") is None
    request = edit(CancelLines((LineQuantity(line, 1),)), by="bol")
    assert request.by_channel
    result = apply_edit(placed, request, RESERVED_ALL)
    assert [line.sku for line in result.order.lines] == ["TEE", "TEE"]


def test_changing_the_address_readdresses_open_deliveries() -> None:
    shipments = (shipment("ams", ShipmentStatus.SHIPPED, TEE=3), shipment("rtm", ShipmentStatus.PACKED, TEE=1, MUG=1))
    result = apply_edit(order(), edit(ChangeAddress(NEW_ADDRESS)), shipments)
    assert result.order.shipping_address == NEW_ADDRESS
    assert result.readdress == ("rtm",) and result.difference == eur(0)
    everything_gone = (shipment("ams", ShipmentStatus.DELIVERED, TEE=4, MUG=1),)
    with pytest.raises(EditRefused) as refused:
        apply_edit(order(), edit(ChangeAddress(NEW_ADDRESS)), everything_gone)
    assert refused.value.kind is EditRefusalKind.HANDED_OVER


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ((RemoveLine(7),), EditRefusalKind.INVALID),
        ((ReduceLine(0, 4),), EditRefusalKind.INVALID),
        ((ReduceLine(0, 0),), EditRefusalKind.INVALID),
        ((ReduceLine(0, 1), RemoveLine(0)), EditRefusalKind.INVALID),
        ((AddLine("CAP", 1, Money(100, "USD")),), EditRefusalKind.INVALID),
        ((AddLine("CAP", 0, eur(100)),), EditRefusalKind.INVALID),
        ((RemoveLine(0), RemoveLine(1), RemoveLine(2)), EditRefusalKind.INVALID),
        ((ChangeAddress(Address(city="Utrecht")),), EditRefusalKind.INVALID),
    ],
)
def test_impossible_edits_are_refused_as_unprocessable(changes: tuple[object, ...], kind: EditRefusalKind) -> None:
    with pytest.raises(EditRefused) as refused:
        apply_edit(order(), edit(*changes), RESERVED_ALL)
    assert refused.value.kind is kind


def test_orders_not_ours_or_not_reconciling_are_not_editable() -> None:
    for placed in (order(fulfilled_by="channel"), order(total=eur(100))):
        with pytest.raises(EditRefused) as refused:
            apply_edit(placed, edit(ReduceLine(0, 1)), RESERVED_ALL)
        assert refused.value.kind is EditRefusalKind.NOT_EDITABLE


def test_versions_record_what_changed_who_and_when() -> None:
    placed = order(discount=500)
    v1 = first_version(placed)
    request = edit(ReduceLine(0, 2), AddLine("CAP", 1, eur(1500)), ChangeAddress(NEW_ADDRESS))
    result = apply_edit(placed, request, RESERVED_ALL)
    v2 = next_version(v1, request, result, NOW + timedelta(hours=1))
    assert (v2.number, v2.changed_by, v2.reason, v2.total) == (
        2,
        "anna@shop.example",
        "customer called",
        result.new_total,
    )
    assert v2.changes[0] == "TEE: 3 → 1 (29.99 EUR → 9.99 EUR)"
    assert v2.changes[1] == "added 1 x CAP (0.00 EUR → 15.00 EUR)"
    assert v2.changes[2] == "shipping address → Kerkstraat 2, 1017 GL Amsterdam, NL"
    assert v2.changes[3].startswith("total: 52.44 EUR → ")
    with pytest.raises(ValueError):
        next_version(v2, request, result, NOW)


# Properties ------------------------------------------------------------------------------------------

STATUSES = [
    ShipmentStatus.RESERVED,
    ShipmentStatus.PICKED,
    ShipmentStatus.PACKED,
    ShipmentStatus.SHIPPED,
    ShipmentStatus.DELIVERED,
]


@st.composite
def situations(draw: st.DrawFn) -> tuple[Order, tuple[ShipmentState, ...], EditRequest]:
    skus = ["A", "B", "C"]
    lines = tuple(
        OrderLine(sku, q, eur(t // q), eur(t))
        for sku, q, t in draw(
            st.lists(st.tuples(st.sampled_from(skus), st.integers(1, 5), st.integers(0, 20000)), min_size=1, max_size=4)
        )
    )
    lines_total = sum(line.total.amount_minor for line in lines)
    shipping = draw(st.integers(0, 1000))
    discount = draw(st.integers(0, lines_total))
    placed = Order(
        channel="webshop",
        external_id="P-1",
        currency="EUR",
        lines=lines,
        placed_at=NOW,
        total=eur(lines_total + shipping - discount),
        shipping=eur(shipping),
        discount=eur(discount) if discount else None,
    )
    # Each SKU's units spread over two shipments (some maybe backordered), each somewhere along.
    shipments: list[ShipmentState] = []
    for index, status in enumerate(draw(st.lists(st.sampled_from(STATUSES), min_size=2, max_size=2))):
        units = {}
        for sku, wanted in placed.demand().items():
            taken = sum(s.units.get(sku, 0) for s in shipments)
            units[sku] = draw(st.integers(0, wanted - taken))
        shipments.append(ShipmentState(f"s{index}", f"L{index}", ShipmentKind.DELIVERY, status, units))
    changes: list[object] = []
    for index, line in enumerate(lines):
        choice = draw(st.integers(0, 3))
        if choice == 1:
            changes.append(RemoveLine(index))
        elif choice == 2:
            changes.append(ReduceLine(index, draw(st.integers(1, line.quantity))))
    for _ in range(draw(st.integers(0, 2))):
        changes.append(AddLine(draw(st.sampled_from(skus)), draw(st.integers(1, 3)), eur(draw(st.integers(0, 5000)))))
    return placed, tuple(shipments), edit(*changes)


@given(situations())
def test_an_accepted_edit_adds_up_and_never_touches_handed_over_units(
    situation: tuple[Order, tuple[ShipmentState, ...], EditRequest],
) -> None:
    placed, shipments, request = situation
    try:
        result = apply_edit(placed, request, shipments)
    except EditRefused as refused:
        assert refused.kind in (EditRefusalKind.HANDED_OVER, EditRefusalKind.INVALID)
        return
    new = result.order
    assert new.total == new.expected_total()  # lines + shipping + charges - discount
    assert 0 <= new.order_discount.amount_minor <= placed.order_discount.amount_minor
    assert result.difference == new.total - placed.total
    change = payment_change(result.difference, PaymentPosition(placed.total, eur(0)))
    assert change.net == result.difference
    gone: dict[str, int] = {}
    for s in shipments:
        if handed_over(s.kind, s.status):
            for sku, n in s.units.items():
                gone[sku] = gone.get(sku, 0) + n
    released = {r.shipment_id for r in result.releases}
    assert not released & {s.shipment_id for s in shipments if handed_over(s.kind, s.status)}
    for sku, n in gone.items():
        assert new.demand().get(sku, 0) >= n  # what left is still on the order
    for release in result.releases:
        carried = next(s for s in shipments if s.shipment_id == release.shipment_id).units[release.sku]
        assert 0 < release.quantity <= carried
    removed = {
        sku: placed.demand()[sku] + result.to_source.get(sku, 0) - new.demand().get(sku, 0) for sku in placed.demand()
    }
    for sku, n in removed.items():
        let_go = sum(r.quantity for r in result.releases if r.sku == sku) + result.unsourced_dropped.get(sku, 0)
        assert let_go == n


@given(situations())
def test_an_empty_edit_changes_nothing(situation: tuple[Order, tuple[ShipmentState, ...], EditRequest]) -> None:
    placed, shipments, _ = situation
    result = apply_edit(placed, edit(), shipments)
    assert result.order == placed
    assert result.difference == eur(0) and not result.changed
    assert (result.releases, result.to_source, result.withdraw, result.readdress) == ((), {}, (), ())


@given(st.integers(-100000, 100000), st.integers(0, 100000), st.integers(0, 100000))
def test_the_payment_change_is_the_difference_to_the_cent(difference: int, authorized: int, captured: int) -> None:
    change = payment_change(eur(difference), PaymentPosition(eur(authorized), eur(captured)))
    assert change.net == eur(difference)
    assert min(change.void.amount_minor, change.refund.amount_minor, change.authorize.amount_minor) >= 0
    assert change.void.amount_minor <= max(0, authorized - captured)


@given(situations(), st.integers(0, 100))
def test_captures_after_an_edit_come_to_the_new_total_within_what_is_held(
    situation: tuple[Order, tuple[ShipmentState, ...], EditRequest], split: int
) -> None:
    placed, shipments, request = situation
    gone: dict[str, int] = {}
    for s in shipments:
        if handed_over(s.kind, s.status):
            for sku, n in s.units.items():
                gone[sku] = gone.get(sku, 0) + n
    captured = charged_for(placed, gone)  # what the handovers before the edit took
    try:
        result = apply_edit(placed, request, shipments)
    except EditRefused:
        return
    change = payment_change(result.difference, PaymentPosition(placed.total, captured))
    held = placed.total - captured - change.void + change.authorize
    net = captured - change.refund
    # The rest leaves in two parcels, after the edit.
    rest = {sku: n - gone.get(sku, 0) for sku, n in result.order.demand().items()}
    first = {sku: n * split // 100 for sku, n in rest.items()}
    shipped = dict(gone)
    taken_after = eur(0)
    for parcel in (first, {sku: n - first[sku] for sku, n in rest.items()}):
        shipped = {sku: shipped.get(sku, 0) + parcel.get(sku, 0) for sku in {*shipped, *parcel}}
        due = capture_due(result.order, net, shipped)
        net, taken_after = net + due, taken_after + due
    assert net == result.new_total
    assert taken_after == held


# Store credit: the card's part shrinks first, credit goes back last -----------------------------------


def test_an_edit_below_the_credit_spent_gives_the_credit_back_beyond_the_new_total() -> None:
    # 57.44 in all, 50.00 paid with credit, 7.44 by card; the three TEEs (29.99) and the MUG (12.50) go.
    placed = order(store_credit=eur(5000))
    result = apply_edit(placed, edit(RemoveLine(0), RemoveLine(1)), ())
    assert result.new_total == eur(1495)
    assert result.order.store_credit == eur(1495)  # the whole new total is credit
    assert result.order.gateway_total() == eur(0)  # the card's 7.44 is released first
    assert result.credit_back == eur(5000 - 1495)
    assert result.gateway_difference == eur(-744)
    assert result.gateway_difference - result.credit_back == result.difference


def test_an_edit_the_card_part_covers_leaves_the_credit_spent() -> None:
    placed = order(store_credit=eur(3000))
    result = apply_edit(placed, edit(RemoveLine(1)), ())
    assert (result.order.store_credit, result.credit_back) == (eur(3000), eur(0))
    assert result.gateway_difference == result.difference == eur(-1250)
    more = apply_edit(placed, edit(AddLine("CAP", 1, eur(900))), ())
    assert (more.order.store_credit, more.credit_back, more.gateway_difference) == (eur(3000), eur(0), eur(900))


def test_credit_kept_never_exceeds_the_total_and_none_stays_none() -> None:
    assert credit_kept(None, eur(100)) is None
    assert credit_kept(eur(500), eur(0)) is None
    assert credit_kept(eur(500), eur(499)) == eur(499)
    assert credit_kept(eur(500), eur(800)) == eur(500)


@given(situations(), st.integers(1, 100))
def test_credit_and_card_parts_add_up_to_the_new_total_and_credit_goes_back_last(
    situation: tuple[Order, tuple[ShipmentState, ...], EditRequest], share: int
) -> None:
    placed, shipments, request = situation
    if placed.total.amount_minor == 0:
        return
    credit = eur(max(1, placed.total.amount_minor * share // 100))
    placed = replace(placed, store_credit=credit)
    try:
        result = apply_edit(placed, request, shipments)
    except EditRefused:
        return
    new = result.order
    kept = new.store_credit.amount_minor if new.store_credit is not None else 0
    assert kept + new.gateway_total().amount_minor == new.total.amount_minor
    assert 0 <= result.credit_back.amount_minor <= credit.amount_minor
    assert placed.gateway_total() + result.gateway_difference == new.gateway_total()
    if result.credit_back.amount_minor > 0:  # only once the card's part is all gone
        assert new.gateway_total() == eur(0)
    change = payment_change(result.gateway_difference, PaymentPosition(placed.gateway_total(), eur(0)))
    assert change.net - result.credit_back == result.difference  # card and credit together, to the cent
