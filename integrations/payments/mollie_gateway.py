"""Payments through Mollie's Payments API v2 (mollie-api-python): the web shop creates the payment at
checkout, the customer pays or authorizes it there, and the order names it (`payment_method:
"tr_…"`). The gateway never creates payments; it checks the one it is given and settles it.

Two kinds of payment, told apart by the payment's own `captureMode`:

- **Held** (cards with `captureMode: manual`): `authorized` at checkout; captured through the
  Captures API (one capture, when the last shipment has left: Mollie's Captures API is in beta and
  documents no multicapture, so the gateway never promises several), the rest released with
  `POST /payments/{id}/release-authorization` (Mollie's void).
- **Immediate** (iDEAL, Bancontact, every method captured automatically): `paid` at checkout. A
  capture is a no-op that reports captured; voiding money already taken is a **refund**, answered
  with status "refunded" so the caller records a refund, not a release.

Never trusting the order: authorize reads the payment from Mollie and refuses (PaymentRejected) a
payment for another amount or currency, one already captured or refunded, an unknown id; a payment
the customer did not complete (`canceled`, `expired`, `failed`) is PaymentDeclined; one still `open`
or `pending` is CheckoutUnfinished (transient: the checkout may still finish).

Payment links (Mollie's Payment Links API) ask the customer for money after checkout, e.g. the
difference of an exchange's dearer replacement: `POST /v2/payment-links` with the amount and an
`expiresAt` deadline (a plain payment's checkout expires within minutes to hours, a link lives until
the date we give), closed at our deadline or when called off with `PATCH archived: true` (a link
someone paid through cannot be deleted, only archived). Mollie calls the link's `webhookUrl` with
the id of the payment made through it; the payment is found again in the link's own payments list.

Exactly once: every write carries the step's key as Mollie's `Idempotency-Key` and in the object's
metadata (`oms_step`); a retry first looks for a capture or refund labelled with its step, so it
holds after Mollie forgot the key. Mollie's 401, 429 (with its Retry-After), 5xx and network errors
raise PaymentGatewayUnavailable: transient, retried with backoff.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

import requests
from mollie.api.client import Client
from mollie.api.error import Error as MollieError
from mollie.api.error import RequestError, RequestSetupError, ResponseError, ResponseHandlingError
from mollie.api.objects.payment import Payment
from mollie.api.resources.base import ResourceUpdateMixin
from mollie.api.resources.payment_links import PaymentLinks

from domain import limits
from domain.money import Money, MoneyError, currency_exponent
from domain.payment_links import link_status
from integrations.providers import (
    GatewayPayment,
    PaymentDeclined,
    PaymentGatewayUnavailable,
    PaymentLinkState,
    PaymentRejected,
)

PROVIDER: Final = "mollie"
MOLLIE_API: Final = "https://api.mollie.com/v2"
STEP_KEY: Final = "oms_step"
"""Metadata on captures and refunds: the idempotency key of the workflow step that made it."""
PAYMENT_PREFIX: Final = "tr_"
LINK_PREFIX: Final = "pl_"
LINK_ID_MAX: Final = limits.PAYMENT_LINK_ID
_NOT_COMPLETED: Final = {"canceled": "canceled", "expired": "expired", "failed": "failed"}
_IN_PROGRESS: Final = frozenset({"open", "pending"})
_REFUND_FAILED: Final = frozenset({"failed", "canceled"})
_PAGE: Final = 250
"""Mollie's largest page for list endpoints."""

T = TypeVar("T")


class CheckoutUnfinished(RuntimeError):
    """The customer has not finished paying at Mollie yet (open, pending): transient, retry later."""


def minor_units(amount: Any, what: str) -> Money:
    """Mollie's `{"currency": "EUR", "value": "10.00"}` as Money, exactly (never a float)."""
    if not isinstance(amount, dict):
        raise PaymentRejected(f"Mollie sent {what} without an amount")
    currency, value = str(amount.get("currency", "")), str(amount.get("value", ""))
    try:
        return Money.parse(value, currency)
    except MoneyError as exc:
        raise PaymentRejected(f"Mollie sent {what} with an unreadable amount {value!r} {currency}") from exc


def mollie_amount(money: Money) -> dict[str, str]:
    """Money as Mollie's amount object: the value a string with the currency's decimals."""
    exponent = currency_exponent(money.currency)
    value = Decimal(money.amount_minor).scaleb(-exponent)
    return {"currency": money.currency, "value": f"{value:.{exponent}f}"}


