"""The daily push of the books: every day of the last weeks not yet booked, up to yesterday (in the
books' time zone), to each connected accounting system. Idempotent: a day booked is not booked again
(services.books), so a retried or repeated run books nothing twice."""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from config import Settings
from contracts.books import BooksPush, PushBooksInput, PushBooksResult
from contracts.errors import ErrorType
from integrations.accounting.exact.client import DailyLimitReached, ExactError
from persistence.db import SessionFactory
from services.books import Bookkeeper, Books, PushReport, books_today
from services.exact_books import ExactBookkeeper, exact_client

LOOKBACK = timedelta(days=31)
"""How far back a run looks for a day not yet booked (a week of outage is caught up on)."""


class BooksActivities(BooksPush):
    def __init__(self, session_factory: SessionFactory, settings: Settings) -> None:
        self._sessions = session_factory
        self._settings = settings

    def _keepers(self) -> list[Bookkeeper]:
        if not self._settings.exact_enabled:
            return []
        client = exact_client(self._sessions, self._settings)
        return [ExactBookkeeper(self._sessions, self._settings, client)]

    @activity.defn
    def push_books(self, data: PushBooksInput) -> PushBooksResult:
        result = PushBooksResult()
        keepers = self._keepers()
        if not keepers:
            return result
        books = Books(self._sessions, self._settings)
        last = books_today(self._settings.books_timezone, data.at) - timedelta(days=1)
        day = last - LOOKBACK
        while day <= last:
            for currency in books.currencies(day, day):
                for keeper in keepers:
                    try:
                        report = _push(keeper, day, currency)
                    except DailyLimitReached as exc:
                        result.stopped = str(exc)
                        return result
                    if report.posted or report.found:
                        result.days.append(day.isoformat())
                    result.posted += len(report.posted)
                    result.found += len(report.found)
            day += timedelta(days=1)
        return result


def _push(keeper: Bookkeeper, day: date, currency: str) -> PushReport:
    try:
        return keeper.push_day(day, currency)
    except DailyLimitReached:
        raise
    except ExactError as exc:
        if 400 <= exc.status < 500:
            # Exact refuses what we send (an unknown GL account or customer code, a revoked app):
            # retrying will not help; a person fixes the set-up.
            raise ApplicationError(str(exc), type=ErrorType.BOOKS_REFUSED, non_retryable=True) from None
        raise
