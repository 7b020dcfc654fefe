"""A marketplace's own returns: pulled from the channel and opened here once each, and handled back at
the channel after the goods were received and given a disposition (bol.com's Returns API).

The money stays with the channel (REFUND_ON_CHANNEL): bol refunds its customer when we report the goods
received. Opening a return goes through a port (`ReturnOpener`: services.returns.Returns in the worker),
so the pull does not care how the return's own workflow is started.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.channel_pull import MAPPING_ERRORS, channel_failure, while_heartbeating, why_not_mapped
from contracts.channel_returns import (
    ChannelReturnPulls,
    ChannelReturns,
    HandleChannelReturnInput,
    PullReturnsInput,
    PullReturnsResult,
)
from contracts.errors import ErrorType
from contracts.returns import ReturnAccepted, ReturnRequest
from domain.marketplace_returns import handling_for
from integrations.channels.audit import audit_text
from integrations.channels.base import PulledReturn, ReturnDesk, ReturnPage, SkuResolver
from integrations.channels.errors import ChannelAuthFailed, ChannelError, ChannelRejected
from persistence.db import SessionFactory
from persistence.guarded_writes.idempotency import Done, run_once, stored_result
from persistence.master_data.catalogue import resolver_for
from persistence.models import OrderRecord
from persistence.read_model import orders as order_store
from persistence.read_model.channel_messages import keep_message
from persistence.unit_of_work import UnitOfWork
from services.errors import ServiceError, Unavailable

log = logging.getLogger("oms.channel_returns")

AUDIT_KIND = "return pull"
HANDLED = "return_handled_on_channel"
NOT_HANDLED = "return_not_handled_on_channel"
"""The timeline's word for a channel return a person must settle in the channel's dashboard."""
EVENT_DETAIL_LIMIT = 1000


class ReturnOpener(Protocol):
    """Opens a channel's return on its order here, once per external RMA (services.returns.Returns)."""

    async def open_channel_return(self, order_id: str, request: ReturnRequest) -> ReturnAccepted: ...


@dataclass
class ReturnTaken:
    """What became of one listed return item: stored under its RMA so a later pull leaves it be."""

    outcome: str
    order_id: str | None = None
    return_id: str | None = None


def taken_key(channel: str, external_rma: str) -> str:
    return f"channel-return:{channel}:{external_rma}"


def handled_key(return_id: str) -> str:
    return f"channel-return-handled:{return_id}"


