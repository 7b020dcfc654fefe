"""POS: counter sales and store orders in through `POST /orders` (the API maps nothing: they arrive
canonical); what it can do is `spec.SPEC`."""

from integrations.channels.pos.spec import SPEC

__all__ = ["SPEC"]
