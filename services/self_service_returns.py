"""The customer asks for a return from the tracking page (issue 15 item 5): no account, the signed
tracking link is the credential, so everything here is said with that in mind.

- Open while the order's returns window is (the order SHIPPED, something left to send back); the
  request goes to the order's workflow like support's (services.returns), with source "customer": it
  waits for support's approval, or is REQUESTED at once when OMS_RETURN_AUTO_APPROVE is on.
- Throttled per link and per network address, in the sign-in throttle's table and with its rule
  (domain.accounts.after_failure: so many tries in a window, then locked for a while): the keys are
  hashes, so neither the link (a credential) nor the address is kept.
- The form carries a token signed for this link alone, that lasts FORM_MAX_AGE: a page of another
  site cannot post it, and a form kept open for a day asks to be reloaded.
- Nothing personal is shown or answered: the order's reference, item names, quantities, the RMA."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadData, TimestampSigner

from config import Settings
from contracts.returns import ReturnRequest, ReturnRequestLine
from domain.accounts import Throttle, after_failure, locked_for
from domain.return_lifecycle import ReturnState
from domain.returns import ReturnReason, reason_text
from domain.status import OrderStatus
from persistence.conflicts import ConcurrentWrite
from services.errors import Conflict, NotFound, ServiceError
from services.returns import ReturnOptions, Returns
from services.tracking import read_token
from services.unit_of_work import AbstractUnitOfWork, UnitOfWorkFactory

TRIES_PER_LINK = 5
"""Return requests (or attempts) from one tracking link within domain.accounts.WINDOW."""
TRIES_PER_ADDRESS = 20
"""From one network address (a household, an office), over every link."""
FORM_MAX_AGE = timedelta(hours=2)
NOTE_LENGTH = 500
_FORM_SALT = "self-service-return-form"
_WRITE_ATTEMPTS = 3

CUSTOMER = "customer"


class TooManyTries(ServiceError):
    """Throttled: try again after `wait`."""

    def __init__(self, wait: timedelta) -> None:
        super().__init__("too many return requests from here: please try again later")
        self.wait = wait


class FormExpired(ServiceError):
    """The form's token is not this link's, or is too old."""


class FormRefused(ServiceError):
    """What was asked cannot be returned: why, per SKU ("" for the request as a whole)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors.get("") or "please check the quantities")
        self.errors = errors


@dataclass(frozen=True)
class CustomerReturnLine:
    sku: str
    name: str
    left: int
    """Units that may still come back."""


@dataclass(frozen=True)
class CustomerReturnForm:
    """What the customer's return form shows, and nothing more."""

    reference: str
    lines: tuple[CustomerReturnLine, ...]
    refusal: str | None
    """Why no return can be asked for now (in the customer's words), None when it can."""


@dataclass(frozen=True)
class CustomerReturn:
    """A return as the customer sees it after asking: the RMA and what comes next."""

    reference: str
    rma: str
    state: str
    next_step: str
    label_ready: bool


_NEXT_STEP = {
    ReturnState.AWAITING_APPROVAL.value: "We will look at your request shortly. Once it is approved, this page shows "
    "how to send the items back.",
    ReturnState.REQUESTED.value: "Pack the items, write the return number on the parcel and send it to us. "
    "When a return label is ready it appears on this page.",
    ReturnState.RECEIVED.value: "Your parcel has arrived; we are checking it.",
    ReturnState.DISPOSED.value: "Your parcel has arrived; we are checking it.",
    ReturnState.RESOLVED.value: "Your return is complete.",
    ReturnState.EXPIRED.value: "We did not receive a parcel in time. If you sent one, it will still be handled.",
    ReturnState.REJECTED.value: "We could not accept this return. Our customer service will explain why.",
    ReturnState.CANCELLED.value: "This return was cancelled.",
}


def customer_refusal(options: ReturnOptions) -> str | None:
    """Why the customer cannot ask for a return now, or None."""
    if options.by_channel:
        return "This order was sent by the shop you bought it from: please return it there."
    if options.status == OrderStatus.COMPLETED.value or options.status == OrderStatus.CANCELLED.value:
        return "The return period for this order has ended."
    if options.status != OrderStatus.SHIPPED.value or options.refusal is not None:
        if options.order is not None and any(line.shipped for line in options.lines) and not options.returnable:
            return "Everything that reached you has been returned already."
        return "Returns can be asked for once your order has reached you."
    return None


def _hashed(kind: str, value: str) -> str:
    return f"self-return:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


