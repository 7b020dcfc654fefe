"""Goodwill without a return: one short GoodwillWorkflow per request carries out what support's
request reserved (services.goodwill), refunding through the gateway or issuing store credit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import activity

from domain.goodwill import GoodwillForm
from domain.money import Money


class GoodwillStatus:
    RESERVED = "RESERVED"
    """Checked and held against what is left on the order; not given yet."""
    REFUNDED = "REFUNDED"
    CREDITED = "CREDITED"
    REFUSED = "REFUSED"
    """The gateway refused the refund: nothing was given, and the amount is free again."""


@dataclass
class GoodwillInput:
    goodwill_id: str
    """Also the workflow id: goodwill-<order id>-<request key> (no personal data)."""
    order_id: str
    form: GoodwillForm


@dataclass
class GoodwillStep:
    goodwill_id: str
    at: datetime
    why: str = ""
    """For close_goodwill: why it was refused."""


@dataclass
class GoodwillResult:
    goodwill_id: str
    status: str
    amount: Money


class GoodwillSteps:
    """The goodwill activities (activities.goodwill implements them)."""

    @activity.defn
    def refund_goodwill(self, data: GoodwillStep) -> GoodwillResult:
        raise NotImplementedError

    @activity.defn
    def credit_goodwill(self, data: GoodwillStep) -> GoodwillResult:
        raise NotImplementedError

    @activity.defn
    def refuse_goodwill(self, data: GoodwillStep) -> GoodwillResult:
        raise NotImplementedError
