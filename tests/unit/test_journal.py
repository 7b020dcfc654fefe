"""The daily journal (domain.journal): balanced to the cent, and the lines a bookkeeper would write
by hand for a known day."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.invoicing import Item, credit_note, invoice
from domain.journal import (
    CreditFact,
    DocumentFact,
    Settlement,
    decimal,
    gross,
    journal,
    rate_text,
    sales,
)
from domain.money import Money
from domain.store_credit import CreditEntryKind
from domain.vat import DUTCH_RATES, REDUCED, STANDARD, ZERO

EUR = "EUR"


def eur(text: str) -> Money:
    return Money.parse(text, EUR)


def known_day() -> tuple[list[DocumentFact], list[CreditFact]]:
    """A webshop order paid through the gateway (part with store credit), its returned shirt, and a
    bol order the marketplace collected, at two rates."""
    webshop = invoice([Item("Shirt", STANDARD, eur("121.00"))], eur("6.05"), DUTCH_RATES)
    bol = invoice([Item("Book", REDUCED, eur("10.90")), Item("Shirt", STANDARD, eur("24.20"))], eur("0"), DUTCH_RATES)
    returned = credit_note([Item("Shirt", STANDARD, eur("121.00"))], eur("0"), DUTCH_RATES)
    documents = [
        DocumentFact("INV-2026-000001", "webshop", Settlement.GATEWAY, webshop),
        DocumentFact("INV-2026-000002", "bol", Settlement.CHANNEL, bol),
        DocumentFact("CN-2026-000001", "webshop", Settlement.GATEWAY, returned),
    ]
    credits = [CreditFact("spend:1", CreditEntryKind.SPEND, eur("30.00"), "webshop", Settlement.GATEWAY)]
    return documents, credits


def as_rows(documents: list[DocumentFact], credits: list[CreditFact]) -> list[tuple[str, str, str, str, str, str]]:
    return [
        (
            line.account,
            line.description,
            line.channel,
            rate_text(line.vat_rate),
            decimal(line.debit),
            decimal(line.credit),
        )
        for line in journal(EUR, documents, credits).lines
    ]


def test_a_known_day_is_the_lines_written_by_hand() -> None:
    documents, credits = known_day()
    assert as_rows(documents, credits) == [
        ("1100", "Payment provider clearing", "webshop", "", "127.05", "0.00"),
        ("1100", "Payment provider clearing (store credit spent)", "webshop", "", "0.00", "30.00"),
        ("1100", "Payment provider clearing reversed (credit notes)", "webshop", "", "0.00", "121.00"),
        ("1300", "Receivable from channel", "bol", "", "35.10", "0.00"),
        ("1600", "Store credit spent", "webshop", "", "30.00", "0.00"),
        ("1800", "VAT payable", "bol", "9.00", "0.00", "0.90"),
        ("1800", "VAT payable", "bol", "21.00", "0.00", "4.20"),
        ("1800", "VAT payable", "webshop", "21.00", "0.00", "22.05"),
        ("1800", "VAT payable reversed (credit notes)", "webshop", "21.00", "21.00", "0.00"),
        ("8000", "Revenue", "bol", "9.00", "0.00", "10.00"),
        ("8000", "Revenue", "bol", "21.00", "0.00", "20.00"),
        ("8000", "Revenue", "webshop", "21.00", "0.00", "100.00"),
        ("8000", "Revenue reversed (credit notes)", "webshop", "21.00", "100.00", "0.00"),
        ("8100", "Shipping revenue", "webshop", "21.00", "0.00", "5.00"),
    ]
    day = journal(EUR, documents, credits)
    assert day.balanced and day.debit == eur("313.15")


def test_sales_per_channel_net_the_credit_notes_and_equal_the_settlement() -> None:
    documents, _ = known_day()
    per_channel = sales(EUR, documents)
    assert sorted(per_channel) == ["bol", "webshop"]
    webshop = per_channel["webshop"]
    assert [(line.account, line.vat_rate, decimal(line.net), decimal(line.vat)) for line in webshop] == [
        ("8100", 2100, "5.00", "1.05"),  # the shirt and its credit note net to nothing: no line
    ]
    assert gross(webshop, EUR) == eur("6.05")
    assert gross(per_channel["bol"], EUR) == eur("35.10")


def test_a_channel_whose_day_cancels_out_has_no_sales_to_book() -> None:
    sold = invoice([Item("Shirt", STANDARD, eur("121.00"))], eur("0"), DUTCH_RATES)
    returned = credit_note([Item("Shirt", STANDARD, eur("121.00"))], eur("0"), DUTCH_RATES)
    documents = [
        DocumentFact("INV-1", "webshop", Settlement.GATEWAY, sold),
        DocumentFact("CN-1", "webshop", Settlement.GATEWAY, returned),
    ]
    assert sales(EUR, documents) == {}
    assert journal(EUR, documents).balanced


def test_expiry_and_credit_without_an_order() -> None:
    credits = [
        CreditFact("expire:1", CreditEntryKind.EXPIRE, eur("5.00")),
        CreditFact("issue:1", CreditEntryKind.ISSUE, eur("7.50")),
        CreditFact("issue:2", CreditEntryKind.ISSUE, eur("2.00"), "webshop", Settlement.GATEWAY),
        CreditFact("reverse:1", CreditEntryKind.REVERSE, eur("1.00"), "webshop", Settlement.GATEWAY),
    ]
    day = journal(EUR, [], credits)
    assert day.balanced
    rows = {
        (line.account, line.description, line.channel): (decimal(line.debit), decimal(line.credit))
        for line in day.lines
    }
    assert rows == {
        ("1600", "Store credit expired", ""): ("5.00", "0.00"),
        ("8900", "Store credit expired", ""): ("0.00", "5.00"),
        ("1600", "Store credit issued", ""): ("0.00", "7.50"),
        ("4800", "Store credit adjustments", ""): ("7.50", "0.00"),
        ("1600", "Store credit issued", "webshop"): ("0.00", "2.00"),
        ("1100", "Payment provider clearing (store credit issued)", "webshop"): ("2.00", "0.00"),
        ("1600", "Store credit given back", "webshop"): ("0.00", "1.00"),
        ("1100", "Payment provider clearing (store credit given back)", "webshop"): ("1.00", "0.00"),
    }


_categories = st.sampled_from([STANDARD, REDUCED, ZERO])
_items = st.lists(
    st.builds(
        lambda c, g, q: Item("Thing", c, Money(g, EUR), q), _categories, st.integers(0, 10**7), st.integers(1, 5)
    ),
    min_size=1,
    max_size=5,
)
_document = st.builds(
    lambda items, shipping, credit, reverse, channel, settlement: DocumentFact(
        "N",
        channel,
        settlement,
        (credit_note if credit else invoice)(items, Money(shipping, EUR), DUTCH_RATES, reverse_charge=reverse),
    ),
    _items,
    st.integers(0, 10**5),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["webshop", "bol", "amazon"]),
    st.sampled_from(list(Settlement)),
)
_credit = st.builds(
    lambda kind, amount, settlement: CreditFact(
        "c", kind, Money(amount, EUR), "" if settlement is None else "webshop", settlement
    ),
    st.sampled_from(list(CreditEntryKind)),
    st.integers(1, 10**6),
    st.none() | st.sampled_from(list(Settlement)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_document, max_size=6), st.lists(_credit, max_size=4))
def test_every_day_balances_exactly(documents: list[DocumentFact], credits: list[CreditFact]) -> None:
    day = journal(EUR, documents, credits)
    assert day.debit == day.credit
    per_channel = sales(EUR, documents)
    # What a channel's sales entry totals is what its documents settled, to the cent.
    for channel, lines in per_channel.items():
        settled = sum(
            fact.document.signed(fact.document.gross).amount_minor for fact in documents if fact.channel == channel
        )
        assert gross(lines, EUR).amount_minor == settled
