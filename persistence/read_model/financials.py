"""The money figures staff ask for "right now" and for a period, per currency, by SQL over the
payments, orders, returns, goodwill and store-credit tables.

Now (whatever happened up to this moment):
- captured / refunded: what our gateway took and gave back on every payment;
- outstanding authorizations: authorized, not yet captured or voided, on orders still open;
- marketplace receivables, per channel: what a marketplace (domain.return_lifecycle.MARKETPLACES)
  collected for orders we shipped, less what it refunded on their returns (we record no payout
  from a marketplace, so this is what it owes us before its fees);
- store credit outstanding: issued and given back, less spent and expired (the ledger's sums).

For a period [since, until), what happened in it: captured and refunded through our gateway in it
(the dated payment ledger, persistence.models.PaymentMovement: every capture and every refund,
whether for a return, goodwill, an edit or a cancellation), a channel's refund when the return was
asked for (as the after-sales figures count them), marketplace receivables of orders shipped in it,
store credit issued and spent in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from domain.payments import PaymentStatus
from domain.return_lifecycle import MARKETPLACES
from domain.returns import ReturnStatus
from domain.status import TERMINAL, OrderStatus
from domain.store_credit import CreditEntryKind
from persistence.models import (
    OrderRecord,
    PaymentMovement,
    PaymentRecord,
    ReturnRecord,
    StoreCreditEntry,
)
from persistence.read_model.product_performance import without_jit


def _all(session: Session, statement: Any) -> list[Any]:
    return list(session.execute(statement).all())


HOLDING = (PaymentStatus.AUTHORIZED.value, PaymentStatus.PARTIALLY_CAPTURED.value)
"""Payment statuses with money still held on the card."""
GOODWILL_REFUNDED = "REFUNDED"


@dataclass(frozen=True)
class Receivable:
    channel: str
    currency: str
    orders: int
    collected_minor: int
    """Order totals of the shipped orders the marketplace took the money for."""
    refunded_minor: int
    """What the marketplace refunded on their returns."""

    @property
    def outstanding_minor(self) -> int:
        return self.collected_minor - self.refunded_minor


@dataclass(frozen=True)
class CurrencyFigures:
    currency: str
    captured_minor: int = 0
    refunded_minor: int = 0
    """Refunded through our gateway (returns, goodwill, orders paid at checkout that did not ship)."""
    refunded_on_channel_minor: int = 0
    """Refunded by the channel that took the money (marketplace returns)."""
    authorized_open_minor: int = 0
    """Now only: held on cards for orders still open."""
    authorizations_open: int = 0
    store_credit_issued_minor: int = 0
    store_credit_spent_minor: int = 0
    """Spent less given back (a spend reversed when its order was cancelled)."""
    store_credit_outstanding_minor: int = 0
    """Now only: what customers may still spend (issued + given back - spent - expired)."""


@dataclass(frozen=True)
class Financials:
    by_currency: list[CurrencyFigures] = field(default_factory=list)
    receivables: list[Receivable] = field(default_factory=list)


def _marketplace_shipped(window: ColumnElement[bool] | None) -> ColumnElement[bool]:
    shipped = and_(
        OrderRecord.channel.in_(sorted(MARKETPLACES)),
        OrderRecord.payment_collected.is_(True),
        OrderRecord.shipped_at.is_not(None),
        OrderRecord.status != OrderStatus.CANCELLED.value,
    )
    return shipped if window is None else and_(shipped, window)


def receivables(session: Session, since: datetime | None, until: datetime | None) -> list[Receivable]:
    window = (
        None
        if since is None or until is None
        else and_(OrderRecord.shipped_at >= since, OrderRecord.shipped_at < until)
    )
    collected = session.execute(
        select(OrderRecord.channel, OrderRecord.currency, func.count(), func.sum(OrderRecord.total_minor))
        .where(_marketplace_shipped(window))
        .group_by(OrderRecord.channel, OrderRecord.currency)
    ).all()
    refunded = dict(
        ((channel, currency), int(total or 0))
        for channel, currency, total in session.execute(
            select(OrderRecord.channel, ReturnRecord.currency, func.sum(ReturnRecord.refund_minor))
            .join(OrderRecord, OrderRecord.order_id == ReturnRecord.order_id)
            .where(_marketplace_shipped(window), ReturnRecord.status == ReturnStatus.REFUND_ON_CHANNEL.value)
            .group_by(OrderRecord.channel, ReturnRecord.currency)
        ).all()
    )
    keys = {(ch, cur) for ch, cur, _, _ in collected} | set(refunded)
    counts = {(ch, cur): (int(n), int(total or 0)) for ch, cur, n, total in collected}
    return [
        Receivable(
            ch, cur, counts.get((ch, cur), (0, 0))[0], counts.get((ch, cur), (0, 0))[1], refunded.get((ch, cur), 0)
        )
        for ch, cur in sorted(keys)
    ]


def _credit_sums(session: Session, since: datetime | None, until: datetime | None) -> dict[str, dict[str, int]]:
    where = [] if since is None or until is None else [StoreCreditEntry.at >= since, StoreCreditEntry.at < until]
    rows = session.execute(
        select(StoreCreditEntry.currency, StoreCreditEntry.kind, func.sum(StoreCreditEntry.amount_minor))
        .where(*where)
        .group_by(StoreCreditEntry.currency, StoreCreditEntry.kind)
    ).all()
    sums: dict[str, dict[str, int]] = {}
    for currency, kind, total in rows:
        sums.setdefault(currency, {})[kind] = int(total or 0)
    return sums


def _now(session: Session) -> dict[str, dict[str, int]]:
    figures: dict[str, dict[str, int]] = {}
    held = PaymentRecord.authorized_minor - PaymentRecord.captured_minor - PaymentRecord.voided_minor
    is_open = and_(
        PaymentRecord.status.in_(HOLDING), OrderRecord.status.not_in(sorted(s.value for s in TERMINAL)), held > 0
    )
    for currency, captured, refunded, open_minor, open_count in _all(
        session,
        select(
            PaymentRecord.currency,
            func.sum(PaymentRecord.captured_minor),
            func.sum(PaymentRecord.refunded_minor),
            func.sum(case((is_open, held), else_=0)),
            func.count(case((is_open, 1))),
        )
        .join(OrderRecord, OrderRecord.order_id == PaymentRecord.order_id)
        .group_by(PaymentRecord.currency),
    ):
        figures[currency] = {
            "captured_minor": int(captured or 0),
            "refunded_minor": int(refunded or 0),
            "authorized_open_minor": int(open_minor or 0),
            "authorizations_open": int(open_count or 0),
        }
    for currency, total in _all(
        session,
        select(ReturnRecord.currency, func.sum(ReturnRecord.refund_minor))
        .where(ReturnRecord.status == ReturnStatus.REFUND_ON_CHANNEL.value)
        .group_by(ReturnRecord.currency),
    ):
        figures.setdefault(currency, {})["refunded_on_channel_minor"] = int(total or 0)
    return figures


def _in_period(session: Session, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
    figures: dict[str, dict[str, int]] = {}
    moved = and_(PaymentMovement.at >= since, PaymentMovement.at < until)
    for currency, captured, refunded in _all(
        session,
        select(
            PaymentMovement.currency,
            func.sum(case((PaymentMovement.kind == "captured", PaymentMovement.amount_minor), else_=0)),
            func.sum(case((PaymentMovement.kind == "refunded", PaymentMovement.amount_minor), else_=0)),
        )
        .where(moved)
        .group_by(PaymentMovement.currency),
    ):
        row = figures.setdefault(currency, {})
        row["captured_minor"] = int(captured or 0)
        row["refunded_minor"] = int(refunded or 0)
    on_channel = and_(
        ReturnRecord.status == ReturnStatus.REFUND_ON_CHANNEL.value,
        ReturnRecord.created_at >= since,
        ReturnRecord.created_at < until,
    )
    for currency, channels in _all(
        session,
        select(ReturnRecord.currency, func.sum(ReturnRecord.refund_minor))
        .where(on_channel)
        .group_by(ReturnRecord.currency),
    ):
        figures.setdefault(currency, {})["refunded_on_channel_minor"] = int(channels or 0)
    return figures


def financials(session: Session, since: datetime | None, until: datetime | None) -> Financials:
    """Now when `since`/`until` are None; else what happened in [since, until)."""
    without_jit(session)
    figures = _now(session) if since is None or until is None else _in_period(session, since, until)
    for currency, kinds in _credit_sums(session, since, until).items():
        row = figures.setdefault(currency, {})
        issued, spent = kinds.get(CreditEntryKind.ISSUE.value, 0), kinds.get(CreditEntryKind.SPEND.value, 0)
        given_back, expired = kinds.get(CreditEntryKind.REVERSE.value, 0), kinds.get(CreditEntryKind.EXPIRE.value, 0)
        row["store_credit_issued_minor"] = issued
        row["store_credit_spent_minor"] = spent - given_back
        if since is None:
            row["store_credit_outstanding_minor"] = issued + given_back - spent - expired
    return Financials(
        by_currency=[CurrencyFigures(currency, **values) for currency, values in sorted(figures.items())],
        receivables=receivables(session, since, until),
    )