def _key(idempotency_key: str) -> str:
    """Mollie's Idempotency-Key (a long step key is hashed, as for Stripe)."""
    if len(idempotency_key) > 255:
        return "oms-sha256-" + hashlib.sha256(idempotency_key.encode()).hexdigest()
    return idempotency_key


def _step_of(item: Any) -> str | None:
    metadata = item.get("metadata") if isinstance(item, dict) else None
    return str(metadata.get(STEP_KEY)) if isinstance(metadata, dict) and STEP_KEY in metadata else None


def is_held(payment: dict[str, Any]) -> bool:
    """A card payment held for manual capture (else immediate: the money was taken at checkout)."""
    return payment.get("captureMode") == "manual"


@dataclass(frozen=True)
class GivenBack:
    """Money given back on a payment outside our own steps: a refund made in Mollie's dashboard
    (no step of ours in its metadata) or a chargeback by the customer's bank."""

    ref: str
    """re_… or chb_…: recorded once each."""
    kind: str
    """refund or chargeback."""
    amount: Money


@dataclass(frozen=True)
class MolliePaymentState:
    """What Mollie says of a payment now, read for its webhook (which carries only the id)."""

    payment_id: str
    status: str
    amount: Money
    given_back: tuple[GivenBack, ...]


class _PaymentLinks(PaymentLinks, ResourceUpdateMixin):
    """mollie-api-python's payment links, with the update (`PATCH`) Mollie documents since 2024."""


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        raise PaymentRejected(f"Mollie sent an unreadable date {value!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class _Answers(threading.local):
    """Per thread: its Mollie client (one HTTP session each) and the last answer's Retry-After,
    which mollie-api-python does not pass on with its errors."""

    client: Client | None = None
    retry_after: str | None = None


class MollieGateway:
    """The PaymentGateway protocol on Mollie payments the checkout created (see the module)."""

    provider = PROVIDER

    def __init__(self, api_key: str, api_url: str = "", *, timeout: float = 5.0) -> None:
        """`api_url`: empty for Mollie itself (https://api.mollie.com/v2), else e.g. the sandbox's
        base URL (with or without `/v2`). `timeout`: per HTTP request, inside the activity's."""
        if not api_key:
            raise ValueError("MollieGateway needs an API key (OMS_MOLLIE_API_KEY)")
        self._api_key = api_key
        endpoint = (api_url or MOLLIE_API).rstrip("/")
        self._endpoint = endpoint.removesuffix("/v2")
        self._timeout = timeout
        self._local = _Answers()

    # -- authorize -----------------------------------------------------------------------------

    def authorize(self, idempotency_key: str, amount: Money, payment_method: str, order_id: str) -> GatewayPayment:
        """Check the checkout's payment: ours to use for exactly `amount`, and paid (immediate) or
        authorized (held)."""
        if not payment_method.startswith(PAYMENT_PREFIX) or len(payment_method) > 64:
            raise PaymentRejected(
                f"order {order_id} names no Mollie payment (payment_method must be the checkout's tr_… id)"
            )
        payment = self.payment(payment_method)
        status = str(payment.get("status"))
        if status in _IN_PROGRESS:
            raise CheckoutUnfinished(f"Mollie payment {payment_method} is still {status}")
        if status in _NOT_COMPLETED:
            raise PaymentDeclined(f"the customer's Mollie payment {payment_method} {_NOT_COMPLETED[status]}")
        paid = minor_units(payment.get("amount"), f"payment {payment_method}")
        if paid != amount:
            raise PaymentRejected(f"Mollie payment {payment_method} is for {paid.format()}, not {amount.format()}")
        if is_held(payment):
            captured = minor_units(
                payment.get("amountCaptured") or mollie_amount(Money(0, amount.currency)), "captured"
            )
            if status != "authorized" or captured.amount_minor:
                raise PaymentRejected(
                    f"Mollie payment {payment_method} is {status} with {captured.format()} captured: it cannot"
                    " authorize an order again"
                )
            return GatewayPayment(self.provider, payment_method, "authorized", amount)
        if status != "paid":
            raise PaymentRejected(f"Mollie payment {payment_method} is {status}, neither paid nor authorized")
        self._nothing_given_back(payment, payment_method, amount)
        return GatewayPayment(self.provider, payment_method, "paid", amount)

    def reauthorize(self, idempotency_key: str, provider_ref: str, amount: Money, order_id: str) -> GatewayPayment:
        """Never: a Mollie payment is made by the customer at Mollie's checkout, for one amount; a
        larger one needs them there again (a new payment), which an order edit cannot ask for."""
        raise PaymentRejected(
            f"Mollie payment {provider_ref} was made by the customer at checkout for one amount: {amount.format()}"
            " needs a new payment by the customer there"
        )

    @staticmethod
    def _nothing_given_back(payment: dict[str, Any], payment_id: str, amount: Money) -> None:
        zero = mollie_amount(Money(0, amount.currency))
        refunded = minor_units(payment.get("amountRefunded") or zero, "refunded")
        charged_back = minor_units(payment.get("amountChargedBack") or zero, "charged back")
        if refunded.amount_minor or charged_back.amount_minor:
            raise PaymentRejected(
                f"Mollie payment {payment_id} was partly given back already ({refunded.format()} refunded,"
                f" {charged_back.format()} charged back): a person must look at it"
            )

    # -- capture, void, refund -----------------------------------------------------------------

    def capture(self, idempotency_key: str, provider_ref: str, amount: Money, *, final: bool = True) -> GatewayPayment:
        """Held: one capture of `amount` (found again by its step on a retry). Immediate: a no-op,
        the money was taken at checkout."""
        payment = self.payment(provider_ref)
        if not is_held(payment):
            if payment.get("status") != "paid":
                raise PaymentRejected(f"Mollie payment {provider_ref} is {payment.get('status')}, not paid")
            return GatewayPayment(self.provider, provider_ref, "captured", amount)
        if self._labelled(payment, "captures", idempotency_key) is None:
            if payment.get("status") != "authorized":
                raise PaymentRejected(
                    f"Mollie refused capturing on {provider_ref}: the payment is {payment.get('status')}"
                )
            body = {
                "amount": mollie_amount(amount),
                "description": f"capture {amount.format()}",
                "metadata": {STEP_KEY: idempotency_key},
            }
            captures = payment.captures
            self._call(
                f"capturing {amount.format()} on {provider_ref}", lambda: captures.create(body, _key(idempotency_key))
            )
        return GatewayPayment(self.provider, provider_ref, "captured", amount)

    def void(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment:
        """Held: release what is left of the authorization (Mollie releases it as a whole).
        Immediate: the money was taken, so `amount` is refunded (status "refunded")."""
        payment = self.payment(provider_ref)
        if not is_held(payment):
            refund = self._refund(payment, idempotency_key, amount, f"order cancelled: {amount.format()} back")
            return GatewayPayment(self.provider, str(refund.get("id")), "refunded", amount)
        if payment.get("status") != "authorized":  # released, fully captured or expired: nothing held
            return GatewayPayment(self.provider, provider_ref, "voided", amount)
        held = (
            minor_units(payment.get("amount"), "amount").amount_minor
            - minor_units(
                payment.get("amountCaptured") or mollie_amount(Money(0, amount.currency)), "captured"
            ).amount_minor
        )
        if amount.amount_minor != held:
            raise PaymentRejected(
                f"cannot void {amount.format()} of {provider_ref}: Mollie releases what is left of an"
                f" authorization only as a whole ({held} minor units)"
            )
        self._call(
            f"releasing the authorization of {provider_ref}",
            lambda: self._client().payments.release_authorization(provider_ref, _key(idempotency_key)),
        )
        return GatewayPayment(self.provider, provider_ref, "voided", amount)

    def refund(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment:
        """Refund `amount` of what was taken; the answer's `provider_ref` is the refund's id."""
        refund = self._refund(self.payment(provider_ref), idempotency_key, amount, f"return: {amount.format()} back")
        return GatewayPayment(self.provider, str(refund.get("id")), "refunded", amount)

    def _refund(self, payment: Payment, idempotency_key: str, amount: Money, description: str) -> dict[str, Any]:
        payment_id = str(payment.get("id"))
        refund = self._labelled(payment, "refunds", idempotency_key)
        if refund is None:
            body = {
                "amount": mollie_amount(amount),
                "description": description,
                "metadata": {STEP_KEY: idempotency_key},
            }
            refunds = payment.refunds
            refund = self._call(
                f"refunding {amount.format()} on {payment_id}", lambda: refunds.create(body, _key(idempotency_key))
            )
        made = minor_units(refund.get("amount"), f"refund {refund.get('id')}")
        if made != amount:
            raise PaymentRejected(f"Mollie refund {refund.get('id')} of step {idempotency_key} is for {made.format()}")
        if refund.get("status") in _REFUND_FAILED:
            raise PaymentRejected(f"Mollie refund {refund.get('id')} {refund.get('status')}")
        return dict(refund)

    # -- payment links -------------------------------------------------------------------------

    def create_payment_link(
        self,
        idempotency_key: str,
        amount: Money,
        description: str,
        expires_at: datetime,
        webhook_url: str | None = None,
    ) -> PaymentLinkState:
        """A one-off link for `amount`, payable until `expires_at` (whole seconds, UTC). The step's
        key is the Idempotency-Key: a retry answers the same link. `webhook_url`: left out when
        Mollie could not reach it (localhost); the caller then reads the link on its own schedule."""
        body: dict[str, Any] = {
            "description": description[:255],
            "amount": mollie_amount(amount),
            "expiresAt": expires_at.astimezone(UTC).replace(microsecond=0).isoformat(),
            "reusable": False,
        }
        if webhook_url:
            body["webhookUrl"] = webhook_url
        links = self._links()
        made = self._call(
            f"creating a payment link for {amount.format()}", lambda: links.create(body, _key(idempotency_key))
        )
        return self._link_state(dict(made))

    def payment_link(self, link_id: str) -> PaymentLinkState:
        """The link now, with the payment that paid it (PaymentRejected for an id Mollie does not know)."""
        if not link_id.startswith(LINK_PREFIX) or len(link_id) > LINK_ID_MAX:
            raise PaymentRejected(f"{link_id!r} is not a Mollie payment link id")
        links = self._links()
        found = self._call(f"reading {link_id}", lambda: links.get(link_id))
        return self._link_state(dict(found))

    def archive_payment_link(self, idempotency_key: str, link_id: str) -> PaymentLinkState:
        """Close the link so nobody can pay through it any more, then read it again: a payment
        that came first still counts (status PAID)."""
        links = self._links()
        self._call(f"archiving {link_id}", lambda: links.update(link_id, {"archived": True}, _key(idempotency_key)))
        return self.payment_link(link_id)

    def link_payments(self, link_id: str) -> list[dict[str, Any]]:
        """The payments made through the link (`GET /v2/payment-links/{id}/payments`)."""
        links = self._links()
        listed = self._call(
            f"listing the payments of {link_id}",
            lambda: links.perform_api_call(
                links.REST_LIST, f"payment-links/{link_id}/payments", params={"limit": _PAGE}
            ),
        )
        embedded = listed.get("_embedded") or {}
        return [dict(item) for item in embedded.get("payments") or []]

    def _link_state(self, link: dict[str, Any]) -> PaymentLinkState:
        link_id = str(link.get("id"))
        if not link_id.startswith(LINK_PREFIX) or len(link_id) > LINK_ID_MAX:
            raise PaymentRejected(f"Mollie sent a payment link id we cannot keep: {link_id[:80]!r}")
        amount = minor_units(link.get("amount"), f"payment link {link_id}")
        expires_at = _when(link.get("expiresAt"))
        payment_id: str | None = None
        if link.get("paidAt"):
            paid = [p for p in self.link_payments(link_id) if p.get("status") == "paid"]
            payment_id = str(paid[0]["id"]) if paid else None
        status = link_status(
            paid=payment_id is not None,
            archived=bool(link.get("archived")),
            expires_at=expires_at,
            now=datetime.now(UTC),
        )
        url = str(((link.get("_links") or {}).get("paymentLink") or {}).get("href") or "")
        if not url.startswith("https://") or len(url) > limits.PAYMENT_LINK_URL:
            # Shown to the customer as a link: only an https page, and one we can keep.
            raise PaymentRejected(f"Mollie sent payment link {link_id} without an https page to pay it")
        return PaymentLinkState(link_id, url, amount, status, payment_id, expires_at)

    def _links(self) -> _PaymentLinks:
        client = self._client()
        links = getattr(client, "oms_payment_links", None)
        if links is None:
            links = _PaymentLinks(client)
            client.oms_payment_links = links  # type: ignore[attr-defined]
        return links

    # -- reading -------------------------------------------------------------------------------

    def payment(self, payment_id: str) -> Payment:
        """The payment as Mollie has it now (PaymentRejected for an id Mollie does not know)."""
        if not payment_id.startswith(PAYMENT_PREFIX):
            raise PaymentRejected(f"{payment_id!r} is not a Mollie payment id")
        payment: Payment = self._call(f"reading {payment_id}", lambda: self._client().payments.get(payment_id))
        return payment

    def state_of(self, payment_id: str) -> MolliePaymentState:
        """The payment, its refunds made outside our steps and its chargebacks (failed or canceled
        refunds gave nothing back and are left out)."""
        payment = self.payment(payment_id)
        amount = minor_units(payment.get("amount"), f"payment {payment_id}")
        links = payment.get("_links") or {}
        given: list[GivenBack] = []
        if "refunds" in links:
            for refund in self.listed(payment, "refunds"):
                if _step_of(refund) is None and refund.get("status") not in _REFUND_FAILED:
                    money = minor_units(refund.get("amount"), f"refund {refund.get('id')}")
                    given.append(GivenBack(str(refund.get("id")), "refund", money))
        if "chargebacks" in links:
            for chargeback in self.listed(payment, "chargebacks"):
                if chargeback.get("reversedAt"):
                    continue  # the bank reversed it: the money came back to the merchant
                money = minor_units(chargeback.get("amount"), f"chargeback {chargeback.get('id')}")
                given.append(GivenBack(str(chargeback.get("id")), "chargeback", money))
        return MolliePaymentState(payment_id, str(payment.get("status")), amount, tuple(given))

    def listed(self, payment: Payment, kind: str) -> Iterator[dict[str, Any]]:
        """The payment's captures, refunds or chargebacks, every page."""
        resource = getattr(payment, kind)
        page = self._call(f"listing the {kind} of {payment.get('id')}", lambda: resource.list(limit=_PAGE))
        while True:
            yield from (dict(item) for item in page)
            if not page.has_next():
                return
            page = self._call(f"listing the {kind} of {payment.get('id')}", page.get_next)

    def _labelled(self, payment: Payment, kind: str, idempotency_key: str) -> dict[str, Any] | None:
        """The capture or refund an earlier attempt of this step made, if any."""
        links = payment.get("_links") or {}
        if kind not in links:  # Mollie links only what exists
            return None
        return next((item for item in self.listed(payment, kind) if _step_of(item) == idempotency_key), None)

    # -- HTTP ----------------------------------------------------------------------------------

    def _client(self) -> Client:
        local = self._local
        if local.client is None:
            client = Client(api_endpoint=self._endpoint, timeout=self._timeout, retry=0)  # type: ignore[arg-type]
            client.set_api_key(self._api_key)
            session = requests.Session()
            session.hooks["response"].append(self._remember_retry_after)
            client._client = session
            local.client = client
        return local.client

    def _remember_retry_after(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._local.retry_after = response.headers.get("Retry-After")

    def _call(self, action: str, call: Callable[[], T]) -> T:
        """One request; Mollie's refusals as PaymentRejected, what may pass as PaymentGatewayUnavailable."""
        self._local.retry_after = None
        try:
            return call()
        except ResponseError as exc:
            status = int(exc.status or 0)
            if status in (401, 403):
                raise PaymentGatewayUnavailable(
                    f"Mollie refused our API key while {action} ({status}): check OMS_MOLLIE_API_KEY"
                ) from exc
            if status == 429 or status >= 500:
                raise PaymentGatewayUnavailable(
                    f"Mollie answered {status} while {action}: {exc}", retry_after=_seconds(self._local.retry_after)
                ) from exc
            field = f" [{exc.field}]" if exc.field else ""
            raise PaymentRejected(f"Mollie refused {action} ({status}): {exc}{field}") from exc
        except RequestSetupError:
            # Its message quotes the key: never let it reach a log or a workflow history.
            raise PaymentGatewayUnavailable(
                f"the Mollie API key is not one Mollie issues (live_… or test_…) while {action}:"
                " check OMS_MOLLIE_API_KEY"
            ) from None
        except (RequestError, ResponseHandlingError) as exc:
            raise PaymentGatewayUnavailable(f"Mollie did not answer while {action}: {exc}") from exc
        except MollieError as exc:
            raise PaymentRejected(f"Mollie refused {action}: {exc}") from exc


def _seconds(header: str | None) -> float | None:
    """Mollie's Retry-After (delta-seconds) as seconds; None when absent or unreadable."""
    if not header:
        return None
    try:
        seconds = float(header.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 and seconds == seconds else None
