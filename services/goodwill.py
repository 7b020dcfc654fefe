"""Goodwill without a return (support): money back or store credit on a shipped order, with a
reason, never more than the customer still has with us on it (domain.goodwill).

The request is checked and reserved under the order's lock in one transaction (so two at once
cannot both take what is left), then a GoodwillWorkflow carries it out exactly once. Its id is
goodwill-<order id>-<request key>: the Idempotency-Key a client sends, so a resent request finds
the first one, or a fresh key."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.goodwill import GoodwillInput
from domain.goodwill import GoodwillForm, GoodwillRefusalKind, GoodwillRefused
from domain.money import Money
from persistence.guarded_writes.goodwill import RefundOnChannel, Reserved
from services.errors import Conflict, NotFound, Unprocessable
from services.gateway import WorkflowGateway
from services.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class GoodwillGiven:
    goodwill_id: str
    status: str
    amount: Money
    form: GoodwillForm
    duplicate: bool


class GoodwillDesk:
    def __init__(self, units: UnitOfWorkFactory, workflows: WorkflowGateway, task_queue: str) -> None:
        self._units = units
        self._workflows = workflows
        self._task_queue = task_queue

    async def give(
        self, order_id: str, form: GoodwillForm, amount: Money, reason: str, given_by: str, request_key: str = ""
    ) -> GoodwillGiven:
        """Reserve, then start the workflow that gives it. The engine is reached first, so nothing
        is reserved while it is away (EngineUnavailable, 503)."""
        await self._workflows.connect()
        goodwill_id = f"goodwill-{order_id}-{request_key or uuid.uuid4().hex}"
        reserved = await asyncio.to_thread(self._reserve, goodwill_id, order_id, form, amount, reason, given_by)
        record = reserved.record
        await self._workflows.start_goodwill(
            GoodwillInput(goodwill_id, order_id, GoodwillForm(record.form)), task_queue=self._task_queue
        )
        return GoodwillGiven(
            goodwill_id,
            record.status,
            Money(record.amount_minor, record.currency),
            GoodwillForm(record.form),
            duplicate=not reserved.new,
        )

    def _reserve(
        self, goodwill_id: str, order_id: str, form: GoodwillForm, amount: Money, reason: str, given_by: str
    ) -> Reserved:
        with self._units() as uow:
            try:
                reserved = uow.orders.reserve_goodwill(
                    goodwill_id=goodwill_id,
                    order_id=order_id,
                    form=form,
                    amount=amount,
                    reason=reason,
                    given_by=given_by,
                    at=datetime.now(UTC),
                )
            except GoodwillRefused as exc:
                facts: dict[str, object] = {"refusal": exc.kind.value}
                if exc.most is not None:
                    facts["most"] = {"amount_minor": exc.most.amount_minor, "currency": exc.most.currency}
                if exc.kind is GoodwillRefusalKind.NOT_SHIPPED:
                    raise Conflict(str(exc), **facts) from None
                raise Unprocessable(str(exc), **facts) from None
            except RefundOnChannel as exc:
                raise Conflict(str(exc), refusal="refund_on_channel") from None
            if reserved is None:
                raise NotFound(f"no order {order_id}")
            uow.commit()
        return reserved
