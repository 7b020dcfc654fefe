"""Payment gateways that talk to a real payment provider (the sandbox one lives in integrations.sandbox)."""

from integrations.payments.mollie_gateway import MollieGateway
from integrations.payments.stripe_gateway import PaymentPending, StripeGateway
from integrations.providers import PaymentRejected

__all__ = ["MollieGateway", "PaymentPending", "PaymentRejected", "StripeGateway"]
