"""What the staff screens show of returns beyond services.returns: one return with its history and
label and the dispositions to suggest, and the returns desk's lists for a person's locations.
Every step (approve, receive, dispose, ...) still goes through services.returns to the workflow."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from domain.return_lifecycle import Condition, DispositionLine, Receipt, suggested_dispositions
from persistence.read_model.return_labels import ReturnLabelView
from services.errors import NotFound
from services.returns import ReturnSummary
from services.unit_of_work import UnitOfWorkFactory

DESK_ROWS = 100
"""Most returns a desk list shows (the oldest first: those are looked for first)."""


@dataclass(frozen=True)
class ReturnNote:
    """One line of the return's history, from the order's timeline: what happened, by whom."""

    at: datetime
    kind: str
    detail: str


@dataclass(frozen=True)
class ReturnPage:
    summary: ReturnSummary
    history: list[ReturnNote]
    label: ReturnLabelView | None
    """The return label (ready, pending, refused, none), None when none was asked for."""
    shipped_from: list[str]
    """Where the order's goods left from: where the parcel is expected."""

    @property
    def suggested(self) -> tuple[DispositionLine, ...]:
        """The dispositions the dispose form starts from (domain.return_lifecycle.SUGGESTED)."""
        return suggested_dispositions(receipt_of(self.summary))


def receipt_of(summary: ReturnSummary) -> Receipt:
    by_condition = {sku: {Condition(c): n for c, n in units.items()} for sku, units in summary.received.items()}
    return Receipt(by_condition=by_condition, short=dict(summary.short))


class ReturnScreens:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

    def page(self, return_id_or_rma: str) -> ReturnPage:
        """One return by its id or RMA, with what its screens show (NotFound): an exchange's
        difference and every shipment its replacement went out as, as GET /returns/{id} has them."""
        with self._units(read_only=True) as uow:
            record = uow.returns.find(return_id_or_rma.strip())
            if record is None or record.state is None:
                raise NotFound(f"no return {return_id_or_rma}")
            summary = ReturnSummary.of(
                record,
                uow.returns.difference_payment(record),
                uow.returns.replacement_shipments(record),
                links=uow.payments.links_of(record.return_id),
            )
            marks = (summary.return_id, summary.rma)
            history = [
                ReturnNote(event.at, event.kind, event.detail)
                for event in uow.orders.events(summary.order_id)
                if event.kind.startswith(("return", "payment_link"))
                and any(mark and mark in event.detail for mark in marks)
            ]
            label = uow.returns.label(summary.return_id)
            order = uow.orders.get(summary.order_id)
            shipped_from = sorted({s.location_id for s in order.shipments}) if order is not None else []
        return ReturnPage(summary, history, label, shipped_from)

    def desk(self, location_ids: Collection[str]) -> tuple[list[ReturnSummary], list[ReturnSummary]]:
        """(expected at these locations, received there and waiting for dispositions)."""
        with self._units(read_only=True) as uow:
            expected = uow.returns.expected_at(location_ids, limit=DESK_ROWS)
            to_dispose = uow.returns.to_dispose_at(location_ids, limit=DESK_ROWS)
            return [ReturnSummary.of(r) for r in expected], [ReturnSummary.of(r) for r in to_dispose]
