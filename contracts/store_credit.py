"""Store credit as workflows use it: issue credit (a return resolved as credit, an exchange's
difference, goodwill), give back what a cancelled order spent, and the daily expiry run.

Every write is keyed by `entry_id` (an idempotency key the caller derives from its workflow, e.g.
"order-webshop-1001:credit-return-2"): a retried activity writes nothing more and answers what the
first attempt wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from temporalio import activity

from domain.money import Money
from domain.store_credit import CreditReason


@dataclass
class IssueCreditInput:
    entry_id: str
    amount: Money
    reason: CreditReason
    at: datetime
    order_id: str = ""
    """The order the credit comes from. Without `email`, the customer is the order's, at the shop of
    the order's channel: callers on an order never carry the address through workflow histories."""
    email: str = ""
    shop: str = ""
    """Without `order_id`: whose account, at which shop (domain.channels.ChannelPolicy.shop)."""
    note: str = ""
    issued_by: str = ""
    """The staff member who gave it (a label, as on the timeline); "" for the engine."""


@dataclass
class IssueCreditResult:
    entry_id: str
    amount: Money
    expires_at: datetime | None
    balance: Money
    """What the customer can spend after this issue."""
    new: bool = True
    """False: this entry was already in the ledger (a retry); nothing more was issued."""


@dataclass
class ReverseCreditInput:
    order_id: str
    idempotency_key: str
    at: datetime
    amount: Money | None = None
    """At most this much (an edit lowered the order below the credit it spent); None: all that the
    order spent and has not had back (a cancellation)."""
    why: str = ""
    """For the order's timeline, e.g. "edit, version 2"."""


@dataclass
class ReverseCreditResult:
    given_back: list[Money] = field(default_factory=list)
    """What went back to the customer's account (nothing: the order spent no credit, or it had it back)."""


@dataclass
class ExpireCreditInput:
    at: datetime


@dataclass
class ExpireCreditResult:
    accounts: int
    entries: int


class StoreCredit:
    """The store credit activities (activities.store_credit implements them)."""

    @activity.defn
    def issue_store_credit(self, data: IssueCreditInput) -> IssueCreditResult:
        raise NotImplementedError

    @activity.defn
    def reverse_store_credit(self, data: ReverseCreditInput) -> ReverseCreditResult:
        raise NotImplementedError

    @activity.defn
    def expire_store_credit(self, data: ExpireCreditInput) -> ExpireCreditResult:
        raise NotImplementedError
