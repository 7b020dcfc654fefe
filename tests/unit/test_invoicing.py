"""Invoice and credit note amounts (domain.invoicing): per rate VAT rounded once, lines and shipping
adding up to what was paid to the cent, credit notes mirroring invoices, reverse charge at 0 %."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.allocation import charge_for_parcel, refund_for_units
from domain.invoicing import (
    REVERSE_CHARGE,
    SHIPPING,
    DocumentKind,
    Item,
    VatDocument,
    amount_credit_note,
    credit_note,
    invoice,
    returned_items,
    shipment_items,
)
from domain.money import Money
from domain.order import Order, OrderLine
from domain.vat import DUTCH_RATES, RATE_SCALE, REVERSE_CHARGE_NOTE, REVERSE_CHARGE_NOTE_NL, VatError, vat_on_net


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def holds(document: VatDocument, gross: int) -> None:
    """The document's parts add up: lines, rates and the total, none negative, VAT per rate rounded once."""
    assert document.gross == eur(gross)
    assert sum(line.net.amount_minor + line.vat.amount_minor for line in document.lines) == gross
    assert sum(total.net.amount_minor + total.vat.amount_minor for total in document.rate_totals) == gross
    for line in document.lines:
        assert line.net.amount_minor >= 0 and line.vat.amount_minor >= 0
    for total in document.rate_totals:
        assert total.net.amount_minor >= 0 and total.vat.amount_minor >= 0
        assert abs(total.vat.amount_minor * RATE_SCALE - total.rate * total.net.amount_minor) < RATE_SCALE
        assert abs(vat_on_net(total.net.amount_minor, total.rate) - total.vat.amount_minor) <= 1
        of_rate = [line for line in document.lines if line.category == total.category]
        assert sum(line.vat.amount_minor for line in of_rate) == total.vat.amount_minor
        assert sum(line.net.amount_minor for line in of_rate) == total.net.amount_minor


def test_an_invoice_shows_net_and_vat_per_rate_with_shipping_split_over_the_rates_pro_rata():
    document = invoice(
        [Item("Kettle", "standard", eur(6050)), Item("Cookbook", "reduced", eur(2180), quantity=2)],
        eur(495),
        DUTCH_RATES,
    )
    holds(document, 6050 + 2180 + 495)
    standard, reduced = document.rate_totals
    # shipping 4.95 split 6050 : 2180 -> 363 at 21 %, 132 at 9 %
    assert (standard.category, standard.rate, standard.gross) == ("standard", 2100, eur(6050 + 363))
    assert (reduced.category, reduced.rate, reduced.gross) == ("reduced", 900, eur(2180 + 132))
    assert standard.vat == eur(1113) and standard.net == eur(5300)  # 6413 / 1.21 = 5300.0
    assert reduced.vat == eur(191)  # 2312 x 9/109 = 190.9
    shipping = [line for line in document.lines if line.description == SHIPPING]
    assert [line.gross for line in shipping] == [eur(363), eur(132)]
    assert document.kind is DocumentKind.INVOICE and document.notes == ()
    assert document.signed(document.gross) == eur(8725)


def test_vat_is_rounded_once_per_rate_not_per_line():
    # Three lines of 0.10 at 21 %: per line 0.02 each (0.06); on the rate's 0.30 it is 0.05.
    document = invoice([Item(f"Sticker {n}", "standard", eur(10)) for n in range(3)], eur(0), DUTCH_RATES)
    holds(document, 30)
    assert document.vat == eur(5)
    assert [line.vat.amount_minor for line in document.lines] == [1, 2, 2]


def test_a_zero_rated_line_carries_no_vat_and_shipping_with_free_goods_takes_the_highest_rate():
    document = invoice([Item("Gift card", "zero", eur(2500))], eur(0), DUTCH_RATES)
    holds(document, 2500)
    assert document.vat == eur(0)
    free = invoice([Item("Sample", "reduced", eur(0)), Item("Poster", "standard", eur(0))], eur(605), DUTCH_RATES)
    holds(free, 605)
    assert [(total.category, total.vat) for total in free.rate_totals if total.gross.amount_minor] == [
        ("standard", eur(105))
    ]


def test_shipping_alone_needs_its_rate_and_unknown_categories_are_refused():
    with pytest.raises(VatError):
        credit_note([], eur(495), DUTCH_RATES)
    refund = credit_note([], eur(495), DUTCH_RATES, shipping_category="standard")
    holds(refund, 495)
    assert refund.kind is DocumentKind.CREDIT_NOTE and refund.signed(refund.gross) == eur(-495)
    with pytest.raises(VatError):
        invoice([Item("Wine", "alcohol", eur(900))], eur(0), DUTCH_RATES)
    with pytest.raises(VatError):
        Item("Broken", "standard", eur(-1))


def test_reverse_charge_invoices_what_the_business_was_charged_at_zero_percent_with_the_legal_note():
    items = [Item("Kettle", "standard", eur(5000)), Item("Cookbook", "reduced", eur(2000))]
    consumer = invoice(items, eur(495), DUTCH_RATES)
    business = invoice(items, eur(495), DUTCH_RATES, reverse_charge=True)
    assert business.vat == eur(0)
    assert business.gross == business.net == consumer.gross == eur(7495)  # what was captured, to the cent
    assert [(total.category, total.rate) for total in business.rate_totals] == [(REVERSE_CHARGE, 0)]
    assert {line.category for line in business.lines} == {REVERSE_CHARGE}
    assert [line.net for line in business.lines] == [line.gross for line in consumer.lines]
    assert business.notes == (REVERSE_CHARGE_NOTE, REVERSE_CHARGE_NOTE_NL) == ("VAT reverse charged", "Btw verlegd")


