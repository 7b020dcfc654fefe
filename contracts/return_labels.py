"""A return label for a requested return (the ReturnWorkflow asks at REQUESTED): from the customer's
address back to the location that shipped the goods, through the carrier integration where there
is one, with the RMA as its reference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import activity


@dataclass
class ReturnLabelInput:
    order_id: str
    return_id: str
    rma: str
    location_id: str | None
    """Where the goods go back to; None: the location that shipped them."""
    lines: dict[str, int]
    """SKU → units coming back."""
    at: datetime


@dataclass
class ReturnLabel:
    carrier: str
    """The carrier's code as the platform names it (postnl, dhl, ...)."""
    tracking_number: str
    label_url: str
    """Where staff (and the screens) get the PDF: this API's `GET /returns/{return_id}/label`."""


@dataclass
class CancelReturnLabelInput:
    order_id: str
    return_id: str
    rma: str
    why: str
    """cancelled or expired: the return's state that makes its label useless."""
    at: datetime


@dataclass
class ReturnLabelCancelled:
    status: str
    """cancelled (asked of the carrier, now or before), none (no label was made through the carrier,
    or the carrier does not know it: nothing to cancel) or refused (the carrier can no longer
    cancel it: recorded with its words, on the timeline)."""


class ReturnLabels:
    """The return-label activities (activities.return_labels implements them)."""

    @activity.defn
    def create_return_label(self, data: ReturnLabelInput) -> ReturnLabel | None:
        """The label, made once per return_id (a retry answers the same one); None when the order
        did not ship through a carrier integration (the customer ships it themselves, the timeline
        says so). Raises CarrierRefused (final) or CarrierUnavailable (retried) ApplicationErrors."""
        raise NotImplementedError

    @activity.defn
    def cancel_return_label(self, data: CancelReturnLabelInput) -> ReturnLabelCancelled:
        """The label of a return cancelled or expired, cancelled at the carrier once (a retry after
        it was asked answers the same, without asking again). Raises CarrierUnavailable (retried)."""
        raise NotImplementedError
