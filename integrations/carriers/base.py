"""What the engine asks of a carrier platform, whatever the vendor: a label for a packed shipment
and a return label for a shipped one, each with the carrier's own tracking number.

Errors say what a caller may do next: `CarrierRefused` is the carrier's final word on this request
(an address it cannot deliver to, a weight it does not take): retrying the same request cannot
help, a person must. Every other `CarrierError` is worth retrying with backoff (a 429 says how long
to wait). A label is never made up: without the carrier's answer there is no tracking number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class CarrierError(Exception):
    """The carrier did not give a label this time."""


class CarrierUnavailable(CarrierError):
    """No answer, a 5xx, or an answer that is not the carrier's (a proxy's page): retry later."""


class CarrierRateLimited(CarrierError):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        """Seconds the carrier asked us to wait (its Retry-After), when it said."""


class CarrierAuthFailed(CarrierError):
    """Our API keys were refused: ops must fix the keys; the shipment waits and retries meanwhile."""


class CarrierRefused(CarrierError):
    """The carrier refused this request for what it says (its own words in the message)."""


class ReturnLabelPending(CarrierUnavailable):
    """The carrier took the return but its label is not there yet (no tracking number, the document
    did not come): retry with `announced` set to this reference, so the same return is asked for its
    label instead of a second one being made."""

    def __init__(self, message: str, announced: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.announced = announced
        self.retry_after = retry_after
        """Seconds the carrier asked us to wait, when it said (a 429)."""


@dataclass(frozen=True)
class PostalAddress:
    """An address as a label needs it."""

    name: str
    line1: str
    postcode: str
    city: str
    country: str
    """ISO 3166-1 alpha-2."""
    line2: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""

    def missing(self) -> list[str]:
        """The fields a carrier needs that are empty."""
        needed = {"name": self.name, "address line 1": self.line1, "postcode": self.postcode, "city": self.city}
        needed["country"] = self.country
        return [name for name, value in needed.items() if not value.strip()]


@dataclass(frozen=True)
class LabelRequest:
    shipment_id: str
    """Our shipment id: the carrier's external reference, so a retry finds the label it made."""
    order_reference: str
    sender: PostalAddress
    recipient: PostalAddress
    parcel_weights_grams: tuple[int, ...]
    """One weight per parcel."""


@dataclass(frozen=True)
class Label:
    carrier: str
    """The carrier's code as the platform names it (postnl, dhl, dpd, ...)."""
    tracking_number: str
    reference: str
    """The platform's own id for the parcel (label_ref on the shipment)."""
    document: bytes
    media_type: str = "application/pdf"
    tracking_url: str = ""
    parcel_refs: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ReturnItem:
    """A line in a return parcel, as the carrier lists it (customs outside the EU, the return's page)."""

    sku: str
    quantity: int
    description: str = ""


@dataclass(frozen=True)
class ReturnLabelRequest:
    shipment_id: str
    """The parcel the goods left in."""
    order_reference: str
    customer: PostalAddress
    """Where the parcel comes back from."""
    returns_to: PostalAddress
    weight_grams: int
    reference: str = ""
    """The return's reference at the carrier (our RMA), which the carrier keeps unique: a second
    return under it is refused, never made. Empty: `<shipment id>:return` (the whole parcel back)."""
    items: tuple[ReturnItem, ...] = ()
    announced: str = ""
    """The carrier's reference of the return an earlier try made (ReturnLabelPending.announced):
    its label is asked for, no new return is made."""

    @property
    def external_reference(self) -> str:
        return self.reference or f"{self.shipment_id}:return"


class Carrier(Protocol):
    name: str

    def label_for(self, request: LabelRequest) -> Label:
        """The label of this shipment: made once; asking again (a retried step) answers the same
        label. Raises CarrierRefused (final) or another CarrierError (retry)."""
        ...

    def return_label_for(self, request: ReturnLabelRequest) -> Label:
        """A return label: from the customer back to `returns_to`, made once per reference. The same
        errors, and ReturnLabelPending (retry with its `announced`) when the return was made but
        its label did not come."""
        ...

    def cancel_return_label(self, reference: str) -> bool:
        """Ask the carrier to cancel the return made under `reference` (a return label's
        `Label.reference`, or ReturnLabelPending.announced), so its label can no longer be used:
        True once asked (asking again is harmless), False when the carrier does not know it.
        CarrierRefused (final: it can no longer be cancelled) or another CarrierError (retry)."""
        ...

    def cancel_label(self, reference: str) -> bool:
        """Ask the carrier to cancel the outbound label made under `reference` (`Label.reference`),
        so it can no longer be used (an order edit sends the parcel elsewhere): True once cancelled
        or asked (asking again is harmless), False when the carrier does not know it. CarrierRefused
        (final: announced to the carrier, it can no longer be cancelled) or another CarrierError (retry)."""
        ...
