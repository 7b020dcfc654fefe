"""Search attributes ops filter on in the Temporal UI (no personal data ever goes here)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CHANNEL = SearchAttributeKey.for_keyword("Channel")
ALL = (ORDER_STATUS, CHANNEL)
