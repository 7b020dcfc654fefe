"""The customer's tracking page: the signed link that opens it, and the only facts it may show.

A customer opens the link from an e-mail without logging in, so the link itself is the credential:
the order id signed with OMS_TRACKING_SECRET (HMAC-SHA256 through itsdangerous, salted so that no
other signature made with the same secret passes for one). It never expires, because customers
reopen old e-mails; changing the secret therefore breaks every link already sent. A link that does
not verify reads exactly like one for an order we do not have, so guessing learns nothing.

Whoever holds the link sees the page (it is forwarded, read over shoulders, kept in mailboxes), so
what it shows is built here as a `TrackingView` and the template is given nothing else: no name,
address, e-mail, phone, payment, hold reason, location id or price other than the total can reach
the page through a template edit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from itsdangerous import BadData, URLSafeSerializer

from config import Settings
from domain.fulfilment import DONE_STATUS, ShipmentKind, ShipmentStatus, Step
from domain.money import Money
from domain.order import FULFILLED_AT_COUNTER, FULFILLED_BY_CHANNEL
from domain.payment_links import LinkStatus
from domain.returns import ReturnStatus
from domain.status import OrderStatus
from persistence.models import OrderRecord, PaymentLinkRecord, ReturnRecord, ShipmentRecord
from persistence.read_model.return_labels import READY, ReturnLabelView
from services.unit_of_work import UnitOfWorkFactory

_SALT = "order-tracking"
TRACK_PATH = "/track"


# -- the link -------------------------------------------------------------------------------------


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256})


def make_token(secret: str, order_id: str) -> str:
    return _serializer(secret).dumps(order_id)


def read_token(secret: str, token: str) -> str | None:
    """The order id the token was signed for, or None for anything that does not verify."""
    try:
        order_id = _serializer(secret).loads(token)
    except BadData:
        return None
    return order_id if isinstance(order_id, str) and order_id else None


def tracking_url(settings: Settings, order_id: str, request_base_url: str) -> str:
    """Absolute, for an e-mail: OMS_PUBLIC_URL when set (behind a proxy the request's own address
    is an internal one), else the address the request came in on."""
    base = (settings.public_url or request_base_url).rstrip("/")
    return f"{base}{TRACK_PATH}/{make_token(settings.tracking_secret, order_id)}"


# -- carriers -------------------------------------------------------------------------------------

_CARRIER_PAGES: dict[str, str] = {
    "postnl": "https://jouw.postnl.nl/track-and-trace/{number}",
    "dhl": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}&submit=1",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{number}",
    "ups": "https://www.ups.com/track?tracknum={number}",
    "gls": "https://gls-group.eu/track/{number}",
}
# How the same carriers are also written by warehouses and channels.
_CARRIER_ALIASES: dict[str, str] = {
    "dhlparcel": "dhl",
    "dhlexpress": "dhl",
    "dhlecommerce": "dhl",
    "dhlpaket": "dhl",
    "dpdnl": "dpd",
    "dpdde": "dpd",
    "glsnl": "gls",
}


def _carrier_key(carrier: str) -> str:
    squeezed = "".join(ch for ch in carrier.lower() if ch.isalnum())
    return _CARRIER_ALIASES.get(squeezed, squeezed)


def carrier_tracking_link(carrier: str | None, tracking_number: str | None) -> str | None:
    """The carrier's own tracking page for the parcel, or None when we do not know the carrier
    (the page then shows the number alone). PostNL asks the visitor for the postcode: we never put
    it in the link, since the page must not show it."""
    if not carrier or not tracking_number or not tracking_number.strip():
        return None
    page = _CARRIER_PAGES.get(_carrier_key(carrier))
    return page.format(number=quote(tracking_number.strip(), safe="")) if page else None


# -- wording --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusWording:
    headline: str
    explanation: str


_BEING_PREPARED = StatusWording("Being prepared", "We are getting your order ready.")
_ORDER_WORDING: dict[OrderStatus, StatusWording] = {
    OrderStatus.RECEIVED: StatusWording("Order received", "We have your order and will start on it shortly."),
    # The hold reason is for staff (it names SKUs, totals, payment refusals): never shown here.
    OrderStatus.ON_HOLD: StatusWording(
        "We are checking your order", "Someone on our team is looking at your order before it goes further."
    ),
    OrderStatus.BACKORDERED: StatusWording(
        "Waiting for stock", "Some of your items are not in stock yet; we continue as soon as they arrive."
    ),
    OrderStatus.RESERVED: _BEING_PREPARED,
    OrderStatus.IN_FULFILMENT: _BEING_PREPARED,
    OrderStatus.SHIPPED: StatusWording("Shipped", "Your order is on its way."),
    OrderStatus.COMPLETED: StatusWording("Completed", "Your order is complete."),
    OrderStatus.CANCELLED: StatusWording("Cancelled", "This order was cancelled."),
}
_COLLECTED = StatusWording("Collected", "You have collected your order.")
_READY_FOR_PICKUP = StatusWording("Ready for pickup", "Your order is waiting for you at the store.")


def order_status_wording(
    status: OrderStatus, *, handed_over_at_store: bool = False, ready_for_pickup: bool = False
) -> StatusWording:
    """`handed_over_at_store`: a counter sale or click & collect, where "shipped" means collected;
    `ready_for_pickup`: something waits at the store, which matters more than what is still in the works."""
    if status is OrderStatus.SHIPPED and handed_over_at_store:
        return _COLLECTED
    if status is OrderStatus.IN_FULFILMENT and ready_for_pickup:
        return _READY_FOR_PICKUP
    return _ORDER_WORDING[status]


_COLLECT_KINDS = frozenset({ShipmentKind.COLLECT.value, ShipmentKind.TRANSFER_COLLECT.value})
_NOT_GOING_ANYWHERE = frozenset({ShipmentStatus.WITHDRAWN, ShipmentStatus.CANCELLED, ShipmentStatus.STOPPED_BY_CANCEL})
_SHIPMENT_WORDING: dict[str, str] = {
    ShipmentStatus.RESERVED: "Being prepared",
    DONE_STATUS[Step.PICK]: "Being prepared",
    DONE_STATUS[Step.PACK]: "Being prepared",
    DONE_STATUS[Step.SHIP]: "Shipped",
    DONE_STATUS[Step.READY]: "Ready for pickup",
    DONE_STATUS[Step.COLLECT]: "Collected",
    ShipmentStatus.EXPIRED: "Not collected in time",
    ShipmentStatus.IN_TRANSIT: "On its way",
    ShipmentStatus.DELIVERY_FAILED: "The carrier could not deliver it; we are looking into it",
    ShipmentStatus.DELIVERED: "Delivered",
    ShipmentStatus.RETURNED_TO_SENDER: "Returned to us by the carrier; we will be in touch",
}


def shipment_status_wording(status: str, kind: str, delivered_at: datetime | None = None) -> str:
    if status == DONE_STATUS[Step.SHIP] and kind == ShipmentKind.TRANSFER_COLLECT.value:
        return "On its way to the store"
    if status == ShipmentStatus.DELIVERED and delivered_at is not None:
        return f"Delivered on {_day(delivered_at)}"
    return _SHIPMENT_WORDING.get(status, "In progress")


def delivered_wording(delivered_at: datetime) -> StatusWording:
    """The order's words once every parcel to the customer arrived (the carrier's date)."""
    return StatusWording("Delivered", f"Your order was delivered on {_day(delivered_at)}.")


_REFUND_WORDING: dict[str, str] = {
    ReturnStatus.ACCEPTED: "Return received, refund in progress",
    ReturnStatus.REFUNDED: "Refunded",
    ReturnStatus.REFUND_ON_CHANNEL: "Refunded through the shop you ordered from",
    ReturnStatus.CREDITED: "Refunded as store credit",
    "AWAITING_APPROVAL": "Return requested, waiting for approval",
    "REQUESTED": "Return approved, waiting for your parcel",
    "RECEIVED": "Parcel received, refund in progress",
    "DISPOSED": "Parcel received, refund in progress",
    "RESOLVED": "Return completed",
    "EXPIRED": "Return expired: no parcel arrived",
    "REJECTED": "Return not accepted",
    "CANCELLED": "Return cancelled",
}


def refund_wording(return_status: str) -> str:
    return _REFUND_WORDING.get(return_status, "Return received")


# -- the page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    name: str
    quantity: int


@dataclass(frozen=True)
class ParcelView:
    status: str
    carrier: str | None
    tracking_number: str | None
    tracking_link: str | None
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class ReturnView:
    returned_on: str
    items: tuple[ItemView, ...]
    refund: str
    rma: str = ""
    """The return number to write on the parcel (empty on returns taken in one step)."""
    label_ready: bool = False
    """A return label can be downloaded (GET /track/{token}/returns/{rma}/label)."""
    to_pay: str = ""
    """An exchange's difference the customer is asked to pay ("2.50 EUR"), while its link is open."""
    pay_link: str = ""
    """Where they pay it (the provider's payment page)."""
    pay_until: str = ""


