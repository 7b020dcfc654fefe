"""Invoice and credit note numbers: what they look like, and that every one reads back as itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.document_numbers import (
    CREDIT_NOTE,
    INVOICE,
    SERIES_MAX,
    YEAR_MAX,
    YEAR_MIN,
    DocumentNumber,
    InvalidDocumentNumber,
    format_number,
    numbering_year,
    parse_number,
)

series = st.from_regex(rf"[A-Z][A-Z0-9]{{0,{SERIES_MAX - 1}}}", fullmatch=True)
years = st.integers(YEAR_MIN, YEAR_MAX)
sequences = st.integers(1, 10**9)


def test_invoices_and_credit_notes_read_like_the_books_expect():
    assert format_number(INVOICE, 2026, 123) == "INV-2026-000123"
    assert format_number(CREDIT_NOTE, 2026, 7) == "CN-2026-000007"
    assert format_number(INVOICE, 2027, 1_234_567) == "INV-2027-1234567"  # past six digits it grows


def test_a_number_reads_back_to_its_parts():
    assert parse_number("CN-2026-000007") == DocumentNumber("CN", 2026, 7)
    assert parse_number("INV-2027-1234567") == DocumentNumber("INV", 2027, 1_234_567)


@pytest.mark.parametrize(
    "text",
    [
        "INV-2026-123",  # too few digits
        "INV-2026-0000123",  # padded past six
        "inv-2026-000123",
        "INV-26-000123",
        "INV-0999-000001",
        "INV-2026-000000",  # sequences count from 1
        "INV2026000123",
        "IN-V-2026-000123",
        " INV-2026-000123",
        "INV-2026-000123\n",
        "TOOLONGSERI-2026-000001",
        "",
    ],
)
def test_anything_format_number_would_not_print_is_refused(text):
    with pytest.raises(InvalidDocumentNumber):
        parse_number(text)


@pytest.mark.parametrize(
    ("series", "year", "sequence"),
    [
        ("", 2026, 1),
        ("inv", 2026, 1),
        ("I-N", 2026, 1),
        ("1NV", 2026, 1),
        ("A" * 11, 2026, 1),
        ("INV", 999, 1),
        ("INV", 10000, 1),
        ("INV", 2026, 0),
        ("INV", 2026, -1),
    ],
)
def test_no_number_carries_a_bad_series_year_or_sequence(series, year, sequence):
    with pytest.raises(InvalidDocumentNumber):
        format_number(series, year, sequence)


def test_the_year_is_the_document_dates_year_in_utc():
    amsterdam_new_year = datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert numbering_year(amsterdam_new_year) == 2026  # still 2026 in UTC
    assert numbering_year(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == 2026
    assert numbering_year(datetime(2027, 1, 1, tzinfo=UTC)) == 2027
    with pytest.raises(InvalidDocumentNumber):
        numbering_year(datetime(2026, 6, 1))  # naive: whose midnight?


@given(series, years, sequences)
def test_every_number_reads_back_as_itself(series_, year, sequence):
    text = format_number(series_, year, sequence)
    assert parse_number(text) == DocumentNumber(series_, year, sequence)
    assert str(parse_number(text)) == text


@given(series, years, st.integers(1, 999_999), st.integers(1, 999_999))
def test_within_a_series_and_year_numbers_sort_as_text_like_their_sequence(series_, year, a, b):
    assert (format_number(series_, year, a) < format_number(series_, year, b)) == (a < b)


@given(
    st.datetimes(min_value=datetime(1001, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)),
    st.integers(-14 * 60, 14 * 60),
)
def test_the_year_does_not_depend_on_the_time_zone_it_is_written_in(moment, minutes):
    elsewhere = moment.astimezone(timezone(timedelta(minutes=minutes)))
    assert numbering_year(elsewhere) == numbering_year(moment) == moment.year
