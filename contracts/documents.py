"""Who an invoice or credit note is from and to: the parties every VAT document must name (EU VAT
directive art. 226: names, addresses, the seller's VAT id, the buyer's when reverse charge applies).

Plain values shared by the renderers (PDF, UBL) and the services that will fill them from settings
and the order; nothing here is personal data to log.
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
    """ISO 3166-1 alpha-2 code, e.g. NL."""
    vat_id: str
    chamber_id: str = ""
    """The chamber of commerce number (KvK in the Netherlands), which Dutch invoices must show."""
    iban: str = ""


@dataclass(frozen=True)
class BuyerDetails:
    name: str
    address_lines: tuple[str, ...]
    postcode: str
    city: str
    country: str
    """ISO 3166-1 alpha-2 code, e.g. DE."""
    vat_id: str = ""
    """A business's VAT id: required on the document when reverse charge applies."""
