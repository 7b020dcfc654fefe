"""The numbers on invoices and credit notes: `<series>-<year>-<sequence>`, e.g. INV-2026-000123.

Dutch and EU VAT rules ask for one unbroken sequence per series: every number issued, none skipped,
none used twice. We start the sequence again each year, so the year is part of the number (and of
the sequence's key): it is the document date's year in UTC, whatever the shop's time zone, so a
document dated on New Year's Eve gets the same year on every machine. The sequence is written with
at least six digits so numbers sort as text within a year; past 999999 it simply grows longer.

Which sequence a number comes from is kept by persistence.guarded_writes.document_numbers; this
module only says what a number looks like and reads one back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from domain import limits

INVOICE = "INV"
"""The invoices' series unless a setting names another."""
CREDIT_NOTE = "CN"
"""The credit notes' series unless a setting names another."""

SERIES_MAX = limits.DOCUMENT_SERIES
"""A series prefix's length at most (the column holding it is sized from the same limit)."""
DIGITS = 6
"""The sequence is zero-padded to this many digits."""
YEAR_MIN, YEAR_MAX = 1000, 9999
"""Four digits, so a number reads back unambiguously."""

_SERIES = re.compile(rf"[A-Z][A-Z0-9]{{0,{SERIES_MAX - 1}}}")
_NUMBER = re.compile(
    rf"(?P<series>[A-Z][A-Z0-9]{{0,{SERIES_MAX - 1}}})-(?P<year>\d{{4}})-(?P<sequence>\d{{{DIGITS},}})"
)


class InvalidDocumentNumber(ValueError):
    """A series, year or sequence no document number can carry, or text that is not a number."""


@dataclass(frozen=True, order=True)
class DocumentNumber:
    """One issued number: the `sequence`-th document of `series` in `year` (counting from 1)."""

    series: str
    year: int
    sequence: int

    def __post_init__(self) -> None:
        check_series(self.series)
        if not YEAR_MIN <= self.year <= YEAR_MAX:
            raise InvalidDocumentNumber(f"year {self.year} is not between {YEAR_MIN} and {YEAR_MAX}")
        if self.sequence < 1:
            raise InvalidDocumentNumber(f"a sequence counts from 1, not {self.sequence}")

    def __str__(self) -> str:
        return f"{self.series}-{self.year:04d}-{self.sequence:0{DIGITS}d}"


def check_series(series: str) -> str:
    """`series` when it can prefix a number: capitals and digits, starting with a capital, at most
    SERIES_MAX long (no hyphen: it separates the parts)."""
    if not _SERIES.fullmatch(series):
        raise InvalidDocumentNumber(
            f"a series is 1 to {SERIES_MAX} capitals and digits starting with a capital, not {series!r}"
        )
    return series


def numbering_year(document_date: datetime) -> int:
    """The year whose sequence a document dated `document_date` takes: its year in UTC."""
    offset = document_date.utcoffset()
    if offset is None:
        raise InvalidDocumentNumber("a document date must carry its time zone")
    return (document_date - offset).year


def format_number(series: str, year: int, sequence: int) -> str:
    """The number as printed on the document, e.g. format_number("INV", 2026, 123) == "INV-2026-000123"."""
    return str(DocumentNumber(series, year, sequence))


def parse_number(text: str) -> DocumentNumber:
    """A printed number read back; InvalidDocumentNumber unless `text` is exactly what format_number
    would print (so one number has one spelling: no extra leading zeros, no lower case)."""
    found = _NUMBER.fullmatch(text)
    if found is None:
        raise InvalidDocumentNumber(f"{text!r} is not a document number like INV-2026-000123")
    digits = found["sequence"]
    if len(digits) > DIGITS and digits.startswith("0"):
        raise InvalidDocumentNumber(f"{text!r} pads its sequence past {DIGITS} digits")
    number = DocumentNumber(found["series"], int(found["year"]), int(digits))
    if str(number) != text:  # defensive: e.g. a year of 0999
        raise InvalidDocumentNumber(f"{text!r} is not written as {number}")
    return number