class SelfServiceReturns:
    def __init__(
        self,
        settings: Settings,
        units: UnitOfWorkFactory,
        returns: Returns,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._units = units
        self._returns = returns
        self.clock = clock

    # -- the form ---------------------------------------------------------------------------------

    def form(self, token: str) -> CustomerReturnForm:
        """NotFound for a link that does not verify or an order we do not have (alike)."""
        order_id = self._order_of(token)
        options = self._options(order_id)
        lines = tuple(CustomerReturnLine(line.sku, line.title or line.sku, line.left) for line in options.lines)
        return CustomerReturnForm(self._reference(order_id), lines, customer_refusal(options))

    def form_token(self, token: str) -> str:
        """The token the form carries: signed for this link, with the time it was made."""
        return self._signer().sign(hashlib.sha256(token.encode()).hexdigest()).decode()

    def _form_token_holds(self, token: str, posted: str) -> bool:
        try:
            value = self._signer().unsign(posted, max_age=int(FORM_MAX_AGE.total_seconds()))
        except BadData:
            return False
        return value.decode() == hashlib.sha256(token.encode()).hexdigest()

    def _signer(self) -> TimestampSigner:
        return TimestampSigner(self._settings.tracking_secret, salt=_FORM_SALT, digest_method=hashlib.sha256)

    # -- asking -----------------------------------------------------------------------------------

    async def ask(
        self, token: str, address: str, posted_token: str, units: Mapping[str, int], reason: str, note: str
    ) -> str:
        """The return asked for, its RMA. TooManyTries, NotFound (the link), FormExpired,
        FormRefused (what or why), Conflict (the window closed meanwhile), EngineUnavailable."""
        await asyncio.to_thread(self._count_try, token, address)
        order_id = self._order_of(token)
        if not self._form_token_holds(token, posted_token):
            raise FormExpired("this form has expired: please reload the page and try again")
        options = await asyncio.to_thread(self._options, order_id)
        if (refusal := customer_refusal(options)) is not None:
            raise Conflict(refusal)
        errors = options.problems(units)
        if reason not in {r.value for r in ReturnReason}:
            errors["reason"] = "please choose a reason"
        if len(note) > NOTE_LENGTH:
            errors["note"] = f"please keep the note under {NOTE_LENGTH} characters"
        if errors:
            raise FormRefused(errors)
        request = ReturnRequest(
            lines=[ReturnRequestLine(sku, n) for sku, n in units.items() if n > 0],
            reason=reason_text(ReturnReason(reason), " ".join(note.split())),
            requested_by=CUSTOMER,
            source=CUSTOMER,
        )
        accepted = await self._returns.request(order_id, request)
        return accepted.rma

    def _count_try(self, token: str, address: str) -> None:
        now = self.clock()
        keys = {_hashed("link", token): TRIES_PER_LINK, _hashed("address", address): TRIES_PER_ADDRESS}
        with self._units(read_only=True) as uow:
            waits = [locked_for(uow.accounts.throttle(key), now) for key in keys]
        longest = max((wait for wait in waits if wait is not None), default=None)
        if longest is not None:
            raise TooManyTries(longest)
        for key, limit in keys.items():
            self._count(key, limit, now)

    def _count(self, key: str, limit: int, now: datetime) -> Throttle:
        for _attempt in range(_WRITE_ATTEMPTS):
            with self._units() as uow:
                state = after_failure(uow.accounts.throttle(key, for_update=True), now, limit)
                uow.accounts.save_throttle(key, state)
                try:
                    uow.commit()
                except ConcurrentWrite:  # another request counted this key's first try: count again
                    continue
                return state
        raise TooManyTries(timedelta(seconds=1))

    # -- after ------------------------------------------------------------------------------------

    def asked(self, token: str, rma: str) -> CustomerReturn:
        """A return of this link's order by its RMA (NotFound for any other)."""
        order_id = self._order_of(token)
        with self._units(read_only=True) as uow:
            record = uow.returns.find(rma.strip())
            if record is None or record.order_id != order_id or record.state is None or not record.rma:
                raise NotFound("no such return on this order")
            label = uow.returns.label(record.return_id)
            reference = self._reference_in(uow, order_id)
            return CustomerReturn(
                reference,
                record.rma,
                record.state,
                _NEXT_STEP.get(record.state, ""),
                label is not None and label.status == "ready",
            )

    def label(self, token: str, rma: str) -> tuple[bytes, str]:
        """The return label's PDF and media type (NotFound when this link's order has no such one)."""
        order_id = self._order_of(token)
        with self._units(read_only=True) as uow:
            record = uow.returns.find(rma.strip())
            if record is None or record.order_id != order_id:
                raise NotFound("no such return on this order")
            found = uow.returns.label_document(record.return_id)
        if found is None:
            raise NotFound("this return has no label")
        return found

    # -- helpers ----------------------------------------------------------------------------------

    def _order_of(self, token: str) -> str:
        order_id = read_token(self._settings.tracking_secret, token)
        if not order_id:
            raise NotFound("no order for this link")
        return order_id

    def _options(self, order_id: str) -> ReturnOptions:
        return self._returns.options(order_id)

    def _reference(self, order_id: str) -> str:
        with self._units(read_only=True) as uow:
            return self._reference_in(uow, order_id)

    @staticmethod
    def _reference_in(uow: AbstractUnitOfWork, order_id: str) -> str:
        record = uow.orders.get(order_id)
        if record is None:
            raise NotFound("no order for this link")
        return str(record.reference or record.external_id)
