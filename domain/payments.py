"""Where a payment stands: the vocabulary the payment's record (the read model, the API, the books)
and the order workflow's live view share."""

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
    REFUNDED = "REFUNDED"
    """Taken at checkout (iDEAL, Bancontact: nothing to void) and given back in full because none
    of the order left."""
    DECLINED = "DECLINED"
    """The provider declined the authorization: the order is cancelled and no payment is recorded."""
    CAPTURE_REFUSED = "CAPTURE_REFUSED"
    """The gateway refused a capture after the goods had left: a person looks at it (the order's
    live view says so; the record stays as it was)."""