@dataclass(frozen=True)
class TrackingView:
    """Everything the tracking page shows, and nothing more."""

    reference: str
    placed_on: str
    status: StatusWording
    total: str
    items: tuple[ItemView, ...]
    parcels: tuple[ParcelView, ...]
    returns: tuple[ReturnView, ...]
    may_return: bool = False
    """The returns window is open: the page offers the return form (services.self_service_returns)."""


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def _items(units: dict[str, int], name_of: Callable[[str], str]) -> tuple[ItemView, ...]:
    return tuple(ItemView(name_of(sku), quantity) for sku, quantity in sorted(units.items()) if quantity > 0)


def _live(shipments: Iterable[ShipmentRecord]) -> list[ShipmentRecord]:
    """Shipments withdrawn by a cancel never went anywhere: the order's own status tells that."""
    return [s for s in shipments if s.status not in _NOT_GOING_ANYWHERE]


def tracking_view(
    record: OrderRecord,
    returns: Iterable[ReturnRecord],
    labelled: Collection[str] = (),
    links: Mapping[str, PaymentLinkRecord] | None = None,
) -> TrackingView:
    """`labelled`: the returns (by id) whose return label is ready; `links`: the open payment link
    of a return (by id) whose exchange waits for the customer's payment."""
    links = links or {}
    titles = {line.sku: line.title for line in record.lines if line.title}

    def name_of(sku: str) -> str:
        return titles.get(sku, sku)

    shipments = _live(record.shipments)
    at_store = record.fulfilled_by == FULFILLED_AT_COUNTER or (
        bool(shipments) and all(s.kind in _COLLECT_KINDS for s in shipments)
    )
    ready = any(s.status == DONE_STATUS[Step.READY] for s in shipments)
    wording = order_status_wording(OrderStatus(record.status), handed_over_at_store=at_store, ready_for_pickup=ready)
    if record.delivered_at is not None:
        wording = delivered_wording(record.delivered_at)
    return TrackingView(
        reference=record.reference or record.external_id,
        placed_on=_day(record.placed_at),
        status=wording,
        total=Money(record.total_minor, record.currency).format(),
        items=tuple(ItemView(line.title or line.sku, line.quantity) for line in record.lines),
        parcels=tuple(
            ParcelView(
                status=shipment_status_wording(s.status, s.kind, s.delivered_at),
                carrier=s.carrier,
                tracking_number=s.tracking_number,
                tracking_link=carrier_tracking_link(s.carrier, s.tracking_number),
                items=_items(s.lines, name_of),
            )
            for s in shipments
        ),
        returns=tuple(
            ReturnView(
                returned_on=_day(r.created_at),
                items=_items(r.lines, name_of),
                refund=refund_wording(r.status),
                rma=r.rma or "",
                label_ready=r.return_id in labelled,
                **_to_pay(links.get(r.return_id)),
            )
            for r in returns
        ),
        may_return=record.status == OrderStatus.SHIPPED.value and record.fulfilled_by != FULFILLED_BY_CHANNEL,
    )


