"""Timeouts and retries every workflow of the engine gives its activities."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Transient faults (database restarting, gateway timeouts) retry with backoff forever: the order
# waits, nothing is lost. Business outcomes are non-retryable ApplicationErrors.
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=1)
)
STEP_TIMEOUT = timedelta(seconds=30)
