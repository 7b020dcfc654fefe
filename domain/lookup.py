"""How support finds an order from what a customer says on the phone: the order's number, the
channel's id, their e-mail or their postcode. One rule turns what is stored and what is typed into
the same key, so "1012 ab" finds an order shipped to "1012AB" and "Sam@Example.org" finds
"sam@example.org". Both keys are personal data: kept for the lookup, never logged."""

from __future__ import annotations

from domain import limits


def email_key(email: str) -> str:
    """The address as one key whatever its case ("" for none, or one too long to be an address)."""
    key = email.strip().lower()
    return key if len(key) <= limits.EMAIL else ""


def postcode_key(postcode: str) -> str:
    """The postcode without spaces, in capitals ("1012 ab" → "1012AB"); "" for none, or for text
    too long to be a postcode (a shortened key would find somebody else's orders)."""
    key = "".join(postcode.split()).upper()
    return key if len(key) <= limits.POSTCODE else ""
