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


class PaymentPurpose(StrEnum):
    """What a payment of an order pays for: an order may hold several (one row each)."""

    ORDER = "order"
    """The order itself, authorized at intake (`payment-<order id>`)."""
    EXCHANGE_DIFFERENCE = "exchange_difference"
    """What an exchange's replacement costs more than the returned units were worth, charged on
    the order's saved card (`payment-<order id>-x<the return's number>`)."""
    EDIT_INCREASE = "edit_increase"
    """What an order edit costs more than the order's payment holds, paid by the customer through a
    payment link (Mollie) before the edit applies (`payment-<order id>-e<the edit's version>`)."""


def order_payment_id(order_id: str) -> str:
    """The id of the order's own payment (the one authorized at intake)."""
    return f"payment-{order_id}"


def extra_payment_id(order_id: str, tag: str) -> str:
    """The id of a further payment of the order, `tag` naming what it pays for (`x1`: the
    difference of the order's first exchange)."""
    return f"payment-{order_id}-{tag}"
