"""Store credit: a customer's balance at one shop, kept as a ledger that can be replayed to the cent.

A customer is known by the e-mail address they order with (normalised as support's look-up does,
domain.lookup.email_key), per shop: credit given by one web shop is not spendable at another. The
account holds one currency; an amount in another is refused, never converted.

The ledger is written, never rewritten: credit is issued (a return resolved as credit, goodwill, an
exchange's difference), spent against an order, given back to the account when that spend is
reversed (the order was cancelled or refunded to credit), and expired. Each issue is a lot with its
own expiry; a spend takes from the lot that expires first (credit without an expiry last), so the
customer loses as little as possible and an expiry takes only what is left of its lot. A reversal
puts the money back into the lots the spend took it from (the last taken first): credit keeps the
life it was given, spending and cancelling neither stretches nor shortens it.

Nothing here reads a clock: every entry carries its time, and the balance is asked for at a time.
Credit whose lot is past its expiry is no longer spendable even before the expiry run writes its
`expire` entry; `expiry_due` says which entries that run writes. The database keeps the balance
from going below zero under races (a guarded write); these rules say what the balance is and
refuse a spend it cannot cover, with the amount that is available.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.lookup import email_key
from domain.money import Money, MoneyError, currency_exponent


class CreditEntryKind(StrEnum):
    ISSUE = "issue"
    """Credit given to the customer: a new lot, with an optional expiry."""
    SPEND = "spend"
    """Credit used to pay (part of) an order."""
    REVERSE = "reverse"
    """(Part of) a spend given back: the order it paid was cancelled, or refunded to credit."""
    EXPIRE = "expire"
    """What was left of a lot at its expiry, taken off the balance."""


class CreditReason(StrEnum):
    """Why credit was issued, in the words the numbers (credit issued per reason) are counted by."""

    RETURN = "return"
    """A return resolved as store credit instead of money."""
    EXCHANGE = "exchange"
    """What an exchange's replacement cost less than the returned units, kept as credit."""
    GOODWILL = "goodwill"
    """Given by support without a return (domain.goodwill)."""
    REFUND = "refund"
    """A refund the customer chose to take as credit."""
    ADJUSTMENT = "adjustment"
    """A correction by a person, with a note saying why."""


class CreditRefusalKind(StrEnum):
    INSUFFICIENT = "insufficient"
    """The spend is more than the spendable balance at its time: HTTP 409 (the available amount is told)."""
    CURRENCY = "currency"
    """An amount in another currency than the account's: HTTP 422."""
    INVALID = "invalid"
    """An amount below one minor unit, a time without a timezone, an expiry not after the issue,
    a reference to an entry that is not there, an entry id used twice: HTTP 422."""
    NOT_DUE = "not_due"
    """An expiry before its lot expires: HTTP 409."""
    TOO_MUCH = "too_much"
    """A reversal of more than the spend has left to give back, or an expiry of more than its
    lot has left: HTTP 409."""