class ChannelReturnActivities(ChannelReturnPulls, ChannelReturns):
    def __init__(
        self, session_factory: SessionFactory, desks: Mapping[str, ReturnDesk], opener: ReturnOpener | None
    ) -> None:
        """`desks`: the channels whose returns we pull and handle (integrations.channels.registry);
        `opener`: None on a worker that cannot open returns (then nothing is pulled)."""
        self._session_factory = session_factory
        self._desks = desks
        self._opener = opener

    # --- in: the channel's open returns, each opened here once -------------------------------------

    @activity.defn
    async def pull_channel_returns(self, data: PullReturnsInput) -> PullReturnsResult:
        """Read every page of the channel's open returns and open each new one. Safe to retry at any
        point: what was taken is stored per RMA before the next item, and opening is idempotent per
        RMA as well (the return's workflow id)."""
        desk = self._desks.get(data.channel)
        if desk is None or self._opener is None:
            return PullReturnsResult(channel=data.channel, supported=False)
        result = PullReturnsResult(channel=data.channel)
        resolve = resolver_for(self._session_factory, data.channel)
        for page in range(1, max(data.max_pages, 1) + 1):
            listed = await while_heartbeating(_returns_page, desk, page, data.channel)
            result.pages += 1
            for item in listed.items:
                result.listed += 1
                await self._take(data.channel, desk, self._opener, resolve, item, result)
            activity.heartbeat(result.pages)
            if not listed.more:
                break
        return result

    async def _take(
        self,
        channel: str,
        desk: ReturnDesk,
        opener: ReturnOpener,
        resolve: SkuResolver,
        item: PulledReturn,
        result: PullReturnsResult,
    ) -> None:
        if not item.external_rma:
            log.warning("%s listed a return item without an rma id; skipped", channel)
            result.refused += 1
            return
        key = taken_key(channel, item.external_rma)
        if await asyncio.to_thread(stored_result, self._session_factory, key, ReturnTaken) is not None:
            result.known += 1
            return
        taken = await self._open(channel, desk, opener, resolve, item)
        if taken.return_id is None:
            result.refused += 1
            log.warning("%s return %s not opened: %s", channel, item.external_rma, taken.outcome)
        else:
            result.opened += 1
        # Kept before it is marked taken: a worker dying in between repeats the audit row, never loses it.
        await asyncio.to_thread(
            keep_message,
            self._session_factory,
            channel,
            AUDIT_KIND,
            audit_text(item.payload),
            external_id=item.external_rma,
            order_id=taken.order_id,
            outcome=taken.outcome,
        )
        await asyncio.to_thread(run_once, self._session_factory, key, lambda _session: taken, ReturnTaken)

    async def _open(
        self, channel: str, desk: ReturnDesk, opener: ReturnOpener, resolve: SkuResolver, item: PulledReturn
    ) -> ReturnTaken:
        try:
            order_id, request = await asyncio.to_thread(desk.map_return, item.payload, resolve)
        except MAPPING_ERRORS as exc:
            return ReturnTaken(f"rejected: {why_not_mapped(exc, 'return item')}")
        if not await asyncio.to_thread(self._order_known, order_id):
            return ReturnTaken(f"refused: no order {order_id} here (placed before {channel} was connected?)")
        try:
            accepted = await opener.open_channel_return(order_id, request)
        except Unavailable as exc:
            raise ApplicationError(f"the return could not be opened now: {exc.message}") from exc
        except ServiceError as exc:
            return ReturnTaken(f"refused: {exc.message}", order_id=order_id)
        return ReturnTaken(f"opened {accepted.return_id}", order_id=order_id, return_id=accepted.return_id)

    def _order_known(self, order_id: str) -> bool:
        with UnitOfWork(self._session_factory) as uow:
            return uow.session.get(OrderRecord, order_id) is not None

    # --- out: how the return ended, told to the channel --------------------------------------------

    @activity.defn
    def handle_channel_return(self, data: HandleChannelReturnInput) -> None:
        """Tell the channel the goods were received (domain.marketplace_returns says what), once: a
        retry after the channel took it finds it stored, or the channel's own record of it. A rate
        limit, an outage or refused credentials are retried by Temporal until they pass (the return
        waits; the pull's schedule shows the credentials failing too). What the channel refuses for
        good (an rma it does not know, a return already handled otherwise), or a channel this worker
        has no credentials for, is noted on the order's timeline for a person to settle in the
        channel's own dashboard, and the return goes on: the goods are here whatever the channel says."""
        key = handled_key(data.return_id)
        if stored_result(self._session_factory, key, Done) is not None:
            return
        rma = f"{data.channel} rma {data.external_rma}"
        try:
            handling = handling_for(data.received, data.sellable, data.short)
        except ValueError as exc:
            raise ApplicationError(str(exc), type=ErrorType.CHANNEL_REJECTED, non_retryable=True) from exc
        desk = self._desks.get(data.channel)
        if handling is None:
            kind, detail = HANDLED, f"{data.return_id}: nothing received, {rma} left open at {data.channel}"
        elif desk is None:
            kind, detail = (
                NOT_HANDLED,
                (
                    f"{data.return_id}: {data.channel} is not connected here: handle {rma} "
                    f"as {handling.result.value} x {handling.quantity} in its seller dashboard"
                ),
            )
        else:
            try:
                desk.handle(data.external_rma, handling)
            except ChannelRejected as exc:
                log.warning("%s refused the handling of %s: %s", data.channel, rma, exc)
                kind, detail = (
                    NOT_HANDLED,
                    (
                        f"{data.return_id}: {data.channel} refused {handling.result.value} x {handling.quantity} "
                        f"for {rma} ({exc}): settle it in its seller dashboard"
                    ),
                )
            except ChannelAuthFailed as exc:
                raise ApplicationError(
                    f"{data.channel} refused our credentials ({exc}); check the OMS_{data.channel.upper()}_* settings",
                    type=ErrorType.CHANNEL_AUTH_FAILED,
                ) from exc
            except ChannelError as exc:
                raise channel_failure(data.channel, exc) from exc
            else:
                kind, detail = (
                    HANDLED,
                    f"{data.return_id}: {rma} handled as {handling.result.value} x {handling.quantity}",
                )

        def note(session: Session) -> Done:
            order_store.add_event(session, data.order_id, kind, detail[:EVENT_DETAIL_LIMIT], data.at)
            return Done()

        run_once(self._session_factory, key, note, Done)


def _returns_page(desk: ReturnDesk, page: int, channel: str) -> ReturnPage:
    try:
        return desk.returns_page(page)
    except ChannelError as exc:
        raise channel_failure(channel, exc) from exc
