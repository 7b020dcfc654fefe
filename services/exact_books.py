"""The books pushed to Exact Online: one sales entry per day, currency and channel.

Granularity: a sales entry per books day x currency x channel, against a collective customer per
channel (setting `exact_customers`), with one line per revenue account (sales, shipping) and VAT
rate, amounts net with their VAT (credit notes netted in, negative). That is at most a few entries a
day (6 channels: 12 calls with their look-ups), far inside Exact's 5,000 calls a day; the documents
themselves stay in the engine (their numbers are in the journal).

Each entry is booked once: the `bookings` row (system "exact", day, currency, channel) says it was;
without one, the entry is first looked up at Exact by our reference (`YourRef`,
OMS-<yyyymmdd>-<currency>-<channel>), so a run that crashed after Exact took the POST but before
our row was committed records what Exact holds instead of posting again. No transaction is open
across a call to Exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from config import Settings
from domain.journal import SalesLine, decimal, gross, rate_text
from domain.money import Money
from integrations.accounting.exact.client import ExactClient, ExactConfig, ExactError, Tokens, amount
from persistence.db import SessionFactory
from persistence.guarded_writes.bookings import booking, load_tokens, record_booking, save_tokens
from services.books import Books, PushReport

SYSTEM = "exact"


def reference(day: date, currency: str, channel: str) -> str:
    """Our reference on the sales entry (YourRef), found again at Exact."""
    return f"OMS-{day:%Y%m%d}-{currency}-{channel}"


class SqlTokenStore:
    """Exact's tokens in `accounting_tokens`, each save its own transaction (the rotated refresh
    token is kept before the access token is used)."""

    def __init__(self, sessions: SessionFactory, system: str = SYSTEM) -> None:
        self._sessions = sessions
        self._system = system

    def load(self) -> Tokens | None:
        with self._sessions() as session:
            found = load_tokens(session, self._system)
        return None if found is None else Tokens(*found)

    def save(self, tokens: Tokens) -> None:
        with self._sessions() as session, session.begin():
            save_tokens(session, self._system, tokens.refresh_token, tokens.access_token, tokens.access_expires_at)


def exact_client(sessions: SessionFactory, settings: Settings, **options: Any) -> ExactClient:
    config = ExactConfig(
        base_url=settings.exact_base_url.rstrip("/"),
        client_id=settings.exact_client_id,
        client_secret=settings.exact_client_secret,
        division=settings.exact_division,
        initial_refresh_token=settings.exact_refresh_token,
    )
    return ExactClient(config, SqlTokenStore(sessions), **options)


class ExactBookkeeper:
    system = SYSTEM

    def __init__(self, sessions: SessionFactory, settings: Settings, client: ExactClient) -> None:
        self._sessions = sessions
        self._settings = settings
        self._books = Books(sessions, settings)
        self._client = client
        self._ids: dict[tuple[str, str], str] = {}
        self._months: dict[str, list[dict[str, Any]]] = {}

    def _id(self, resource: str, code: str) -> str:
        if (resource, code) not in self._ids:
            self._ids[(resource, code)] = self._client.id_by_code(resource, code)
        return self._ids[(resource, code)]

    def _customer(self, channel: str) -> str:
        customers = self._settings.exact_customers
        code = customers.get(channel) or customers.get("*")
        if not code:
            raise ExactError(f"no Exact customer for channel {channel} (setting exact_customers)")
        return self._id("crm/Accounts", code)

    def entry(self, day: date, currency: str, channel: str, lines: tuple[SalesLine, ...]) -> dict[str, Any]:
        """The sales entry for a channel's day, in Exact's SalesEntries shape."""
        vat_codes = self._settings.exact_vat_codes
        return {
            "Journal": self._settings.exact_journal,
            "Customer": self._customer(channel),
            "EntryDate": f"{day.isoformat()}T00:00:00",
            "Currency": currency,
            "Type": 20,
            "YourRef": reference(day, currency, channel),
            "Description": f"OMS {channel} sales {day.isoformat()} {currency}",
            "SalesEntryLines": [
                {
                    "GLAccount": self._id("financial/GLAccounts", line.account),
                    "Description": f"{line.description} {rate_text(line.vat_rate)}%",
                    "AmountFC": Decimal(decimal(line.net)),
                    "VATAmountFC": Decimal(decimal(line.vat)),
                    "VATCode": vat_codes.get(line.vat_category, ""),
                }
                for line in lines
            ],
        }

    def push_day(self, day: date, currency: str) -> PushReport:
        report = PushReport(self.system, day, currency)
        for channel, lines in self._books.sales(day, currency).items():
            with self._sessions() as session:
                done = booking(session, self.system, day, currency, channel)
            if done is not None:
                report.already.append(channel)
                continue
            ref = reference(day, currency, channel)
            held = self._client.sales_entries(ref)
            if held:
                entry, where = held[0], report.found
            else:
                entry, where = self.post(self.entry(day, currency, channel, lines)), report.posted
            booked = Money.parse(amount(entry["AmountFC"]), currency) if held else gross(lines, currency)
            with self._sessions() as session, session.begin():
                record_booking(
                    session,
                    system=self.system,
                    day=day,
                    currency=currency,
                    key=channel,
                    reference=ref,
                    external_id=str(entry["EntryID"]),
                    amount=booked,
                    at=datetime.now(UTC),
                )
            where.append(channel)
        return report

    def post(self, entry: dict[str, Any]) -> dict[str, Any]:
        """POST the sales entry (a seam: a test raises here after Exact answered, as a crash would)."""
        return self._client.create_sales_entry(entry)

    def booked(self, day: date, currency: str) -> dict[str, Money]:
        """Per channel, the AmountFC Exact holds under the day's reference, read back: the month's
        entries are read once (one paged GET by reference prefix) and kept for this keeper, so a
        month's reconciliation costs a call or two of the 60 a minute, not one per day and channel.
        An entry our bookings table does not know shows too."""
        month = f"OMS-{day:%Y%m}"
        if month not in self._months:
            self._months[month] = self._client.sales_entries(month, prefix=True)
        wanted = f"{reference(day, currency, '')}"
        held: dict[str, Decimal] = {}
        for entry in self._months[month]:
            ref = str(entry.get("YourRef") or "")
            if ref.startswith(wanted):
                channel = ref[len(wanted) :]
                held[channel] = held.get(channel, Decimal(0)) + amount(entry["AmountFC"])
        return {channel: Money.parse(total, currency) for channel, total in sorted(held.items())}
