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

REAUTHORIZE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=4,
)
"""A new authorization for an edit that costs more: someone waits for the answer, so a gateway that
stays away refuses the edit (the order unchanged) instead of holding it for as long as it is down."""
LABEL_CANCEL_RETRY = REAUTHORIZE_RETRY
"""A carrier label cancelled for an edit's new address: someone waits, so a carrier that stays away
refuses the edit (the order unchanged) the same way."""
