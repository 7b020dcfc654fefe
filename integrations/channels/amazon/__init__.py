"""Amazon: orders pulled from SP-API Orders v0 (`orders`, mapped by `mapping`), stock (`listings`) and
shipment confirmations out (`client`, `shipments`), wired by `connect`; what it can do is `spec.SPEC`."""

from integrations.channels.amazon.mapping import CHANNEL, is_cancelled, is_fulfilable, to_order
from integrations.channels.amazon.spec import SPEC

__all__ = ["CHANNEL", "SPEC", "is_cancelled", "is_fulfilable", "to_order"]
