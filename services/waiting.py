"""Waiting at start for what a process needs (Temporal, the database), so the order in which an
orchestrator starts or restarts things does not matter: the attempt is retried with a bounded
backoff, and the log gets one line when the waiting starts and one when it is over, not a traceback
per try."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_never, wait_exponential_jitter

T = TypeVar("T")

MAX_DELAY = 30.0
"""Seconds between two tries at most: a long outage costs a try every half minute, no more."""


def reason(exc: BaseException | None) -> str:
    """One short line for the log (drivers and gRPC put whole reports in their messages)."""
    if exc is None:
        return "no answer"
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


async def wait_for(
    what: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    retry_on: tuple[type[BaseException], ...],
    log: logging.Logger,
    max_delay: float = MAX_DELAY,
) -> T:
    """`attempt()` until it succeeds, waiting 0.5 s, 1 s, 2 s ... up to `max_delay` between tries,
    forever: a process that cannot work without `what` has nothing better to do, and one that stays
    up (logging why it waits) is easier to run than one that exits and must be restarted in order.
    Only `retry_on` is waited out; anything else is a real error and propagates."""
    started = time.monotonic()

    def first_failure(state: RetryCallState) -> None:
        if state.attempt_number == 1:
            failed = state.outcome.exception() if state.outcome else None
            log.warning("waiting for %s (%s); trying again every %g s at most", what, reason(failed), max_delay)

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(retry_on),
        wait=wait_exponential_jitter(multiplier=0.5, max=max_delay, jitter=0.5),
        stop=stop_never,
        before_sleep=first_failure,
        reraise=True,
    )

    async def call() -> T:  # tenacity awaits only what is declared `async def` (a lambda is not)
        return await attempt()

    result: T = await retrying(call)
    if retrying.statistics.get("attempt_number", 1) > 1:
        log.info("%s is there, after %.0f s", what, time.monotonic() - started)
    return result
