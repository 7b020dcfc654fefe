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
from integrations.accounting.moneybird.client import MoneybirdAuthFailed, MoneybirdClient, MoneybirdRefused
from integrations.accounting.moneybird.mapping import MappingError
from persistence.db import SessionFactory
from services.moneybird_books import MoneybirdBooks


def moneybird_books(settings: Settings, session_factory: SessionFactory) -> MoneybirdBooks | None:
    """The push the settings connect (OMS_MONEYBIRD_*), or None when Moneybird is not enabled."""
    if not settings.moneybird_enabled:
        return None
    client = MoneybirdClient(
        settings.moneybird_api_url, settings.moneybird_api_token, settings.moneybird_administration_id
    )
    return MoneybirdBooks(
        session_factory,
        client,
        tax_rate_ids=settings.moneybird_tax_rate_ids,
        ledger_account_id=settings.moneybird_ledger_account_id,
    )


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
