"""Web shop: our own shop's orders in through `POST /orders` (they arrive canonical: nothing to map);
what it can do is `spec.SPEC`."""

from integrations.channels.webshop.spec import SPEC

__all__ = ["SPEC"]
