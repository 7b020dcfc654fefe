"""Deliver available-to-promise from the outbox to every channel's feed, and wake backorders."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from contracts.channels import PublishStockResult
from contracts.order_workflow import StockAvailable
from domain.backorders import orders_to_wake
from domain.routing import PartialPolicy
from integrations.channels.base import StockFeed
from persistence.db import SessionFactory, readers_of
from persistence.guarded_writes.stock_outbox import atp_by_sku
from persistence.master_data.channels import PolicyCache
from persistence.models import ChannelStockLevel, StockOutbox, utcnow
from persistence.read_model import backorders
from persistence.read_model.returns import exchanges_waiting
from persistence.unit_of_work import UnitOfWork
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow

log = logging.getLogger("oms.stock_feed")


@dataclass
class _Pass:
    delivered: int = 0
    failed: int = 0
    restocked: set[str] = field(default_factory=set)
    """SKUs delivered this pass that some channel may sell again: only they can serve a backorder."""


class StockFeedActivities:
    """Available-to-promise out to every channel's feed, and backorders woken by what it frees;
    run as part of each stock-feed pass (activities.outboxes)."""

    def __init__(
        self,
        session_factory: SessionFactory,
        feeds: Mapping[str, StockFeed],
        client: Client,
        policies: PolicyCache | None = None,
    ) -> None:
        """`policies`: the worker's cache of channel policies (a fresh one when not given)."""
        self._session_factory = session_factory
        self._feeds = feeds
        self._client = client
        self._policies = policies or PolicyCache()

    async def publish_stock_updates(self, batch_size: int) -> PublishStockResult:
        result = await asyncio.to_thread(self._deliver, batch_size)
        woken = await self.wake_backorders(result.restocked) if result.restocked else 0
        return PublishStockResult(result.delivered, result.failed, woken)

    def _deliver(self, batch_size: int) -> _Pass:
        """Deliver the SKUs of the oldest pending outbox rows, each at its current ATP."""
        outcome = _Pass()
        with UnitOfWork(readers_of(self._session_factory)) as uow:  # reads only: no write lock on SQLite
            pending = uow.session.execute(
                select(StockOutbox.id, StockOutbox.sku)
                .where(StockOutbox.delivered_at.is_(None))
                .order_by(StockOutbox.id)
                .limit(batch_size)
            ).all()
            by_sku: dict[str, list[int]] = {}
            for outbox_id, sku in pending:
                by_sku.setdefault(sku, []).append(outbox_id)
            current = atp_by_sku(uow.session, by_sku, self._policies.all(uow.session))
        for sku, ids in by_sku.items():
            if self._send(sku, current[sku], ids):
                outcome.delivered += len(ids)
                if any(units > 0 for units in current[sku].values()):
                    outcome.restocked.add(sku)
            else:
                outcome.failed += 1
        return outcome

    def _send(self, sku: str, atp: dict[str, int], ids: list[int]) -> bool:
        """Push one SKU's ATP to every channel whose last value differs, then record what was sent
        (and the rows as delivered) in one transaction. Sequences only grow per channel and SKU.
        A channel that fails does not hold up the others; False keeps the rows pending, and the
        retry sends the then-current value. No transaction is open while a channel is called."""
        with UnitOfWork(readers_of(self._session_factory)) as uow:
            last_sent = {
                channel: (quantity, sequence)
                for channel, quantity, sequence in uow.session.execute(
                    select(ChannelStockLevel.channel, ChannelStockLevel.quantity, ChannelStockLevel.sequence).where(
                        ChannelStockLevel.sku == sku
                    )
                )
            }
        sent: dict[str, tuple[int, int]] = {}
        failures = []
        for channel, quantity in sorted(atp.items()):
            feed = self._feeds.get(channel)
            last = last_sent.get(channel)
            if feed is None or (last is not None and last[0] == quantity):
                continue
            sequence = max(max(ids), last[1] + 1 if last else 0)
            try:
                feed.push(sku, quantity, sequence)
            except Exception as exc:
                log.warning("stock feed %s failed for %s: %s", channel, sku, exc)
                failures.append(f"{channel}: {exc}")
                continue
            sent[channel] = (quantity, sequence)
        with UnitOfWork(self._session_factory) as uow:
            for channel, (quantity, sequence) in sent.items():
                level = uow.session.get(ChannelStockLevel, (channel, sku))
                if level is None:
                    level = ChannelStockLevel(channel=channel, sku=sku, quantity=quantity, sequence=sequence)
                    uow.session.add(level)
                else:
                    level.quantity, level.sequence, level.sent_at = quantity, sequence, utcnow()
            rows = {row.id: row for row in uow.session.scalars(select(StockOutbox).where(StockOutbox.id.in_(ids)))}
            newest = rows[max(ids)]
            newest.atp = atp  # what the channels were brought to (the audit of this delivery)
            if failures:
                newest.attempts += 1
                newest.last_error = "; ".join(failures)[:1000]
            else:
                now = utcnow()
                for row in rows.values():
                    row.delivered_at = now
            uow.commit()
        return not failures

    async def wake_backorders(self, skus: set[str] | None = None) -> int:
        """Signal the backordered orders that the stock of `skus` (None: of anything) can serve now
        (domain.backorders: not every order waiting on a SKU that moved), and the exchanges waiting
        for a replacement of one of them (the return's workflow tries to reserve it again). Returns
        how many."""
        servable = await asyncio.to_thread(self._servable_orders, skus)
        woken = await self._wake_exchanges(skus)
        for order_id, sku in servable:
            try:
                await self._client.get_workflow_handle(order_id).signal(
                    OrderWorkflow.stock_available, StockAvailable(sku)
                )
                woken += 1
            except RPCError as exc:
                if exc.status is RPCStatusCode.NOT_FOUND:  # the order is gone: nobody waits any more
                    await asyncio.to_thread(self._forget_wait, order_id)
                else:
                    raise
        return woken

    async def _wake_exchanges(self, skus: set[str] | None) -> int:
        """A waiting exchange checks again on its own every so often; a restock wakes it at once."""

        def waiting() -> list[str]:
            with UnitOfWork(readers_of(self._session_factory)) as uow:
                return exchanges_waiting(uow.session, skus)

        woken = 0
        for return_id in await asyncio.to_thread(waiting):
            try:
                await self._client.get_workflow_handle(return_id).signal(ReturnWorkflow.stock_available)
                woken += 1
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:  # gone: it was settled some other way
                    raise
        return woken

    def _servable_orders(self, skus: set[str] | None) -> list[tuple[str, str]]:
        with UnitOfWork(readers_of(self._session_factory)) as uow:
            waits = backorders.waiting(uow.session, skus)
            if not waits:
                return []
            policies = self._policies.all(uow.session)
            atp = atp_by_sku(uow.session, {wait.sku for wait in waits}, policies)
            partial = frozenset(
                policy.channel for policy in policies if policy.routing.partial is PartialPolicy.SHIP_AVAILABLE
            )
        return orders_to_wake(waits, atp, ships_what_it_has=partial)

    def _forget_wait(self, order_id: str) -> None:
        with UnitOfWork(self._session_factory) as uow:
            backorders.forget(uow.session, order_id)
            uow.commit()