def test_goodwill_without_lines_is_credited_at_the_invoices_rates_pro_rata():
    sold = invoice(
        [Item("Kettle", "standard", eur(6050)), Item("Cookbook", "reduced", eur(2180))], eur(495), DUTCH_RATES
    )
    goodwill = amount_credit_note(eur(1000), sold, "Goodwill: parcel late")
    holds(goodwill, 1000)
    assert [(line.category, line.gross) for line in goodwill.lines] == [
        ("standard", eur(735)),  # 1000 x 6413 / 8725
        ("reduced", eur(265)),
    ]
    business = amount_credit_note(
        eur(1000),
        invoice([Item("Kettle", "standard", eur(6050))], eur(0), DUTCH_RATES, reverse_charge=True),
        "Goodwill",
    )
    assert business.gross == eur(1000) and business.vat == eur(0) and business.reverse_charge


def order_with(lines: list[tuple[str, int, int]], shipping: int, discount: int) -> Order:
    order_lines = tuple(
        OrderLine(sku, quantity, Money(line_total // quantity, "EUR"), eur(line_total), title=f"Item {sku}")
        for sku, quantity, line_total in lines
    )
    total = sum(line_total for _, _, line_total in lines) + shipping - discount
    return Order(
        channel="webshop",
        external_id="vat-1",
        currency="EUR",
        lines=order_lines,
        placed_at=datetime(2026, 12, 7, tzinfo=UTC),
        total=eur(total),
        shipping=eur(shipping),
        discount=eur(discount) if discount else None,
    )


CATEGORIES = {"A": "standard", "B": "reduced", "C": "zero", "D": "standard"}


def test_a_discounted_order_shipped_in_two_parcels_is_invoiced_as_allocation_charges_it():
    order = order_with([("A", 3, 3000), ("B", 2, 1001)], shipping=495, discount=500)
    first_items, first_shipping = shipment_items(order, CATEGORIES, {}, {"A": 1, "B": 2})
    first = invoice(first_items, first_shipping, DUTCH_RATES)
    second_items, second_shipping = shipment_items(order, CATEGORIES, {"A": 1, "B": 2}, {"A": 2})
    second = invoice(second_items, second_shipping, DUTCH_RATES)
    assert first.gross == charge_for_parcel(order, {}, {"A": 1, "B": 2})
    assert second.gross == charge_for_parcel(order, {"A": 1, "B": 2}, {"A": 2})
    assert first.gross + second.gross == order.total
    assert first_shipping == eur(495) and second_shipping == eur(0)
    returned = credit_note(returned_items(order, CATEGORIES, {}, {"B": 1}), eur(0), DUTCH_RATES)
    assert returned.gross == refund_for_units(order, {}, {"B": 1})
    assert [total.category for total in returned.rate_totals] == ["reduced"]


order_lines = st.lists(
    st.tuples(st.sampled_from("ABCD"), st.integers(1, 5), st.integers(0, 500_000)), min_size=1, max_size=5
)


@st.composite
def orders(draw: st.DrawFn) -> Order:
    lines = draw(order_lines)
    shipping = draw(st.integers(0, 2_000))
    goods = sum(line_total for _, _, line_total in lines)
    discount = draw(st.integers(0, goods))
    return order_with(lines, shipping, discount)


@given(orders(), st.booleans(), st.data())
def test_every_parcel_invoice_adds_up_and_the_credit_note_of_everything_mirrors_the_invoice(
    order: Order, reverse_charge: bool, data: st.DataObject
) -> None:
    demand = order.demand()
    parcel = {sku: data.draw(st.integers(0, quantity)) for sku, quantity in demand.items()}
    rest = {sku: quantity - parcel[sku] for sku, quantity in demand.items()}
    grosses = 0
    for before, units in (({}, parcel), (parcel, rest)):
        items, shipping = shipment_items(order, CATEGORIES, before, units)
        if not items and not shipping.amount_minor:
            continue
        sold = invoice(items, shipping, DUTCH_RATES, reverse_charge=reverse_charge)
        refunded = credit_note(items, shipping, DUTCH_RATES, reverse_charge=reverse_charge)
        assert sold.gross == charge_for_parcel(order, before, units)
        if not reverse_charge:
            holds(sold, sold.gross.amount_minor)
        else:
            assert sold.vat == eur(0) and all(line.net.amount_minor >= 0 for line in sold.lines)
        assert (refunded.lines, refunded.rate_totals) == (sold.lines, sold.rate_totals)
        assert refunded.signed(refunded.gross) == Money(-sold.gross.amount_minor, "EUR")
        grosses += charge_for_parcel(order, before, units).amount_minor
    assert grosses == order.total.amount_minor


@given(orders(), st.integers(0, 10**7))
def test_an_amount_credit_note_adds_up_exactly_at_the_invoices_rates(order: Order, amount: int) -> None:
    items, shipping = shipment_items(order, CATEGORIES, {}, order.demand())
    sold = invoice(items, shipping, DUTCH_RATES)
    holds(sold, order.total.amount_minor)
    everything = credit_note(returned_items(order, CATEGORIES, {}, order.demand()), shipping, DUTCH_RATES)
    assert everything.rate_totals == sold.rate_totals and everything.lines == sold.lines
    assert everything.signed(everything.gross) == Money(-order.total.amount_minor, "EUR")
    goodwill = amount_credit_note(eur(amount), sold, "Goodwill")
    holds(goodwill, amount)
    assert {total.category for total in goodwill.rate_totals} <= {total.category for total in sold.rate_totals}
