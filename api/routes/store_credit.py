"""Store credit (support): a customer's balance and ledger at a shop, and credit given by hand with
a reason (services.store_credit). The customer is named by their e-mail address in the query or
body, never in a path (paths end up in access logs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, status
from pydantic import BaseModel, Field

from api.deps import CreditDep, require
from api.errors import unprocessable
from api.schemas import Money as MoneyPublic
from api.schemas import MoneyBody
from domain import limits
from domain.channels import DEFAULT_SHOP
from domain.money import Money, MoneyError
from domain.staff import Permission, StaffMember

router = APIRouter(prefix="/store-credit", tags=["store credit"])

CreditReaders = Annotated[StaffMember, Depends(require(Permission.ORDERS_VIEW))]
CreditGivers = Annotated[StaffMember, Depends(require(Permission.RETURNS))]


class CreditEntryPublic(BaseModel):
    entry_id: str
    kind: str
    """issue, spend, reverse or expire."""
    amount: MoneyPublic
    at: datetime
    reason: str | None
    note: str
    expires_at: datetime | None
    order_id: str
    issued_by: str


class CreditStatementPublic(BaseModel):
    shop: str
    currency: str | None
    balance: MoneyPublic | None
    """What can be spent now (None: no credit was ever issued to this customer at this shop)."""
    issued: MoneyPublic | None
    spent: MoneyPublic | None
    reversed: MoneyPublic | None
    expired: MoneyPublic | None
    due_to_expire: MoneyPublic | None
    entries: list[CreditEntryPublic]
    """Newest first."""


class CreditIssue(BaseModel):
    email: str = Field(min_length=3, max_length=limits.EMAIL)
    shop: str = Field(default=DEFAULT_SHOP, min_length=1, max_length=limits.SHOP)
    amount: MoneyBody
    reason: str = Field(min_length=1, max_length=limits.LEDGER_REASON)


class CreditIssued(BaseModel):
    entry_id: str
    amount: MoneyPublic
    expires_at: datetime | None
    balance: MoneyPublic
    duplicate: bool


def _money(value: Money | None) -> MoneyPublic | None:
    return MoneyPublic(amount_minor=value.amount_minor, currency=value.currency) if value is not None else None


@router.get("", response_model=CreditStatementPublic, responses={422: {"description": "no usable e-mail address"}})
def credit_statement(
    _: CreditReaders,
    credit: CreditDep,
    email: Annotated[str, Query(min_length=3, max_length=limits.EMAIL)],
    shop: Annotated[str, Query(min_length=1, max_length=limits.SHOP)] = DEFAULT_SHOP,
) -> Any:
    statement = credit.statement(email, shop)
    summary = statement.summary
    return CreditStatementPublic(
        shop=statement.shop,
        currency=statement.account.currency if statement.account else None,
        balance=_money(summary.balance if summary else None),
        issued=_money(summary.issued if summary else None),
        spent=_money(summary.spent if summary else None),
        reversed=_money(summary.reversed if summary else None),
        expired=_money(summary.expired if summary else None),
        due_to_expire=_money(summary.due_to_expire if summary else None),
        entries=[
            CreditEntryPublic(
                entry_id=row.entry_id,
                kind=row.kind,
                amount=MoneyPublic(amount_minor=row.amount_minor, currency=row.currency),
                at=row.at,
                reason=row.reason,
                note=row.note,
                expires_at=row.expires_at,
                order_id=row.order_id,
                issued_by=row.actor,
            )
            for row in statement.entries
        ],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CreditIssued,
    responses={
        422: {
            "description": "no usable address or shop, an amount below one minor unit, or another currency than "
            "the account holds: {message, refusal}"
        }
    },
)
def issue_credit(
    body: CreditIssue,
    member: CreditGivers,
    credit: CreditDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> Any:
    """Give credit by hand, with a reason (kept as an adjustment, with who gave it). Send an
    Idempotency-Key header to make a resent request issue nothing more (answered `duplicate`)."""
    try:
        amount = Money(body.amount.amount_minor, body.amount.currency)
    except MoneyError as exc:
        raise unprocessable(f"amount: {exc}") from None
    issued = credit.issue_by_hand(
        body.email,
        body.shop,
        amount,
        body.reason,
        member.label,
        idempotency_key or "",
    )
    return CreditIssued(
        entry_id=issued.entry_id,
        amount=MoneyPublic(amount_minor=issued.amount.amount_minor, currency=issued.amount.currency),
        expires_at=issued.expires_at,
        balance=MoneyPublic(amount_minor=issued.balance.amount_minor, currency=issued.balance.currency),
        duplicate=not issued.new,
    )
