"""The books: the daily journal per currency (JSON or CSV), the push of a day to Exact Online, and
the reconciliation of what the engine took against what was booked (services.books)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import Response

from api.deps import StateDep, require
from api.errors import http_error
from api.report_tables import attachment
from domain.journal import decimal, rate_text
from domain.money import MoneyError, currency_exponent
from domain.staff import Permission, StaffMember
from integrations.accounting.exact.client import DailyLimitReached, ExactError
from integrations.accounting.moneybird.client import MoneybirdError
from services.books import Bookkeeper, Books, ReconciliationRow, books_today
from services.errors import ServiceError
from services.exact_books import ExactBookkeeper, exact_client
from services.moneybird_books import moneybird_books

router = APIRouter(prefix="/books", tags=["books"])

Format = Literal["json", "csv"]
_PROBLEM = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_CSV = {"text/csv": {"schema": {"type": "string"}}}
_EXACT_FAILED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Exact Online's daily limit of API calls is used up", "content": _PROBLEM},
    502: {"description": "Exact Online refused or failed a call (its words in the message)", "content": _PROBLEM},
}


def _currency(currency: str) -> str:
    code = currency.strip().upper()
    try:
        currency_exponent(code)
    except MoneyError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {"message": str(exc)}) from None
    return code


def _keepers(state: StateDep) -> list[Bookkeeper]:
    """The accounting systems the settings connect, for the reconciliation."""
    settings = state.settings
    keepers: list[Bookkeeper] = []
    if settings.exact_enabled:
        keepers.append(ExactBookkeeper(state.session_factory, settings, exact_client(state.session_factory, settings)))
    moneybird = moneybird_books(settings, state.session_factory)
    if moneybird is not None:
        keepers.append(moneybird)
    return keepers


def _exact_failed(exc: ExactError) -> HTTPException:
    if isinstance(exc, DailyLimitReached):
        return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, {"message": str(exc)})
    return HTTPException(status.HTTP_502_BAD_GATEWAY, {"message": str(exc)})


def _csv(header: list[str], rows: list[list[str]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": attachment(f"{name}.csv")}
    )


@router.get("/journal", response_model=None, responses={200: {"content": _CSV}})
def get_journal(
    state: StateDep,
    _: Annotated[StaffMember, Depends(require(Permission.BOOKS))],
    day: date,
    currency: str = "EUR",
    format: Format = "json",
) -> dict[str, Any] | Response:
    """The day's journal in one currency: balanced double-entry lines (debits == credits)."""
    books = Books(state.session_factory, state.settings)
    journal = books.journal(day, _currency(currency))
    lines = [
        {
            "date": day.isoformat(),
            "account": line.account,
            "description": line.description,
            "channel": line.channel,
            "vat_category": line.vat_category,
            "vat_rate": rate_text(line.vat_rate),
            "debit": decimal(line.debit),
            "credit": decimal(line.credit),
        }
        for line in journal.lines
    ]
    if format == "csv":
        header = ["date", "account", "description", "channel", "vat_category", "vat_rate", "debit", "credit"]
        rows = [[str(line[name]) for name in header] for line in lines]
        return _csv(header, rows, f"journal-{day.isoformat()}-{journal.currency}")
    return {
        "day": day.isoformat(),
        "currency": journal.currency,
        "timezone": books.timezone,
        "debit": decimal(journal.debit),
        "credit": decimal(journal.credit),
        "balanced": journal.balanced,
        "lines": lines,
    }


@router.post(
    "/exact/push",
    responses={409: {"description": "Exact Online is not enabled", "content": _PROBLEM}, **_EXACT_FAILED},
)
def push_to_exact(
    state: StateDep,
    _: Annotated[StaffMember, Depends(require(Permission.SETTINGS))],
    day: date | None = None,
) -> dict[str, Any]:
    """Book a day (default: yesterday in the books' time zone) in Exact Online, every currency; a
    day booked before is not booked again."""
    settings = state.settings
    if not settings.exact_enabled:
        raise HTTPException(status.HTTP_409_CONFLICT, {"message": "Exact Online is not enabled (OMS_EXACT_ENABLED)"})
    day = day or books_today(settings.books_timezone) - timedelta(days=1)
    books = Books(state.session_factory, settings)
    keeper = ExactBookkeeper(state.session_factory, settings, exact_client(state.session_factory, settings))
    try:
        reports = [keeper.push_day(day, currency) for currency in books.currencies(day, day)]
    except ExactError as exc:
        raise _exact_failed(exc) from None
    return {
        "day": day.isoformat(),
        "pushed": [
            {"currency": r.currency, "posted": r.posted, "found": r.found, "already": r.already} for r in reports
        ],
    }


def _row(row: ReconciliationRow) -> dict[str, Any]:
    return {
        "day": row.day.isoformat(),
        "currency": row.currency,
        "channel": row.channel,
        "sales": decimal(row.sales),
        "gateway": decimal(row.gateway),
        "marketplace": decimal(row.marketplace),
        "captured": decimal(row.captured),
        "refunded": decimal(row.refunded),
        "unexplained": decimal(row.unexplained),
        "systems": [
            {
                "system": system.system,
                "recorded": None if system.recorded is None else decimal(system.recorded),
                "at_system": None if system.at_system is None else decimal(system.at_system),
                "difference": decimal(row.difference(system)),
            }
            for system in row.systems
        ],
    }


@router.get("/reconciliation", response_model=None, responses={200: {"content": _CSV}, **_EXACT_FAILED})
def get_reconciliation(
    state: StateDep,
    _: Annotated[StaffMember, Depends(require(Permission.BOOKS))],
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Per day, currency and channel: what the engine's invoices and credit notes came to (through
    our gateway, or collected by the channel), what our gateway captured and refunded that day (and
    what of it no document accounts for), against what each connected accounting system holds."""
    books = Books(state.session_factory, state.settings)
    keepers = _keepers(state)
    try:
        rows = [_row(row) for row in books.reconciliation(first, last, keepers)]
    except ServiceError as exc:
        raise http_error(exc) from None
    except ExactError as exc:
        raise _exact_failed(exc) from None
    except MoneybirdError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, {"message": f"Moneybird: {exc}"}) from None
    finally:
        for keeper in keepers:
            close = getattr(keeper, "close", None)
            if close is not None:
                close()
    if format == "csv":
        header = [
            "day",
            "currency",
            "channel",
            "sales",
            "gateway",
            "marketplace",
            "captured",
            "refunded",
            "unexplained",
            "system",
            "recorded",
            "at_system",
            "difference",
        ]
        flat: list[list[str]] = []
        for row in rows:
            base = [
                row["day"],
                row["currency"],
                row["channel"],
                row["sales"],
                row["gateway"],
                row["marketplace"],
                row["captured"],
                row["refunded"],
                row["unexplained"],
            ]
            systems = row["systems"] or [{"system": "", "recorded": None, "at_system": None, "difference": ""}]
            for system in systems:
                flat.append(
                    [
                        *base,
                        system["system"],
                        system["recorded"] or "",
                        system["at_system"] or "",
                        system["difference"],
                    ]
                )
        return _csv(header, flat, f"reconciliation-{first.isoformat()}-{last.isoformat()}")
    return {"from": first.isoformat(), "to": last.isoformat(), "rows": rows}
