"""A payment gateway that authorizes, captures (several times: like Stripe multicapture), voids and
refunds at once, deterministically, for demos and benchmarks."""

from __future__ import annotations

import hashlib

from domain.money import Money
from integrations.providers import GatewayPayment, PaymentDeclined

# Stripe's documented test payment methods that decline, so a demo can show a declined card.
DECLINING_METHODS = frozenset({"pm_card_chargeDeclined", "tok_chargeDeclined", "pm_card_visa_chargeDeclined"})


def _ref(prefix: str, key: str) -> str:
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class SandboxPaymentGateway:
    provider = "sandbox"

    def authorize(self, idempotency_key: str, amount: Money, payment_method: str, order_id: str) -> GatewayPayment:
        if payment_method in DECLINING_METHODS:
            raise PaymentDeclined(f"card declined ({payment_method})")
        return GatewayPayment(self.provider, _ref("sbx_pi", order_id), "authorized", amount, multicapture=True)

    def reauthorize(self, idempotency_key: str, provider_ref: str, amount: Money, order_id: str) -> GatewayPayment:
        """A new hold for an edited order: a reference of its own (by the step), never declined."""
        return GatewayPayment(self.provider, _ref("sbx_pi", idempotency_key), "authorized", amount, multicapture=True)

    def capture(self, idempotency_key: str, provider_ref: str, amount: Money, *, final: bool = True) -> GatewayPayment:
        return GatewayPayment(self.provider, provider_ref, "captured", amount)

    def refund(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment:
        return GatewayPayment(self.provider, provider_ref, "refunded", amount)

    def void(self, idempotency_key: str, provider_ref: str, amount: Money) -> GatewayPayment:
        return GatewayPayment(self.provider, provider_ref, "voided", amount)