def _to_pay(link: PaymentLinkRecord | None) -> dict[str, str]:
    if link is None or link.status != LinkStatus.OPEN.value:
        return {}
    until = f"{_day(link.expires_at)}, {link.expires_at:%H:%M} UTC"
    return {"to_pay": Money(link.amount_minor, link.currency).format(), "pay_link": link.url, "pay_until": until}


# -- the service ----------------------------------------------------------------------------------


class TrackingLinks:
    """The customers' tracking links and the page each one opens."""

    def __init__(self, settings: Settings, units: UnitOfWorkFactory) -> None:
        self._settings = settings
        self._units = units

    def url(self, order_id: str, request_base_url: str) -> str:
        return tracking_url(self._settings, order_id, request_base_url)

    def view(self, token: str) -> TrackingView | None:
        """What the page shows, or None for a link that does not verify and for an order we do not
        have alike: guessing learns nothing."""
        order_id = read_token(self._settings.tracking_secret, token)
        if not order_id:
            return None
        with self._units(read_only=True) as uow:
            record = uow.orders.get(order_id)
            if record is None:
                return None
            returns = uow.returns.for_order(record.order_id)
            labelled = [r.return_id for r in returns if r.rma and _label_ready(uow.returns.label(r.return_id))]
            links = {r.return_id: found[-1] for r in returns if (found := uow.payments.links_of(r.return_id))}
            return tracking_view(record, returns, labelled, links)


def _label_ready(label: ReturnLabelView | None) -> bool:
    return label is not None and label.status == READY
