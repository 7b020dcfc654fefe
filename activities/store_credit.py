"""Store credit activities: issue credit once per key, give back what a cancelled order spent, and
the expiry run. Each is one short transaction under the account's lock (services.store_credit)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.errors import ErrorType
from contracts.store_credit import (
    ExpireCreditInput,
    ExpireCreditResult,
    IssueCreditInput,
    IssueCreditResult,
    ReverseCreditInput,
    ReverseCreditResult,
    StoreCredit,
)
from persistence.db import SessionFactory
from services.errors import ServiceError
from services.store_credit import CreditAccounts
from services.unit_of_work import units_on


class StoreCreditActivities(StoreCredit):
    def __init__(self, session_factory: SessionFactory, expiry: timedelta | None = None) -> None:
        """`expiry`: settings.store_credit_expiry, stamped on each issue (None: credit never expires)."""
        self._accounts = CreditAccounts(units_on(session_factory), expiry)

    @activity.defn
    def issue_store_credit(self, data: IssueCreditInput) -> IssueCreditResult:
        """Issue credit (a new lot) keyed by data.entry_id: a retry issues nothing more and answers
        the same entry. Refused for good (CreditRefused) for an order or address we cannot credit."""
        try:
            return self._accounts.issue(data)
        except ServiceError as exc:
            raise ApplicationError(
                exc.message, str(exc.facts.get("refusal", "invalid")), type=ErrorType.CREDIT_REFUSED, non_retryable=True
            ) from None

    @activity.defn
    def reverse_store_credit(self, data: ReverseCreditInput) -> ReverseCreditResult:
        """Give back to the customer's account what the order spent and has not had back (or at most
        data.amount of it); a retry with the same key gives nothing more."""
        return self._accounts.reverse_order(data.order_id, data.idempotency_key, data.at, data.amount, data.why)

    @activity.defn
    def expire_store_credit(self, data: ExpireCreditInput) -> ExpireCreditResult:
        return self._accounts.expire_due(data.at)
