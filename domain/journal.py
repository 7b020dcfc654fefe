"""The daily journal: one day's invoices, credit notes and store credit movements in one currency, as
balanced double-entry lines (debits == credits, exact to the cent).

Every fact balances by itself, so the day does too:

- An invoice credits revenue per channel and VAT rate (its goods lines' net), shipping revenue apart
  (its `domain.invoicing.SHIPPING` lines' net), and VAT payable per rate (and channel, so a push per
  channel carries its own VAT); it debits the account the money comes through (the *settlement*
  account, see below) with its gross. A credit note does the same the other way round.
- The settlement account of an order says who holds the money for us: an order the channel collected
  (a marketplace, `Order.payment_collected`) is a **receivable on that channel** until its payout; an
  order paid through our gateway settles on the **payment provider clearing** account (an invoice is
  issued when the gateway captured its money, a credit note for every refund: issue 16, item 2), so
  that account holds what the provider owes us.
- Store credit is a liability. Spent on an order it paid part of that order: debit store credit,
  credit the order's settlement account (the gateway took that much less). Given back to the
  account (the order was cancelled) or issued against an order (a refund taken as credit, whose
  credit note credited the settlement account): the reverse. Issued without an order (a correction
  by a person): an expense. Expired: other income.

Amounts are integer minor units. Nothing here reads a clock or a database: services.books gathers
the facts of a day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from domain.invoicing import SHIPPING, DocumentKind, VatDocument
from domain.money import Money, currency_exponent
from domain.store_credit import CreditEntryKind


class Settlement(StrEnum):
    GATEWAY = "gateway"
    """Paid through our payment gateway: the provider's clearing account."""
    CHANNEL = "channel"
    """The channel (a marketplace) collected the money: a receivable on that channel."""


@dataclass(frozen=True)
class ChartOfAccounts:
    """Account codes (settings: books_account_*), Dutch RGS-like defaults."""

    revenue: str = "8000"
    shipping_revenue: str = "8100"
    vat_payable: str = "1800"
    gateway_clearing: str = "1100"
    channel_receivable: str = "1300"
    store_credit: str = "1600"
    credit_adjustments: str = "4800"
    expired_credit: str = "8900"


@dataclass(frozen=True)
class DocumentFact:
    """An invoice or credit note issued on the day, with how its order's money was taken."""

    number: str
    channel: str
    settlement: Settlement
    document: VatDocument


@dataclass(frozen=True)
class CreditFact:
    """A store credit ledger entry of the day. `channel`/`settlement` are its order's (empty/None
    when the entry names no order)."""

    entry_id: str
    kind: CreditEntryKind
    amount: Money
    channel: str = ""
    settlement: Settlement | None = None


@dataclass(frozen=True)
class JournalLine:
    account: str
    description: str
    channel: str
    vat_category: str
    """The VAT category of a revenue or VAT line ("" elsewhere), e.g. "standard", "reverse_charge"."""
    vat_rate: int | None
    """Basis points (2100 = 21 %) on revenue and VAT lines; None elsewhere."""
    debit: Money
    credit: Money


@dataclass(frozen=True)
class SalesLine:
    """What a channel's documents of the day add up to per revenue account and VAT rate: what one
    sales entry in an accounting system carries (net and VAT signed: credit notes negative)."""

    account: str
    description: str
    vat_category: str
    vat_rate: int
    net: Money
    vat: Money

    @property
    def gross(self) -> Money:
        return self.net + self.vat


@dataclass(frozen=True)
class Journal:
    currency: str
    lines: tuple[JournalLine, ...] = field(default=())

    @property
    def debit(self) -> Money:
        return Money(sum(line.debit.amount_minor for line in self.lines), self.currency)

    @property
    def credit(self) -> Money:
        return Money(sum(line.credit.amount_minor for line in self.lines), self.currency)

    @property
    def balanced(self) -> bool:
        return self.debit == self.credit


class JournalError(ValueError):
    """A fact in another currency than the journal's."""


_Key = tuple[str, str, str, str, int | None]


