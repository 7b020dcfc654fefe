"""The invoice and credit note PDF (integrations.documents.pdf): read back with pypdf, it shows the
number, date, parties, every line and rate total to the cent, the reverse-charge note when it applies,
and on a credit note its title and the invoice it corrects."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from contracts.documents import BuyerDetails, SellerDetails
from domain.invoicing import SHIPPING, DocumentKind, Item, VatDocument, amount_credit_note, credit_note, invoice
from domain.money import Money
from domain.vat import DUTCH_RATES, REVERSE_CHARGE_NOTE, REVERSE_CHARGE_NOTE_NL
from integrations.documents.pdf import rate_label, render_pdf

SELLER = SellerDetails(
    "Keukenhuis B.V.",
    ("Damrak 1",),
    "1012 LG",
    "Amsterdam",
    "NL",
    "NL123456789B01",
    chamber_id="12345678",
    iban="NL91ABNA0417164300",
)
CONSUMER = BuyerDetails("Jan & Piet <Jansen>", ("Kerkstraat 5", "2nd floor"), "3511 AB", "Utrecht", "NL")
BUSINESS = BuyerDetails("Küchen GmbH", ("Hauptstraße 3",), "10115", "Berlin", "DE", vat_id="DE123456789")


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def words(text: str) -> str:
    """The text with runs of whitespace made one space (cells may wrap)."""
    return re.sub(r"\s+", " ", text)


def kitchen_invoice() -> VatDocument:
    return invoice(
        [Item("Kettle", "standard", eur(6050)), Item("Cookbook", "reduced", eur(2180), quantity=2)],
        eur(495),
        DUTCH_RATES,
    )


def test_an_invoice_shows_its_number_date_parties_lines_and_rate_totals_to_the_cent():
    document = kitchen_invoice()
    text = words(text_of(render_pdf(document, "INV-2026-000123", date(2026, 12, 7), SELLER, CONSUMER)))

    assert text.startswith("Invoice ")
    assert "Description Quantity Net VAT rate VAT Gross" in text
    assert "Credit note" not in text
    assert "INV-2026-000123" in text and "2026-12-07" in text
    seller = ("Keukenhuis B.V.", "Damrak 1", "1012 LG Amsterdam", "NL123456789B01", "12345678", "NL91ABNA0417164300")
    for part in seller:
        assert part in text
    # The buyer's name is printed as written, markup characters and all.
    for part in ("Jan & Piet <Jansen>", "Kerkstraat 5", "2nd floor", "3511 AB Utrecht"):
        assert part in text
    for line in document.lines:
        assert line.description in text
        row = f"{line.quantity} {line.net.format()} {rate_label(line.rate)} {line.vat.format()} {line.gross.format()}"
        assert row in text
    # Shipping split over the rates: 3.63 at 21 %, 1.32 at 9 % (domain.invoicing).
    assert text.count(SHIPPING) == 2
    assert "Shipping 1 3.00 EUR 21% 0.63 EUR 3.63 EUR" in text and "Shipping 1 1.21 EUR 9% 0.11 EUR 1.32 EUR" in text
    standard, reduced = document.rate_totals
    assert "21% 53.00 EUR 11.13 EUR 64.13 EUR" in text  # 64.13 / 1.21 = 53.00
    assert f"21% {standard.net.format()} {standard.vat.format()} {standard.gross.format()}" in text
    assert f"9% {reduced.net.format()} {reduced.vat.format()} {reduced.gross.format()}" in text
    assert "Total 74.21 EUR 13.04 EUR 87.25 EUR" in text
    assert document.gross == eur(8725) and document.vat == eur(1304)
    assert REVERSE_CHARGE_NOTE not in text and REVERSE_CHARGE_NOTE_NL not in text


def test_a_reverse_charge_invoice_carries_the_note_the_buyers_vat_id_and_no_vat():
    document = invoice([Item("Kettle", "standard", eur(10000))], eur(0), DUTCH_RATES, reverse_charge=True)
    text = words(text_of(render_pdf(document, "INV-2026-000124", date(2026, 12, 7), SELLER, BUSINESS)))

    assert REVERSE_CHARGE_NOTE in text and REVERSE_CHARGE_NOTE_NL in text
    assert "DE123456789" in text and "Küchen GmbH" in text and "Hauptstraße 3" in text
    assert "1 100.00 EUR Reverse charge 0.00 EUR 100.00 EUR" in text
    assert "Total 100.00 EUR 0.00 EUR 100.00 EUR" in text


def test_a_credit_note_says_so_and_names_the_invoice_it_corrects():
    corrected = kitchen_invoice()
    document = amount_credit_note(eur(1000), corrected, "Goodwill: late delivery")
    pdf = render_pdf(document, "CN-2026-000007", date(2026, 12, 8), SELLER, CONSUMER, corrects="INV-2026-000123")
    text = words(text_of(pdf))

    assert document.kind is DocumentKind.CREDIT_NOTE
    assert text.startswith("Credit note ")
    assert "Credit note number CN-2026-000007" in text
    assert "Corrects invoice INV-2026-000123" in text
    assert text.count("Goodwill: late delivery") == len(document.lines) == 2
    # Positive amounts, as on the invoice; the total is what is given back.
    assert f"Total {document.net.format()} {document.vat.format()} 10.00 EUR" in text
    assert not re.search(r"-\d+\.\d\d EUR", text)


def test_a_credit_note_without_the_corrected_invoice_prints_no_reference():
    document = credit_note([Item("Kettle", "standard", eur(6050))], eur(0), DUTCH_RATES)
    text = words(text_of(render_pdf(document, "CN-2026-000008", date(2026, 12, 8), SELLER, CONSUMER)))
    assert "Corrects invoice" not in text
    assert "Total 50.00 EUR 10.50 EUR 60.50 EUR" in text


def test_many_lines_run_over_pages_and_every_line_is_printed():
    items = [Item(f"Spoon {n:03d}", "standard", eur(100 + n)) for n in range(120)]
    document = invoice(items, eur(0), DUTCH_RATES)
    pdf = render_pdf(document, "INV-2026-000125", date(2026, 12, 7), SELLER, CONSUMER)
    assert len(PdfReader(BytesIO(pdf)).pages) > 1
    text = words(text_of(pdf))
    assert all(f"Spoon {n:03d}" in text for n in range(120))
    assert f"Total {document.net.format()} {document.vat.format()} {document.gross.format()}" in text


def test_a_description_longer_than_a_page_continues_on_the_next_and_control_characters_are_dropped():
    long = " ".join(f"part{n:04d}" for n in range(1500))
    items = [
        Item("Kettle\tdeluxe\x00\x07", "standard", eur(500)),
        Item(long, "standard", eur(100)),
        Item("Lid", "standard", eur(5)),
    ]
    document = invoice(items, eur(0), DUTCH_RATES)
    pdf = render_pdf(document, "INV-2026-000127", date(2026, 12, 7), SELLER, CONSUMER)
    assert len(PdfReader(BytesIO(pdf)).pages) > 1
    text = words(text_of(pdf))
    assert "Kettle deluxe 1 " in text
    assert all(f"part{n:04d}" in text for n in range(1500))
    assert "Lid 1 " in text and "Total 5.00 EUR 1.05 EUR 6.05 EUR" in text


def test_amounts_over_a_million_and_the_reverse_charge_rate_fit_their_columns_unbroken():
    document = invoice([Item("Espresso bar", "standard", eur(121_000_000))], eur(0), DUTCH_RATES)
    raw = text_of(render_pdf(document, "INV-2026-000128", date(2026, 12, 7), SELLER, CONSUMER))
    assert all(amount in raw for amount in ("1000000.00 EUR", "210000.00 EUR", "1210000.00 EUR"))
    business = invoice([Item("Espresso bar", "standard", eur(121_000_000))], eur(0), DUTCH_RATES, reverse_charge=True)
    raw = text_of(render_pdf(business, "INV-2026-000129", date(2026, 12, 7), SELLER, BUSINESS))
    assert raw.count("Reverse charge") == 2  # the line's rate and the VAT breakdown


_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÄÖÜäöüéèßŁłŽžČč&<>'\"0123456789", min_size=1, max_size=12)
_ITEMS = st.lists(
    st.builds(
        Item,
        st.lists(_WORDS, min_size=1, max_size=4).map(" ".join),
        st.sampled_from(sorted(DUTCH_RATES)),
        st.integers(0, 10**9).map(eur),
        st.integers(1, 999),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=30, deadline=None)
@given(items=_ITEMS, shipping=st.integers(0, 10**5), reverse=st.booleans(), credit=st.booleans())
def test_every_line_and_rate_of_any_document_is_printed_to_the_cent(items, shipping, reverse, credit):
    make = credit_note if credit else invoice
    document = make(items, eur(shipping), DUTCH_RATES, reverse_charge=reverse)
    text = words(text_of(render_pdf(document, "INV-2026-000130", date(2026, 12, 7), SELLER, BUSINESS)))
    assert text.startswith("Credit note " if credit else "Invoice ")
    for line in document.lines:
        rate = "Reverse charge" if reverse else rate_label(line.rate)
        row = f"{line.description} {line.quantity} {line.net.format()} {rate} {line.vat.format()} {line.gross.format()}"
        assert row in text
    for total in document.rate_totals:
        rate = "Reverse charge" if reverse else rate_label(total.rate)
        assert f"{rate} {total.net.format()} {total.vat.format()} {total.gross.format()}" in text
    assert f"Total {document.net.format()} {document.vat.format()} {document.gross.format()}" in text
    assert (REVERSE_CHARGE_NOTE in text) is reverse


def test_the_same_document_renders_to_the_same_bytes():
    document = kitchen_invoice()
    first = render_pdf(document, "INV-2026-000123", date(2026, 12, 7), SELLER, CONSUMER)
    assert render_pdf(document, "INV-2026-000123", date(2026, 12, 7), SELLER, CONSUMER) == first
    assert render_pdf(document, "INV-2026-000124", date(2026, 12, 7), SELLER, CONSUMER) != first


def test_amounts_in_a_currency_without_cents_are_formatted_with_its_code():
    document = invoice([Item("Teapot", "standard", Money(12100, "JPY"))], Money(0, "JPY"), DUTCH_RATES)
    text = words(text_of(render_pdf(document, "INV-2026-000126", date(2026, 12, 7), SELLER, CONSUMER)))
    assert "Total 10000 JPY 2100 JPY 12100 JPY" in text


@pytest.mark.parametrize(("rate", "label"), [(2100, "21%"), (900, "9%"), (0, "0%"), (950, "9.5%"), (905, "9.05%")])
def test_rates_are_written_as_people_write_them(rate: int, label: str):
    assert rate_label(rate) == label
