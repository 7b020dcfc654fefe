"""Which payment gateway handles a payment: an order's authorization goes to its channel's gateway
(`OMS_CHANNEL_GATEWAYS`), and every later step (capture, void, refund) to the provider that recorded
the payment, so changing a channel's gateway never sends an older order's money elsewhere."""

from __future__ import annotations

from collections.abc import Mapping

from integrations.providers import PaymentGateway


class UnknownGateway(LookupError):
    """A payment recorded by a provider this process has no gateway for (its key was removed)."""


class PaymentGateways:
    def __init__(
        self,
        default: PaymentGateway,
        *,
        channels: Mapping[str, PaymentGateway] | None = None,
        providers: Mapping[str, PaymentGateway] | None = None,
    ) -> None:
        """`default`: for every channel not in `channels` and, when `providers` is empty, for
        every recorded payment (one gateway for everything, as the tests and the sandbox run).
        `providers`: by the name a gateway records its payments under (`stripe`, `mollie`)."""
        self._default = default
        self._channels = dict(channels or {})
        self._providers = dict(providers or {})

    @classmethod
    def of(cls, gateway: PaymentGateway | PaymentGateways) -> PaymentGateways:
        return gateway if isinstance(gateway, PaymentGateways) else cls(gateway)

    def for_channel(self, channel: str) -> PaymentGateway:
        return self._channels.get(channel, self._default)

    def for_provider(self, provider: str) -> PaymentGateway:
        if not self._providers:
            return self._default
        try:
            return self._providers[provider]
        except KeyError:
            raise UnknownGateway(
                f"payments recorded by {provider} need its gateway, which is not configured here"
            ) from None
