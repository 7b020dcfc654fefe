"""The books activities: one push of every document not yet booked to Moneybird. The push is
idempotent (services.moneybird_books), so Temporal retries a run Moneybird could not take
(an outage, a rate limit it asked us to wait longer for) from the start without booking twice; a
refused token or a missing tax rate is not retried: a person fixes the settings."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from config import Settings
from contracts.errors import ErrorType
from contracts.moneybird import MONEYBIRD, MoneybirdPush, PushInput, PushResult
from integrations.accounting.moneybird.client import MoneybirdAuthFailed, MoneybirdRefused
from integrations.accounting.moneybird.mapping import MappingError
from persistence.db import SessionFactory
from services.moneybird_books import moneybird_books


class MoneybirdActivities(MoneybirdPush):
    def __init__(self, settings: Settings, session_factory: SessionFactory) -> None:
        self._settings = settings
        self._sessions = session_factory

    @activity.defn
    def push_to_moneybird(self, data: PushInput) -> PushResult:
        books = moneybird_books(self._settings, self._sessions)
        if books is None:
            return PushResult(MONEYBIRD)
        try:
            return books.push(limit=data.limit, progress=lambda number: activity.heartbeat(number))
        except (MoneybirdAuthFailed, MoneybirdRefused, MappingError) as exc:
            raise ApplicationError(str(exc), type=ErrorType.BOOKS_REFUSED, non_retryable=True) from None
        finally:
            books.close()
