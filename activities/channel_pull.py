"""Pull a channel's new and changed orders from its cursor and start (or cancel) each one here.

Safe to retry at any point: an order's workflow id is its order id, so a repeated page starts
nothing twice, and the cursor is saved only after every order of its page was handed to Temporal.
Channel failures become ApplicationErrors here, in one place: a rate limit waits as long as the
channel asks, an outage backs off, refused credentials or requests fail the run for a person.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import ParamSpec, TypeVar

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.channels import ChannelPulls, PullChannelInput, PullChannelResult
from contracts.errors import ErrorType
from domain.money import MoneyError
from domain.order import InvalidOrder
from integrations.channels.audit import audit_text
from integrations.channels.base import OrderSource, PulledOrder, PullPage, SkuResolver
from integrations.channels.errors import (
    ChannelAuthFailed,
    ChannelError,
    ChannelRateLimited,
    ChannelRejected,
    ChannelUnavailable,
)
from integrations.channels.registry import PULLED_MAPPERS, PulledMapper
from persistence.db import SessionFactory
from persistence.guarded_writes.channel_cursors import load_cursor, save_cursor
from persistence.master_data.catalogue import resolver_for
from persistence.read_model.channel_messages import keep_message
from services.intake import Intake

log = logging.getLogger("oms.channel_pull")

MAPPING_ERRORS = (ValidationError, MoneyError, InvalidOrder)
# Without a Retry-After, a 429 waits longer each time it repeats (5 s, 10 s, 20 s, ... 5 min); a
# Retry-After beyond the cap is not believed (the schedule's next run would come first anyway).
RATE_LIMIT_FIRST_WAIT = 5.0
RATE_LIMIT_MAX_WAIT = 300.0
HEARTBEAT_EVERY = 5.0
AUDIT_KIND = "pull"

T = TypeVar("T")
P = ParamSpec("P")


class _Stop(Exception):
    """Another pull moved the cursor first: stop without saving ours."""


@dataclass
class _Pull:
    """One run against one channel: where it stands and what it did."""

    channel: str
    adapter: PulledMapper
    resolve: SkuResolver
    cursor: str | None
    result: PullChannelResult


class ChannelPullActivities(ChannelPulls):
    def __init__(self, session_factory: SessionFactory, sources: Mapping[str, OrderSource], intake: Intake) -> None:
        """`intake`: how every order comes in (services.intake), webhooks and pulls alike."""
        self._session_factory = session_factory
        self._sources = sources
        self._intake = intake

    @activity.defn
    async def pull_channel_orders(self, data: PullChannelInput) -> PullChannelResult:
        source = self._sources.get(data.channel)
        adapter = PULLED_MAPPERS.get(data.channel)
        if source is None or adapter is None:
            raise ApplicationError(
                f"{data.channel} is not a pulled channel with credentials on this worker",
                type=ErrorType.CHANNEL_NOT_CONFIGURED,
                non_retryable=True,
            )
        run = _Pull(
            channel=data.channel,
            adapter=adapter,
            resolve=resolver_for(self._session_factory, data.channel),  # fresh catalogue each run
            cursor=await asyncio.to_thread(load_cursor, self._session_factory, data.channel),
            result=PullChannelResult(channel=data.channel),
        )
        for _ in range(max(data.max_pages, 1)):
            page = await while_heartbeating(_pull_page, source, run)
            try:
                await self._take_page(run, page)
            except _Stop:
                run.result.overtaken = True
                log.warning("%s cursor moved by another pull; this run stops here", run.channel)
                return run.result
            activity.heartbeat(run.result.pages)
            run.result.more = page.more
            if not page.more:
                break
        return run.result

    async def _take_page(self, run: _Pull, page: PullPage) -> None:
        for pulled in page.orders:
            await self._take_order(run, pulled)
        saved = await asyncio.to_thread(
            save_cursor,
            self._session_factory,
            run.channel,
            previous=run.cursor,
            cursor=page.cursor,
            orders=len(page.orders),
        )
        if not saved:
            raise _Stop
        run.cursor = page.cursor
        run.result.pages += 1
        run.result.pulled += len(page.orders)

    async def _take_order(self, run: _Pull, pulled: PulledOrder) -> None:
        """Map, start or cancel, then audit. A payload that cannot be mapped is kept and skipped:
        one bad order must not stop the channel (the audit row lets a person replay it)."""
        try:
            order = await asyncio.to_thread(run.adapter, pulled.payload, run.resolve)
        except MAPPING_ERRORS as exc:
            why = why_not_mapped(exc)
            log.warning("%s order %s rejected: %s", run.channel, pulled.external_id, why)
            await self._audit(run.channel, pulled, None, f"rejected: {why}")
            run.result.rejected += 1
            return
        if pulled.cancelled and pulled.confirm_cancel:
            cancel: str | None = f"the customer asked {run.channel} to cancel"
        else:
            cancel = f"cancelled on {run.channel}" if pulled.cancelled else None
        taken = await self._intake.take(order, cancel_reason=cancel, confirm_lines=pulled.confirm_cancel)
        # Kept in the intake: started here (by the API's intake sweeper if this fails).
        if taken.to_start is not None and await self._intake.start_taken(taken.to_start):
            taken = replace(taken, outcome="started")
        if pulled.cancel_items and not pulled.cancelled:
            # Some items the customer asked the channel to cancel: an edit by the channel (a new
            # order is held by its checks for it first: the mapping's `attention`).
            edited = await self._intake.cancel_items_from_channel(order, pulled.cancel_items, new=not taken.repeated)
            taken = replace(taken, outcome=f"{taken.outcome}; {edited}")
        if pulled.cancelled:
            run.result.cancelled += 0 if taken.repeated else 1
        else:
            run.result.started += 0 if taken.repeated else 1
            run.result.duplicates += 1 if taken.repeated else 0
        await self._audit(run.channel, pulled, order.order_id, taken.outcome)

    async def _audit(self, channel: str, pulled: PulledOrder, order_id: str | None, outcome: str) -> None:
        await asyncio.to_thread(
            keep_message,
            self._session_factory,
            channel,
            AUDIT_KIND,
            audit_text(pulled.payload),
            external_id=pulled.external_id,
            order_id=order_id,
            outcome=outcome,
        )


def _pull_page(source: OrderSource, run: _Pull) -> PullPage:
    """One page from the channel, its failures turned into what Temporal should do about them."""
    try:
        return source.pull(run.cursor)
    except ChannelError as exc:
        raise channel_failure(run.channel, exc) from exc


def channel_failure(channel: str, exc: ChannelError) -> ApplicationError:
    """What Temporal should do about a channel call that failed (the pulls and the returns handled back)."""
    if isinstance(exc, ChannelRateLimited):
        return ApplicationError(
            f"{channel} rate limited: {exc}",
            type=ErrorType.CHANNEL_RATE_LIMITED,
            next_retry_delay=timedelta(seconds=_rate_limit_wait(exc.retry_after)),
        )
    if isinstance(exc, ChannelUnavailable):
        return ApplicationError(f"{channel} unavailable: {exc}", type=ErrorType.CHANNEL_UNAVAILABLE)
    if isinstance(exc, ChannelAuthFailed):
        return ApplicationError(
            f"{channel} refused our credentials ({exc}); check the OMS_{channel.upper()}_* settings",
            type=ErrorType.CHANNEL_AUTH_FAILED,
            non_retryable=True,
        )
    if isinstance(exc, ChannelRejected):
        return ApplicationError(
            f"{channel} refused the request: {exc}", type=ErrorType.CHANNEL_REJECTED, non_retryable=True
        )
    return ApplicationError(f"{channel} failed: {exc}", type=ErrorType.CHANNEL_ERROR)


def _rate_limit_wait(retry_after: float | None) -> float:
    if retry_after is not None:
        return min(max(retry_after, 1.0), RATE_LIMIT_MAX_WAIT)
    attempt: int = activity.info().attempt if activity.in_activity() else 1
    return min(RATE_LIMIT_FIRST_WAIT * 2.0 ** min(attempt - 1, 16), RATE_LIMIT_MAX_WAIT)


async def while_heartbeating(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking call in a thread, heartbeating meanwhile: a page can take a while (bol fetches
    every order's details), and the heartbeat is how Temporal notices a worker that died."""
    call = asyncio.ensure_future(asyncio.to_thread(function, *args, **kwargs))
    while True:
        done, _ = await asyncio.wait({call}, timeout=HEARTBEAT_EVERY)
        if done:
            return call.result()
        activity.heartbeat()


def why_not_mapped(exc: Exception, what: str = "order") -> str:
    """Why a channel's payload could not be mapped, for a person (the first three problems)."""
    if isinstance(exc, ValidationError):
        problems = [f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()[:3]]
        return f"not a valid {what}: " + "; ".join(problems)
    return str(exc)
