"""Store credit: a customer's balance per shop (domain.store_credit) kept in an append-only ledger.

Issued by the engine (returns resolved as credit, exchanges, goodwill: the activity in
activities.store_credit) or by support by hand with a reason; spent when POST /orders says an order
pays (part of) its total with it (services.intake, in the transaction that records the order);
given back when that order is cancelled; expired by the daily run (OMS_STORE_CREDIT_EXPIRY).
The customer's address is the account's key: it is never logged, and never in a workflow id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from contracts.store_credit import (
    ExpireCreditResult,
    IssueCreditInput,
    IssueCreditResult,
    ReverseCreditResult,
)
from domain.money import Money
from domain.order import Order
from domain.store_credit import (
    CreditAccount,
    CreditReason,
    CreditRefusalKind,
    CreditRefused,
    CreditSummary,
    account_for,
    balance,
    summary,
)
from persistence.models import StoreCreditEntry
from services.errors import Conflict, NotFound, ServiceError, Unprocessable
from services.unit_of_work import AbstractUnitOfWork, UnitOfWorkFactory

_CONFLICTS = frozenset({CreditRefusalKind.NOT_DUE, CreditRefusalKind.TOO_MUCH})


def spend_entry_id(order_id: str) -> str:
    """The one spend an order makes: a second delivery of the order finds it and spends nothing."""
    return f"{order_id}:credit-spend"


def refused(exc: CreditRefused) -> ServiceError:
    """The HTTP-facing refusal: 409 for a state that may change, else 422 (with what is available)."""
    facts: dict[str, object] = {"refusal": exc.kind.value}
    if exc.available is not None:
        facts["available"] = {"amount_minor": exc.available.amount_minor, "currency": exc.available.currency}
    if exc.kind in _CONFLICTS:
        return Conflict(str(exc), **facts)
    return Unprocessable(str(exc), **facts)


@dataclass(frozen=True)
class CreditStatement:
    """One customer's credit at one shop, as support reads it."""

    shop: str
    account: CreditAccount | None
    """None: the customer never had credit at this shop."""
    summary: CreditSummary | None
    entries: list[StoreCreditEntry]
    """Newest first."""


def spend_on_order(uow: AbstractUnitOfWork, order: Order, shop: str, at: datetime) -> bool:
    """In the caller's transaction: spend what `order.store_credit` says from the customer's account
    at `shop`; False when this order already spent it (a repeated delivery). CreditRefused
    (INSUFFICIENT with the available amount, INVALID without an address) when it cannot."""
    assert order.store_credit is not None
    account = account_for(shop, order.customer_email, order.currency)
    written = uow.credit.spend(
        account, entry_id=spend_entry_id(order.order_id), amount=order.store_credit, at=at, order_id=order.order_id
    )
    return written.new


class CreditAccounts:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        expiry: timedelta | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._units = units
        self._expiry = expiry
        self._clock = clock

    def statement(self, email: str, shop: str) -> CreditStatement:
        """Balance and ledger of whoever orders with `email` at `shop` (Unprocessable: no address)."""
        try:
            key = account_for(shop, email, "EUR").customer  # the currency is not part of the key
        except CreditRefused as exc:
            raise refused(exc) from None
        with self._units(read_only=True) as uow:
            account = uow.credit.account(shop.strip(), key)
            if account is None:
                return CreditStatement(shop.strip(), None, None, [])
            entries = uow.credit.entries(account)
            rows = uow.credit.rows(account)
        return CreditStatement(account.shop, account, summary(account, entries, self._clock()), rows)

    def of_order_customer(self, email: str, channel: str) -> CreditStatement | None:
        """The credit of an order's customer at the shop of the order's channel (support's order
        page); None for an order without an address."""
        if not email.strip():
            return None
        with self._units(read_only=True) as uow:
            shop = uow.channels.policy(channel).shop
        try:
            return self.statement(email, shop)
        except ServiceError:
            return None

    def issue_by_hand(
        self, email: str, shop: str, amount: Money, reason: str, issued_by: str, request_key: str = ""
    ) -> IssueCreditResult:
        """Support gives credit with a reason (an adjustment, noted with who gave it). `request_key`
        (the Idempotency-Key header) makes a resent request issue nothing more."""
        if not reason.strip():
            raise Unprocessable("credit given by hand needs a reason", refusal=CreditRefusalKind.INVALID.value)
        key = f"manual:{request_key}" if request_key else f"manual:{uuid.uuid4().hex}"
        data = IssueCreditInput(
            entry_id=key,
            amount=amount,
            reason=CreditReason.ADJUSTMENT,
            at=self._clock(),
            email=email,
            shop=shop,
            note=reason,
            issued_by=issued_by,
        )
        return self.issue(data)

    def issue(self, data: IssueCreditInput) -> IssueCreditResult:
        """Issue credit once per `entry_id`; ServiceError says why not (NotFound: no such order)."""
        expires_at = data.at + self._expiry if self._expiry else None
        with self._units() as uow:
            account = self._account(uow, data)
            try:
                written = uow.credit.issue(
                    account,
                    entry_id=data.entry_id,
                    amount=data.amount,
                    at=data.at,
                    reason=data.reason,
                    note=data.note,
                    expires_at=expires_at,
                    order_id=data.order_id,
                    actor=data.issued_by,
                )
            except CreditRefused as exc:
                raise refused(exc) from None
            if written.new and data.order_id:
                who = f" by {data.issued_by}" if data.issued_by else ""
                why = f": {data.note}" if data.note else ""
                detail = f"{written.entry.amount.format()} store credit issued ({data.reason.value}){who}{why}"
                uow.orders.add_event(data.order_id, "store_credit:issued", detail, data.at)
            entries = uow.credit.entries(account)
            uow.commit()
        entry = written.entry
        return IssueCreditResult(
            entry.entry_id, entry.amount, entry.expires_at, balance(account, entries, data.at), written.new
        )

    def _account(self, uow: AbstractUnitOfWork, data: IssueCreditInput) -> CreditAccount:
        email, shop = data.email, data.shop
        if data.order_id and not email:
            order = uow.orders.get(data.order_id)
            if order is None:
                raise NotFound(f"no order {data.order_id}")
            email = order.customer_email
            shop = shop or uow.channels.policy(order.channel).shop
        try:
            return account_for(shop, email, data.amount.currency)
        except CreditRefused as exc:
            raise refused(exc) from None

    def reverse_order(
        self, order_id: str, key: str, at: datetime, amount: Money | None = None, why: str = ""
    ) -> ReverseCreditResult:
        """Give back what the order spent and has not had back (the order was cancelled), or at
        most `amount` of it (an edit lowered the order below the credit it spent)."""
        with self._units() as uow:
            written = uow.credit.reverse_order(order_id, entry_id=key, at=at, amount=amount)
            for item in written:
                if item.new:
                    detail = f"{item.entry.amount.format()} store credit given back" + (f" ({why})" if why else "")
                    uow.orders.add_event(order_id, "store_credit:reversed", detail, at)
            uow.commit()
        return ReverseCreditResult([item.entry.amount for item in written])

    def expire_due(self, at: datetime) -> ExpireCreditResult:
        """Write off what is left of every lot past its expiry at `at`: one transaction per account,
        so one account's trouble holds up no other; a repeated run writes nothing more."""
        with self._units(read_only=True) as uow:
            accounts = uow.credit.accounts_expiring(at)
        written = 0
        for account in accounts:
            with self._units() as uow:
                written += len(uow.credit.expire(account, at))
                uow.commit()
        return ExpireCreditResult(len(accounts), written)
