"""Telling a business refusal from any other failure of an activity, for every workflow: a
non-retryable ApplicationError of a known kind is an answer to act on, anything else is raised."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import ErrorType


def refusal(err: ActivityError, *kinds: ErrorType) -> ApplicationError | None:
    """The business refusal of one of `kinds` an activity failed with, or None for any other failure."""
    cause = err.cause
    return cause if isinstance(cause, ApplicationError) and cause.type in kinds else None
