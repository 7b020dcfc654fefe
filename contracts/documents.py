"""Who sells and who buys, as an invoice or credit note names them (EN 16931 BG-4 seller, BG-7 buyer).

Plain frozen values the document renderers (the PDF and the e-invoice XML) both take, so a seller's
details are written down once, in settings, and a buyer's come from the order. They hold personal
data (names, addresses): they go into documents, never into logs, search attributes or workflow ids.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SellerDetails:
    name: str
    address_lines: tuple[str, ...]
    postcode: str
    city: str
    country: str
    """ISO 3166-1 alpha-2 code, e.g. "NL"."""
    vat_id: str
    """The seller's VAT identification number with its country prefix, e.g. "NL123456789B01"."""
    chamber_id: str = ""
    """The trade register number (Dutch KvK number); empty when not printed."""
    iban: str = ""
    """The account the customer pays to (for a bank transfer); empty when the order is paid online."""


@dataclass(frozen=True)
class BuyerDetails:
    name: str
    address_lines: tuple[str, ...]
    postcode: str
    city: str
    country: str
    """ISO 3166-1 alpha-2 code."""
    vat_id: str = ""
    """A business buyer's VAT id; required on a reverse-charge document (EN 16931 BR-AE-02)."""
