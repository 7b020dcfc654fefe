"""Payments through Stripe's API: one manual-capture PaymentIntent per order, captured as it ships,
cancelled (voided) when nothing more will ship, refunded for returns.

Exactly once, in three layers:

1. Our own record per workflow step (`persistence.guarded_writes.idempotency.run_once`): a step
   whose result committed keeps that result. run_once runs the effect before its key's insert finds
   a repeat, though, so even then the gateway is called again and has to give the same answer (2
   and 3).
2. Stripe's `Idempotency-Key`, set to the step's key on every write: a retry of a step whose Stripe
   call succeeded but whose commit did not (worker died, database blip) gets Stripe's first answer
   back instead of a second PaymentIntent, capture or refund. Stripe keeps a key for at least 24 h
   and also replays a stored error (a 402 decline, even a 500) for that long.
3. The step's key in the object's metadata (`oms_step`, `oms_capture`), checked before writing again
   on a retry: covers a retry after Stripe pruned the key, and servers that ignore the header
   (localstripe). PaymentIntents are looked up with the Search API (not on localstripe, which gets a
   bounded list scan instead), refunds by listing the intent's refunds, a capture by reading the
   intent back.

A PaymentIntent belongs to one order and one authorization step: the gateway uses an intent only
when its metadata names this order and step (or, for an intent the checkout confirmed, names no
step yet: then it is labelled), and only while it can still be captured. It never relabels another
order's intent, and a captured intent never counts as a new authorization. Capture, void and refund
act only on the intent the order's own authorization recorded, so this check at authorization is
what keeps them on the order's own money.

Card declines raise `PaymentDeclined` (a business outcome); requests Stripe refuses as such raise
`PaymentRejected`; everything transient (connection errors, rate limits, 5xx, auth/config errors)
propagates unchanged so Temporal retries it with backoff.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Final, TypeVar

import stripe
from stripe.params import PaymentIntentCreateParams
from temporalio import activity

from domain.money import Money
from integrations.providers import GatewayPayment, PaymentDeclined, PaymentRejected

STEP_KEY: Final = "oms_step"
"""Metadata on PaymentIntents and Refunds: the idempotency key of the workflow step that created it."""
ORDER_KEY: Final = "order_id"
CAPTURE_KEY: Final = "oms_capture"
"""Metadata on a PaymentIntent: the step that captured (or is capturing) it."""
REPLACES_KEY: Final = "oms_replaces"
"""Metadata on a PaymentIntent made for an edited order: the intent it replaces."""

# What a PaymentIntent's status means for an authorization the engine asked for.
_ADOPTABLE = frozenset({"requires_capture", "processing"})
"""Can still be captured (processing: the card network has not answered yet)."""
_DECLINED = frozenset({"requires_payment_method", "requires_action", "canceled"})

T = TypeVar("T")


class PaymentPending(RuntimeError):
    """The payment is still processing at Stripe: transient, retry later."""


def _first_attempt_of_an_activity() -> bool:
    """True only on the first attempt of a Temporal activity: then nothing can exist yet for its key
    (a workflow reset that repeats a step is covered by Stripe's idempotency key). Outside an
    activity (scripts, tests) we cannot know, so we look."""
    return activity.in_activity() and activity.info().attempt == 1


def _metadata(obj: object) -> dict[str, str]:
    raw = getattr(obj, "metadata", None)
    if raw is None:
        return {}
    values = raw.to_dict() if hasattr(raw, "to_dict") else dict(raw)
    return {str(key): str(value) for key, value in values.items()}


def _not_ours(intent: stripe.PaymentIntent, order_id: str, idempotency_key: str) -> str | None:
    """Why this authorization step must not use the intent, or None: labelled for this order and
    step, or not labelled by any order or step yet (fresh from the checkout)."""
    labels = _metadata(intent)
    owner, step = labels.get(ORDER_KEY), labels.get(STEP_KEY)
    if owner is not None and owner != order_id:
        return f"PaymentIntent {intent.id} belongs to order {owner}" + (f" (step {step})" if step else "")
    if step is not None and step != idempotency_key:
        return f"PaymentIntent {intent.id} is the authorization of step {step}, not of {idempotency_key}"
    return None


def _multicapture(intent: stripe.PaymentIntent) -> bool:
    """Whether Stripe granted multicapture on the intent's charge (only when it was requested)."""
    charge = getattr(intent, "latest_charge", None)
    details = getattr(charge, "payment_method_details", None) if charge and not isinstance(charge, str) else None
    card = getattr(details, "card", None) if details else None
    multicapture = getattr(card, "multicapture", None) if card else None
    return getattr(multicapture, "status", None) == "available"


def _id_of(value: object) -> str:
    """The id of a field Stripe gives as an id or, expanded, as the object."""
    if value is None or isinstance(value, str):
        return value or ""
    return str(getattr(value, "id", "") or "")


def _stripe_message(exc: stripe.StripeError) -> str:
    return exc.user_message or str(exc) or type(exc).__name__


def _rejected(action: str, exc: stripe.StripeError) -> PaymentRejected:
    code = getattr(exc, "code", None)
    detail = f"{_stripe_message(exc)}" + (f" [{code}]" if code else "")
    request = f" (Stripe request {exc.request_id})" if exc.request_id else ""
    return PaymentRejected(f"Stripe refused {action}: {detail}{request}")


def _once(idempotency_key: str) -> stripe.RequestOptions:
    """Request options carrying the step's key as Stripe's idempotency key (at most 255 characters:
    a longer step key is hashed)."""
    if len(idempotency_key) > 255:
        idempotency_key = "oms-sha256-" + hashlib.sha256(idempotency_key.encode()).hexdigest()
    return {"idempotency_key": idempotency_key}


def _quote(value: str) -> str:
    """A string literal of Stripe's search query language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class StripeGateway:
    """The PaymentGateway protocol on Stripe PaymentIntents (manual capture), plus `refund`.

    Each gateway has its own `stripe.StripeClient`, so gateways with different keys or servers can
    live in one process. Calls are synchronous (activities run in a thread pool); the HTTP client
    keeps one session per thread.
    """

    provider = "stripe"

    def __init__(
        self,
        secret_key: str,
        api_base: str | None = None,
        *,
        payment_method_types: Sequence[str] = ("card",),
        timeout: float = 10.0,
        max_network_retries: int = 0,
        scan_limit: int = 1000,
        request_multicapture: bool = False,
    ) -> None:
        """`api_base`: None or "" for Stripe itself, else e.g. a localstripe URL.
        `payment_method_types`: what a server-confirmed intent may use (cards authorize and capture
        later without redirecting the customer). `timeout`: per HTTP request, well inside the
        activity's start-to-close timeout. `max_network_retries`: the SDK's own quick retries (with
        the same idempotency key); 0 leaves retrying to Temporal. `scan_limit`: how many recent
        intents a lookup reads where the Search API is missing. `request_multicapture`: ask Stripe
        for multicapture (`if_available`, an IC+ feature), so each shipment is captured as it
        leaves; where the card or account does not offer it, the order is captured once, when
        the last shipment leaves."""
        if not secret_key:
            raise ValueError("StripeGateway needs a secret key (OMS_STRIPE_SECRET_KEY)")
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self._payment_method_types = list(payment_method_types)
        self._scan_limit = scan_limit
        self._search_available = True
        self._request_multicapture = request_multicapture

    # -- authorize -----------------------------------------------------------------------------

    def authorize(self, idempotency_key: str, amount: Money, payment_method: str, order_id: str) -> GatewayPayment:
        """Create and confirm a manual-capture PaymentIntent for `amount`.

        `payment_method`: a PaymentMethod id (`pm_…`, or a legacy `card_…`/`src_…`) from the shop's
        checkout, or a PaymentIntent (`pi_…`) the checkout already confirmed with manual capture,
        which is adopted after checking its amount.
        """
        if not payment_method:
            raise PaymentRejected(f"order {order_id} has no payment method to authorize")
        if payment_method.startswith("pi_"):
            return self._adopt(idempotency_key, amount, payment_method, order_id)
        if not _first_attempt_of_an_activity():
            found = self._find_intent(idempotency_key, order_id)
            if found is not None:
                return self._authorization(found, amount)
        params: PaymentIntentCreateParams = {
            "amount": amount.amount_minor,
            "currency": amount.currency.lower(),
            "capture_method": "manual",
            "confirm": True,
            "payment_method": payment_method,
            "payment_method_types": self._payment_method_types,
            "metadata": {ORDER_KEY: order_id, STEP_KEY: idempotency_key},
        }
        return self._create(params, idempotency_key, amount, order_id)

    def reauthorize(self, idempotency_key: str, provider_ref: str, amount: Money, order_id: str) -> GatewayPayment:
        """A new manual-capture PaymentIntent for `amount` (an edited order costs more) on the card
        of the intent `provider_ref` (its PaymentMethod, and its Customer when it has one),
        confirmed off-session: the customer is not there. The old intent is left as it is; the
        caller cancels it once this one holds.

        Stripe charges a card again without the customer only when it was saved for that (attached
        to a Customer); otherwise it refuses the request (PaymentRejected). A card that wants the
        customer to authenticate (3-D Secure) declines (PaymentDeclined), as does one without funds."""
        if not _first_attempt_of_an_activity():
            found = self._find_intent(idempotency_key, order_id)
            if found is not None:
                return self._authorization(found, amount)
        held = self._retrieve(provider_ref, f"reading {provider_ref} to authorize {amount.format()} anew")
        owner = _metadata(held).get(ORDER_KEY)
        if owner is not None and owner != order_id:
            raise PaymentRejected(f"PaymentIntent {held.id} belongs to order {owner}: order {order_id} cannot use it")
        method, customer = _id_of(held.payment_method), _id_of(held.customer)
        if not method:
            raise PaymentRejected(f"PaymentIntent {held.id} names no payment method to authorize anew")
        params: PaymentIntentCreateParams = {
            "amount": amount.amount_minor,
            "currency": amount.currency.lower(),
            "capture_method": "manual",
            "confirm": True,
            "off_session": True,
            "payment_method": method,
            "payment_method_types": self._payment_method_types,
            "metadata": {ORDER_KEY: order_id, STEP_KEY: idempotency_key, REPLACES_KEY: held.id},
        }
        if customer:
            params["customer"] = customer
        return self._create(params, idempotency_key, amount, order_id)

    def _create(
        self, params: PaymentIntentCreateParams, idempotency_key: str, amount: Money, order_id: str
    ) -> GatewayPayment:
        if self._request_multicapture:
            params["payment_method_options"] = {"card": {"request_multicapture": "if_available"}}
            params["expand"] = ["latest_charge"]
        try:
            intent = self._client.v1.payment_intents.create(params, _once(idempotency_key))
        except stripe.CardError as exc:
            raise PaymentDeclined(_stripe_message(exc)) from exc
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as exc:
            raise _rejected(f"authorizing {amount.format()} for order {order_id}", exc) from exc
        return self._authorization(intent, amount)

    def _adopt(self, idempotency_key: str, amount: Money, intent_id: str, order_id: str) -> GatewayPayment:
        """An intent the checkout created and confirmed: check it is this step's (or nobody's yet)
        and still capturable, label it with the order and step, use it. Another order's intent is
        refused and left as it is.

        Stripe has no conditional update, so two orders naming one fresh intent at the same moment
        could both label it; only one capture of it can succeed then (the other order is held)."""
        intent = self._retrieve(intent_id, f"reading {intent_id} for order {order_id}")
        if intent.capture_method != "manual":
            raise PaymentRejected(
                f"PaymentIntent {intent.id} captures automatically ({intent.capture_method}): the checkout"
                " took the money already, so the order should arrive as paid"
            )
        refusal = _not_ours(intent, order_id, idempotency_key)
        if refusal is not None:
            raise PaymentRejected(f"{refusal}: order {order_id} cannot use it")
        self._same_amount(intent, amount)
        if intent.status in _ADOPTABLE and _metadata(intent).get(STEP_KEY) != idempotency_key:
            intent = self._call_rejecting(
                f"labelling {intent_id} for order {order_id}",
                lambda: self._client.v1.payment_intents.update(
                    intent_id, {"metadata": {ORDER_KEY: order_id, STEP_KEY: idempotency_key}}
                ),
            )
        return self._authorization(intent, amount)

    @staticmethod
    def _same_amount(intent: stripe.PaymentIntent, amount: Money) -> None:
        if intent.amount != amount.amount_minor or intent.currency.upper() != amount.currency:
            raise PaymentRejected(
                f"PaymentIntent {intent.id} is for {intent.amount} {intent.currency.upper()} (minor units),"
                f" not {amount.format()}"
            )

    def _authorization(self, intent: stripe.PaymentIntent, amount: Money) -> GatewayPayment:
        """What an intent (new, found again or adopted) means for the authorization asked for."""
        self._same_amount(intent, amount)
        if intent.status == "requires_capture":
            return GatewayPayment(self.provider, intent.id, "authorized", amount, multicapture=_multicapture(intent))
        if intent.status == "succeeded":
            captured_by = _metadata(intent).get(CAPTURE_KEY)
            raise PaymentRejected(
                f"PaymentIntent {intent.id} was captured already"
                + (f" (step {captured_by})" if captured_by else "")
                + ": it cannot authorize an order again"
            )
        if intent.status in _DECLINED:
            error = intent.last_payment_error
            if intent.status == "requires_action":
                reason = "the card needs the customer to authenticate (3-D Secure), which the checkout must do"
            elif intent.status == "canceled":
                why = getattr(intent, "cancellation_reason", None) or "no reason given"
                reason = f"the authorization was canceled ({why})"
            else:
                reason = (error.message if error is not None else None) or "the payment method was declined"
            raise PaymentDeclined(reason)
        if intent.status == "processing":
            raise PaymentPending(f"PaymentIntent {intent.id} is still processing")
        raise PaymentRejected(f"PaymentIntent {intent.id} is in state {intent.status}, not authorized")

    def _find_intent(self, idempotency_key: str, order_id: str) -> stripe.PaymentIntent | None:
        """The intent an earlier attempt of this step created for this order, if any: the oldest one
        that can still be captured, else the newest (declined, or captured: refused)."""
        candidates = [
            intent
            for intent in self._intents_labelled(idempotency_key)
            if _not_ours(intent, order_id, idempotency_key) is None
        ]
        live = [intent for intent in candidates if intent.status in _ADOPTABLE]
        if live:
            return min(live, key=lambda intent: intent.created)
        return max(candidates, key=lambda intent: intent.created, default=None)

    def _intents_labelled(self, idempotency_key: str) -> list[stripe.PaymentIntent]:
        if self._search_available:
            query = f"metadata[{_quote(STEP_KEY)}]:{_quote(idempotency_key)}"
            try:
                found = self._client.v1.payment_intents.search({"query": query, "limit": 100})
            except stripe.InvalidRequestError:
                # No Search API here (localstripe answers 404; Stripe does not offer it in India).
                self._search_available = False
            else:
                # Search lags writes by up to a minute: a miss right after the first attempt is
                # covered by Stripe's idempotency key, which create() sends.
                return [intent for intent in found.data if _metadata(intent).get(STEP_KEY) == idempotency_key]
        return [intent for intent in self._recent_intents() if _metadata(intent).get(STEP_KEY) == idempotency_key]

    def _recent_intents(self) -> Iterable[stripe.PaymentIntent]:
        page = self._client.v1.payment_intents.list({"limit": 100})
        for count, intent in enumerate(page.auto_paging_iter()):
            if count >= self._scan_limit:
                return
            yield intent

    # -- capture, void, refund -----------------------------------------------------------------

    def capture(self, idempotency_key: str, provider_ref: str, amount: Money, *, final: bool = True) -> GatewayPayment:
        """Capture `amount` (all or part) of the authorization. Without Stripe's multicapture a
        PaymentIntent takes one capture, which releases the rest of the authorization; with it,
        `final=False` leaves the rest capturable for the next shipment (a retry of such a capture
        is deduplicated by Stripe's idempotency key, which it keeps for 24 hours).

        Reads the intent first (a retry after success ends there), labels it with the step
        (Stripe's capture call takes metadata, localstripe's does not), then captures with the
        step's idempotency key."""
        action = f"capturing {amount.format()} on {provider_ref}"
        intent = self._retrieve(provider_ref, action)
        if intent.status != "requires_capture":
            return self._captured_before(intent, idempotency_key, amount, action, None)
        try:
            self._client.v1.payment_intents.update(provider_ref, {"metadata": {CAPTURE_KEY: idempotency_key}})
            self._client.v1.payment_intents.capture(
                provider_ref,
                {"amount_to_capture": amount.amount_minor}
                if final
                else {"amount_to_capture": amount.amount_minor, "final_capture": False},
                _once(idempotency_key),
            )
        except (stripe.InvalidRequestError, stripe.IdempotencyError, stripe.CardError) as exc:
            return self._captured_before(self._retrieve(provider_ref, action), idempotency_key, amount, action, exc)
        return GatewayPayment(self.provider, provider_ref, "captured", amount)

    def _captured_before(
        self, intent: stripe.PaymentIntent, idempotency_key: str, amount: Money, action: str, exc: Exception | None
    ) -> GatewayPayment:
        """A capture that cannot go ahead: this step's own earlier success (a retry), or a refusal."""
        captured_by = _metadata(intent).get(CAPTURE_KEY)
        if intent.status == "succeeded" and captured_by == idempotency_key:
            return GatewayPayment(self.provider, intent.id, "captured", amount)
        if intent.status == "processing":
            raise PaymentPending(f"PaymentIntent {intent.id} is still processing")
        if intent.status == "succeeded":
            reason = f"the PaymentIntent was already captured by step {captured_by or '(unknown)'}"
            reason += " and takes one capture"
        else:
            reason = f"the PaymentIntent is {intent.status}"
        if isinstance(exc, stripe.StripeError):
            reason += f" ({_stripe_message(exc)})"
        raise PaymentRejected(f"Stripe refused {action}: {reason}") from exc

    def void(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment:
        """Release what is left of the authorization by cancelling the PaymentIntent.

        Stripe cannot release part of an uncaptured authorization: `amount` must be all that is
        still capturable (to ship less, capture less: that releases the rest). After a capture the
        rest is already released, so this answers voided without a call."""
        action = f"voiding {amount.format()} on {provider_ref}"
        intent = self._retrieve(provider_ref, action)
        if intent.currency.upper() != amount.currency:
            raise PaymentRejected(f"Stripe refused {action}: the intent is in {intent.currency.upper()}")
        if intent.status in ("canceled", "succeeded"):
            return GatewayPayment(self.provider, provider_ref, "voided", amount)
        if intent.status == "requires_capture":
            capturable = getattr(intent, "amount_capturable", None)  # localstripe lacks the field
            capturable = intent.amount if capturable is None else capturable
            if amount.amount_minor < capturable:
                raise PaymentRejected(
                    f"cannot void {amount.format()} of {provider_ref}: Stripe releases an uncaptured"
                    f" authorization only as a whole ({capturable} minor units); capture less instead"
                )
        try:
            self._client.v1.payment_intents.cancel(provider_ref, options=_once(idempotency_key))
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as exc:
            again = self._retrieve(provider_ref, action)
            if again.status in ("canceled", "succeeded"):
                return GatewayPayment(self.provider, provider_ref, "voided", amount)
            raise _rejected(f"{action} (intent {again.status})", exc) from exc
        return GatewayPayment(self.provider, provider_ref, "voided", amount)

    def refund(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment:
        """Refund `amount` of what was captured on the PaymentIntent `provider_ref`; the answer's
        `provider_ref` is the Refund's id."""
        action = f"refunding {amount.format()} on {provider_ref}"
        refund = self._find_refund(provider_ref, idempotency_key, action)
        if refund is None:
            refund = self._call_rejecting(
                action,
                lambda: self._client.v1.refunds.create(
                    {
                        "payment_intent": provider_ref,
                        "amount": amount.amount_minor,
                        "metadata": {STEP_KEY: idempotency_key},
                    },
                    _once(idempotency_key),
                ),
            )
        if refund.amount != amount.amount_minor:
            raise PaymentRejected(
                f"Refund {refund.id} of step {idempotency_key} is for {refund.amount} minor units,"
                f" not {amount.format()}"
            )
        if refund.status in ("failed", "canceled"):
            why = getattr(refund, "failure_reason", None) or "no reason given"
            raise PaymentRejected(f"Refund {refund.id} {refund.status}: {why}")
        return GatewayPayment(self.provider, refund.id, "refunded", amount)

    def _find_refund(self, intent_id: str, idempotency_key: str, action: str) -> stripe.Refund | None:
        """The refund an earlier attempt of this step made (listing is consistent, unlike search)."""
        refunds = self._call_rejecting(
            action, lambda: self._client.v1.refunds.list({"payment_intent": intent_id, "limit": 100})
        )
        for refund in refunds.auto_paging_iter():
            if _metadata(refund).get(STEP_KEY) == idempotency_key:
                return refund
        return None

    # -- helpers -------------------------------------------------------------------------------

    def _retrieve(self, intent_id: str, action: str) -> stripe.PaymentIntent:
        return self._call_rejecting(action, lambda: self._client.v1.payment_intents.retrieve(intent_id))

    @staticmethod
    def _call_rejecting(action: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except (stripe.InvalidRequestError, stripe.IdempotencyError, stripe.CardError) as exc:
            raise _rejected(action, exc) from exc
