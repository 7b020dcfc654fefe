"""The order read model as people look at it: lists with filters, one order with everything that
happened to it, and every payload its channel sent. Nothing here asks Temporal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from contracts.invoices import IssuedDocument
from domain.lookup import email_key, postcode_key
from domain.money import Money
from domain.order import FULFILLED_AT_COUNTER, FULFILLED_BY_CHANNEL
from domain.order_edits import OrderVersion
from domain.payment_links import LinkStatus
from domain.payments import PaymentPurpose
from domain.status import OrderStatus, cancel_refusal, is_waiting_for_a_person
from persistence.models import ChannelMessage, OrderEvent, OrderRecord, PaymentLinkRecord, ReturnRecord
from persistence.read_model.order_versions import as_version
from persistence.read_model.orders import as_received
from services.errors import NotFound
from services.intake_input import from_json
from services.tracking import TrackingLinks
from services.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class OrderDetails:
    record: OrderRecord
    """With its lines, shipments and payments."""
    events: list[OrderEvent]
    notified: dict[str, datetime]
    """Shipment id → when its channel accepted the shipment confirmation."""
    returns: list[ReturnRecord]
    tracking_url: str
    """The customer's tracking page (absolute: it goes into e-mails)."""
    versions: list[OrderVersion] = field(default_factory=list)
    """1 as placed, one more per edit (persistence.read_model.order_versions)."""
    edit_link: PaymentLinkRecord | None = None
    """The payment link an edit waits for (the customer pays what it costs more), while open."""
    documents: list[IssuedDocument] = field(default_factory=list)
    """Its invoices and credit notes as issued, oldest first."""

    @property
    def may_release(self) -> bool:
        return is_waiting_for_a_person(OrderStatus(self.record.status))

    @property
    def may_return(self) -> bool:
        """Something reached the customer (a parcel left, or the sale was at the counter): a return
        may be asked for (the workflow checks what exactly, and its window)."""
        if self.record.fulfilled_by == FULFILLED_BY_CHANNEL:
            return False  # the channel shipped it: its returns go through the channel
        counter = self.record.fulfilled_by == FULFILLED_AT_COUNTER
        return counter or any(shipment.shipped_at is not None for shipment in self.record.shipments)

    @property
    def may_cancel(self) -> bool:
        """As far as the read model can tell (the workflow's live state has the last word)."""
        return cancel_refusal(OrderStatus(self.record.status), shipping_started=False) is None


class OrderViews:
    def __init__(self, units: UnitOfWorkFactory, links: TrackingLinks) -> None:
        self._units = units
        self._links = links

    def page(
        self,
        *,
        status: str | None = None,
        channel: str | None = None,
        sku: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[OrderRecord], int]:
        """Newest first, and how many match in all."""
        with self._units(read_only=True) as uow:
            return uow.orders.page(status=status, channel=channel, sku=sku, limit=limit, offset=offset)

    def find(self, query: str, *, limit: int = 50) -> tuple[list[OrderRecord], int]:
        """Support's lookup from what a customer says: the order's id, the channel's id or reference
        exactly, or the e-mail (any case) or postcode (any spacing and case) of the order; newest
        first, and how many match in all. What was typed is personal data: never logged."""
        typed = query.strip()
        if not typed:
            return [], 0
        with self._units(read_only=True) as uow:
            return uow.orders.find(
                exact=typed,
                email_key=email_key(typed) if "@" in typed else "",
                postcode_key=postcode_key(typed),
                limit=limit,
            )

    def details(self, order_id: str, *, base_url: str, for_channel: str | None = None) -> OrderDetails:
        """NotFound for an order we do not have, and for another channel's order when `for_channel`
        (a channel's own key) is given. An order still only in the intake reads as RECEIVED, as
        it was sent. `base_url`: the address the request came in on."""
        with self._units(read_only=True) as uow:
            record = uow.orders.get(order_id)
            if record is None and (taken := uow.intake.waiting(order_id)) is not None:
                # Taken (a 2xx said so) and its workflow not started or not at its first step yet.
                record = as_received(from_json(taken.workflow_input).order, taken.received_at)
            if record is None or (for_channel is not None and record.channel != for_channel):
                raise NotFound(f"no order {order_id}")
            events = uow.orders.events(order_id)
            notified = uow.shipments.notified_at(order_id)
            returns = uow.returns.for_order(order_id)
            versions = [as_version(row) for row in uow.orders.versions(order_id)] or [_as_placed(record)]
            waiting = [
                link
                for link in uow.payments.links_of(order_id)
                if link.purpose == PaymentPurpose.EDIT_INCREASE.value and link.status == LinkStatus.OPEN.value
            ]
            documents = uow.payments.documents_of(order_id)
        url = self._links.url(order_id, base_url)
        edit_link = waiting[-1] if waiting else None
        return OrderDetails(record, events, notified, returns, url, versions, edit_link, documents)

    def messages(self, order_id: str) -> list[ChannelMessage]:
        """Every payload received about the order, oldest first (already redacted when kept)."""
        with self._units(read_only=True) as uow:
            messages = uow.messages.for_order(order_id)
            if not messages and uow.orders.get(order_id) is None:
                raise NotFound(f"no order {order_id}")
        return messages


def _as_placed(record: OrderRecord) -> OrderVersion:
    """An order never edited has one version: as its channel placed it."""
    return OrderVersion(
        1, ("placed",), record.channel, "", record.placed_at, Money(record.total_minor, record.currency)
    )