def journal(
    currency: str,
    documents: Iterable[DocumentFact],
    credits: Iterable[CreditFact] = (),
    accounts: ChartOfAccounts | None = None,
) -> Journal:
    """The day's journal in `currency`: one line per account, description, channel and VAT rate,
    debits and credits kept apart (a day's sales and its credit notes both show), sorted."""
    chart = accounts or ChartOfAccounts()
    sums: dict[_Key, list[int]] = {}

    def post(key: _Key, amount: int) -> None:
        """Positive: debit; negative: credit."""
        if amount:
            entry = sums.setdefault(key, [0, 0])
            entry[0 if amount > 0 else 1] += abs(amount)

    for fact in documents:
        document = fact.document
        if document.currency != currency:
            raise JournalError(f"document {fact.number} is in {document.currency}, the journal in {currency}")
        # An invoice credits revenue (negative), a credit note debits it.
        sign = -1 if document.kind is DocumentKind.INVOICE else 1
        reversed_ = "" if document.kind is DocumentKind.INVOICE else " reversed (credit notes)"
        for line in document.lines:
            shipping = line.description == SHIPPING
            account = chart.shipping_revenue if shipping else chart.revenue
            what = ("Shipping revenue" if shipping else "Revenue") + reversed_
            post((account, what, fact.channel, line.category, line.rate), sign * line.net.amount_minor)
        for total in document.rate_totals:
            post(
                (chart.vat_payable, "VAT payable" + reversed_, fact.channel, total.category, total.rate),
                sign * total.vat.amount_minor,
            )
        account, what = _settlement(chart, fact.settlement)
        post((account, what + reversed_, fact.channel, "", None), -sign * document.gross.amount_minor)
    for credit in credits:
        if credit.amount.currency != currency:
            raise JournalError(f"store credit {credit.entry_id} is in {credit.amount.currency}, not {currency}")
        amount = credit.amount.amount_minor
        liability = (chart.store_credit, _CREDIT_WORDS[credit.kind], credit.channel, "", None)
        if credit.kind is CreditEntryKind.EXPIRE:
            post(liability, amount)
            post((chart.expired_credit, "Store credit expired", credit.channel, "", None), -amount)
            continue
        if credit.settlement is None:
            counter: _Key = (chart.credit_adjustments, "Store credit adjustments", credit.channel, "", None)
        else:
            account, what = _settlement(chart, credit.settlement)
            counter = (account, f"{what} ({_CREDIT_WORDS[credit.kind].lower()})", credit.channel, "", None)
        # Spent: the liability goes down (debit) and the order's settlement is owed that much less.
        sign = 1 if credit.kind is CreditEntryKind.SPEND else -1
        post(liability, sign * amount)
        post(counter, -sign * amount)
    lines = [
        JournalLine(account, what, channel, category, rate, Money(debit, currency), Money(credit, currency))
        for (account, what, channel, category, rate), (debit, credit) in sums.items()
        if debit or credit
    ]
    lines.sort(key=lambda line: (line.account, line.channel, line.description, line.vat_rate or 0, line.vat_category))
    return Journal(currency, tuple(lines))


_CREDIT_WORDS = {
    CreditEntryKind.ISSUE: "Store credit issued",
    CreditEntryKind.SPEND: "Store credit spent",
    CreditEntryKind.REVERSE: "Store credit given back",
    CreditEntryKind.EXPIRE: "Store credit expired",
}


def _settlement(chart: ChartOfAccounts, settlement: Settlement) -> tuple[str, str]:
    if settlement is Settlement.CHANNEL:
        return chart.channel_receivable, "Receivable from channel"
    return chart.gateway_clearing, "Payment provider clearing"


def sales(
    currency: str, documents: Iterable[DocumentFact], accounts: ChartOfAccounts | None = None
) -> dict[str, tuple[SalesLine, ...]]:
    """Per channel, the day's documents netted per revenue account and VAT rate (credit notes
    negative): the lines of one sales entry per day, currency and channel. Each channel's gross is
    exactly what its documents debited and credited to their settlement account."""
    chart = accounts or ChartOfAccounts()
    sums: dict[str, dict[tuple[str, str, str, int], list[int]]] = {}
    for fact in documents:
        document = fact.document
        if document.currency != currency:
            raise JournalError(f"document {fact.number} is in {document.currency}, the journal in {currency}")
        sign = 1 if document.kind is DocumentKind.INVOICE else -1
        per_channel = sums.setdefault(fact.channel, {})
        for line in document.lines:
            shipping = line.description == SHIPPING
            key = (
                chart.shipping_revenue if shipping else chart.revenue,
                "Shipping" if shipping else "Sales",
                line.category,
                line.rate,
            )
            entry = per_channel.setdefault(key, [0, 0])
            entry[0] += sign * line.net.amount_minor
            entry[1] += sign * line.vat.amount_minor
    entries = {
        channel: tuple(
            SalesLine(account, what, category, rate, Money(net, currency), Money(vat, currency))
            for (account, what, category, rate), (net, vat) in sorted(lines.items())
            if net or vat
        )
        for channel, lines in sorted(sums.items())
    }
    # A channel whose sales and credit notes cancel out to the cent has nothing to book.
    return {channel: lines for channel, lines in entries.items() if lines}


def gross(lines: Sequence[SalesLine], currency: str) -> Money:
    return Money(sum(line.gross.amount_minor for line in lines), currency)


def decimal(amount: Money) -> str:
    """An amount as a decimal string in major units ("12.34", "-0.05", "100" for JPY)."""
    exponent = currency_exponent(amount.currency)
    return str(Decimal(amount.amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))


def rate_text(rate: int | None) -> str:
    """Basis points as a percentage with two decimals ("21.00"); "" for none."""
    return "" if rate is None else str(Decimal(rate).scaleb(-2).quantize(Decimal("0.01")))
