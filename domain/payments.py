"""Where a payment stands, as its record says: the vocabulary the read model, the API and the books share."""

from __future__ import annotations

from enum import StrEnum


class PaymentStatus(StrEnum):
    AUTHORIZED = "AUTHORIZED"
    """Held on the customer's card, nothing taken yet."""
    PARTIALLY_CAPTURED = "PARTIALLY_CAPTURED"
    """Some shipments have left and their share was taken; the rest is still held."""
    CAPTURED = "CAPTURED"
    """Everything that left was taken; whatever did not leave was released with the last capture."""
    VOIDED = "VOIDED"
    """Released without taking anything (the order was cancelled or nothing shipped)."""