class CreditRefused(Exception):
    def __init__(self, kind: CreditRefusalKind, message: str, available: Money | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.available = available
        """What could be spent at the time asked (INSUFFICIENT only)."""


@dataclass(frozen=True)
class CreditAccount:
    """One customer's credit at one shop (a channel such as the web shop, or a store's POS)."""

    shop: str
    customer: str
    """The e-mail address as a key (domain.lookup.email_key): personal data, never logged."""
    currency: str


def account_for(shop: str, email: str, currency: str) -> CreditAccount:
    """The account of whoever orders with `email` at `shop`: "Sam@Example.org " and
    "sam@example.org" are one customer. Refused without a usable address or currency."""
    key = email_key(email)
    if not shop.strip():
        raise CreditRefused(CreditRefusalKind.INVALID, "store credit belongs to a shop: name it")
    if not key or "@" not in key:
        raise CreditRefused(CreditRefusalKind.INVALID, "store credit needs the customer's e-mail address")
    try:
        currency_exponent(currency)
    except MoneyError as exc:
        raise CreditRefused(CreditRefusalKind.CURRENCY, str(exc)) from None
    return CreditAccount(shop.strip(), key, currency)


@dataclass(frozen=True)
class CreditEntry:
    """One line of the ledger. `amount` is always positive; the kind says which way it goes."""

    entry_id: str
    """Unique in the account: the writer's idempotency key (e.g. "order-webshop-1001:credit-spend")."""
    kind: CreditEntryKind
    amount: Money
    at: datetime
    reason: CreditReason | None = None
    """Why credit was issued (issues only)."""
    note: str = ""
    expires_at: datetime | None = None
    """When an issued lot stops being spendable (issues only; None: never)."""
    order_id: str = ""
    """The order the credit came from (issue) or paid for (spend, reverse)."""
    refers_to: str = ""
    """The spend a reversal gives back, or the issue an expiry ends."""


@dataclass
class _Lot:
    issue: CreditEntry
    left: int
    expired_entries: int = 0


@dataclass
class _Spend:
    entry: CreditEntry
    taken: list[tuple[_Lot, int]] = field(default_factory=list)
    reversed: int = 0


@dataclass(frozen=True)
class CreditSummary:
    """The account at a time, so that issued = spent - reversed + expired + due + balance."""

    issued: Money
    spent: Money
    reversed: Money
    expired: Money
    due_to_expire: Money
    """Past its lot's expiry but not yet written off by the expiry run: no longer spendable."""
    balance: Money
    """What can be spent at this time."""


class _Replay:
    """The ledger replayed in the order it was written, checking every entry as it comes."""

    def __init__(self, account: CreditAccount) -> None:
        self.account = account
        self.lots: dict[str, _Lot] = {}
        self.spends: dict[str, _Spend] = {}
        self.seen: set[str] = set()
        self.totals = {kind: 0 for kind in CreditEntryKind}

    def spendable(self, at: datetime) -> list[_Lot]:
        """Lots with credit left at `at`, the first to expire first (no expiry last, then as issued)."""
        live = [lot for lot in self.lots.values() if lot.left > 0 and _live(lot.issue, at)]
        # sorted() is stable and lots are kept as issued: of two that expire together, the older goes first.
        return sorted(live, key=lambda lot: (lot.issue.expires_at is None, lot.issue.expires_at or at))

    def available(self, at: datetime) -> int:
        return sum(lot.left for lot in self.spendable(at))

    def apply(self, entry: CreditEntry) -> None:
        _check_entry(self.account, entry)
        if entry.entry_id in self.seen:
            raise CreditRefused(CreditRefusalKind.INVALID, f"entry {entry.entry_id!r} is in the ledger already")
        {
            CreditEntryKind.ISSUE: self._issue,
            CreditEntryKind.SPEND: self._spend,
            CreditEntryKind.REVERSE: self._reverse,
            CreditEntryKind.EXPIRE: self._expire,
        }[entry.kind](entry)
        self.seen.add(entry.entry_id)
        self.totals[entry.kind] += entry.amount.amount_minor

    def _issue(self, entry: CreditEntry) -> None:
        if entry.reason is None:
            raise CreditRefused(CreditRefusalKind.INVALID, "issued credit needs a reason")
        if entry.reason is CreditReason.ADJUSTMENT and not entry.note.strip():
            raise CreditRefused(CreditRefusalKind.INVALID, "an adjustment needs a note saying why")
        if entry.expires_at is not None and entry.expires_at <= entry.at:
            raise CreditRefused(CreditRefusalKind.INVALID, "credit must expire after it is issued")
        self.lots[entry.entry_id] = _Lot(entry, entry.amount.amount_minor)

    def _spend(self, entry: CreditEntry) -> None:
        if not entry.order_id:
            raise CreditRefused(CreditRefusalKind.INVALID, "a spend pays for an order: name it")
        lots = self.spendable(entry.at)
        available = sum(lot.left for lot in lots)
        wanted = entry.amount.amount_minor
        if wanted > available:
            shown = Money(available, self.account.currency)
            raise CreditRefused(
                CreditRefusalKind.INSUFFICIENT,
                f"{entry.amount.format()} asked, but only {shown.format()} of store credit is available",
                available=shown,
            )
        spend = _Spend(entry)
        for lot in lots:
            take = min(lot.left, wanted)
            if take:
                lot.left -= take
                wanted -= take
                spend.taken.append((lot, take))
        self.spends[entry.entry_id] = spend

    def _reverse(self, entry: CreditEntry) -> None:
        spend = self.spends.get(entry.refers_to)
        if spend is None:
            raise CreditRefused(CreditRefusalKind.INVALID, f"no spend {entry.refers_to!r} to reverse")
        left = spend.entry.amount.amount_minor - spend.reversed
        if entry.amount.amount_minor > left:
            shown = Money(left, self.account.currency)
            raise CreditRefused(CreditRefusalKind.TOO_MUCH, f"only {shown.format()} of that spend is left to give back")
        back = entry.amount.amount_minor
        spend.reversed += back
        while back:  # the last lot taken from is the first given back
            lot, taken = spend.taken.pop()
            give = min(taken, back)
            lot.left += give
            back -= give
            if give < taken:
                spend.taken.append((lot, taken - give))

    def _expire(self, entry: CreditEntry) -> None:
        lot = self.lots.get(entry.refers_to)
        if lot is None:
            raise CreditRefused(CreditRefusalKind.INVALID, f"no issued credit {entry.refers_to!r} to expire")
        if _live(lot.issue, entry.at):
            raise CreditRefused(CreditRefusalKind.NOT_DUE, f"credit {entry.refers_to!r} has not expired yet")
        if entry.amount.amount_minor > lot.left:
            shown = Money(lot.left, self.account.currency)
            raise CreditRefused(CreditRefusalKind.TOO_MUCH, f"only {shown.format()} of that credit is left")
        lot.left -= entry.amount.amount_minor
        lot.expired_entries += 1


def _live(issue: CreditEntry, at: datetime) -> bool:
    return issue.expires_at is None or at < issue.expires_at


def _aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CreditRefused(CreditRefusalKind.INVALID, f"{what} must carry a timezone")


def _check_entry(account: CreditAccount, entry: CreditEntry) -> None:
    if not entry.entry_id:
        raise CreditRefused(CreditRefusalKind.INVALID, "an entry needs an id")
    _check_amount(account, entry.amount)
    _aware(entry.at, "the entry's time")
    if entry.expires_at is not None:
        _aware(entry.expires_at, "the expiry")


def _check_amount(account: CreditAccount, amount: Money) -> None:
    if amount.currency != account.currency:
        raise CreditRefused(CreditRefusalKind.CURRENCY, f"the account holds {account.currency}, not {amount.currency}")
    if amount.amount_minor < 1:
        raise CreditRefused(CreditRefusalKind.INVALID, "an amount of store credit must be more than zero")


def _replay(account: CreditAccount, entries: Iterable[CreditEntry], at: datetime | None = None) -> _Replay:
    """The ledger replayed up to `at` (every entry when None); CreditRefused if any entry is wrong."""
    if at is not None:
        _aware(at, "the time asked")
    state = _Replay(account)
    for entry in entries:
        _aware(entry.at, "the entry's time")
        if at is None or entry.at <= at:
            state.apply(entry)
    return state


def balance(account: CreditAccount, entries: Iterable[CreditEntry], at: datetime) -> Money:
    """What the customer can spend at `at` (entries written after `at` do not count)."""
    return Money(_replay(account, entries, at).available(at), account.currency)


def summary(account: CreditAccount, entries: Iterable[CreditEntry], at: datetime) -> CreditSummary:
    """Where the credit issued up to `at` went, to the cent."""
    state = _replay(account, entries, at)
    live = state.available(at)
    left = sum(lot.left for lot in state.lots.values())

    def money(minor: int) -> Money:
        return Money(minor, account.currency)

    return CreditSummary(
        issued=money(state.totals[CreditEntryKind.ISSUE]),
        spent=money(state.totals[CreditEntryKind.SPEND]),
        reversed=money(state.totals[CreditEntryKind.REVERSE]),
        expired=money(state.totals[CreditEntryKind.EXPIRE]),
        due_to_expire=money(left - live),
        balance=money(live),
    )


def _add(account: CreditAccount, entries: Sequence[CreditEntry], entry: CreditEntry) -> CreditEntry:
    """The entry, if the ledger can take it after `entries`; else CreditRefused saying why."""
    _replay(account, entries).apply(entry)
    return entry


def issue(
    account: CreditAccount,
    entries: Sequence[CreditEntry],
    *,
    entry_id: str,
    amount: Money,
    at: datetime,
    reason: CreditReason,
    note: str = "",
    expires_at: datetime | None = None,
    order_id: str = "",
) -> CreditEntry:
    """An issue of credit to write (a new lot), checked against the account."""
    entry = CreditEntry(
        entry_id,
        CreditEntryKind.ISSUE,
        amount,
        at,
        reason=reason,
        note=note.strip(),
        expires_at=expires_at,
        order_id=order_id,
    )
    return _add(account, entries, entry)


def spend(
    account: CreditAccount, entries: Sequence[CreditEntry], *, entry_id: str, amount: Money, at: datetime, order_id: str
) -> CreditEntry:
    """A spend to write for `order_id`, or CreditRefused(INSUFFICIENT, available=...) when the
    spendable balance at `at` cannot cover it: the balance never goes below zero."""
    return _add(account, entries, CreditEntry(entry_id, CreditEntryKind.SPEND, amount, at, order_id=order_id))


def reverse(
    account: CreditAccount, entries: Sequence[CreditEntry], *, entry_id: str, spend_id: str, amount: Money, at: datetime
) -> CreditEntry:
    """Give (part of) a spend back to the account: into the lots it came from, with their expiry."""
    spent = next((e for e in entries if e.entry_id == spend_id and e.kind is CreditEntryKind.SPEND), None)
    order_id = spent.order_id if spent is not None else ""
    entry = CreditEntry(entry_id, CreditEntryKind.REVERSE, amount, at, order_id=order_id, refers_to=spend_id)
    return _add(account, entries, entry)


def expiry_due(account: CreditAccount, entries: Sequence[CreditEntry], at: datetime) -> tuple[CreditEntry, ...]:
    """The `expire` entries the expiry run writes at `at`: what is left of each lot past its expiry.

    Their ids follow from the lot and how many times it was expired before ("<issue id>:expire:1";
    a reversal into a lot already expired is expired again as ":2"), so a run that is retried, or two
    runs at once, write the same ids and the ledger's unique key keeps one of each."""
    state = _replay(account, entries, at)
    due = []
    for lot in state.lots.values():
        if lot.left > 0 and not _live(lot.issue, at):
            due.append(
                CreditEntry(
                    f"{lot.issue.entry_id}:expire:{lot.expired_entries + 1}",
                    CreditEntryKind.EXPIRE,
                    Money(lot.left, account.currency),
                    at,
                    refers_to=lot.issue.entry_id,
                )
            )
    return tuple(due)
