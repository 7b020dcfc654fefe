"""Whether the channel that sold an order must hear that it was cancelled here, for which lines, and why.

Who asked for a cancel (`CancelRequest.requested_by`) decides it: the engine itself (a backorder
deadline, routing that found no way to fill the order, a declined payment, a pickup nobody
collected), a person (staff, by name), or the selling channel. A channel already knows of a cancel it
made, so it hears nothing back, with one exception: a customer's cancellation request the channel
forwarded and expects the seller to confirm (bol.com's `cancellationRequest`), which is confirmed for
exactly the lines the customer asked about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class CancelReason(StrEnum):
    """Why, in the few words every channel's cancel call has a code for."""

    CUSTOMER_REQUEST = "customer_request"
    OUT_OF_STOCK = "out_of_stock"
    OTHER = "other"


# The engine's own cancels (`CancelRequest.requested_by`); any other value is a person or a channel.
BY_DEADLINE = "deadline"
"""The backorder waited past its deadline for stock."""
BY_SOURCING = "sourcing"
"""The channel's routing rules say to cancel what no location can fill."""
BY_PAYMENT = "payment"
BY_PICKUP = "pickup"

_OUT_OF_STOCK = frozenset({BY_DEADLINE, BY_SOURCING})


@dataclass(frozen=True)
class ChannelCancellation:
    reason: CancelReason
    line_ids: tuple[str, ...]
    """The channel's own line ids to cancel (bol orderItemIds); channels that cancel whole orders ignore them."""


def channel_cancellation(
    channel: str, requested_by: str | None, line_ids: Iterable[str], confirm_lines: Iterable[str] = ()
) -> ChannelCancellation | None:
    """What `channel` must hear of an order of its own that ended cancelled here, or None.

    `requested_by` None means the workflow did not say who (a step scheduled before this was
    recorded): treated as ours, since every canceller first checks whether the channel already
    cancelled the order, so telling a channel of its own cancel costs one look-up and changes nothing.
    """
    if requested_by == channel:
        confirm = _unique(confirm_lines)
        return ChannelCancellation(CancelReason.CUSTOMER_REQUEST, confirm) if confirm else None
    reason = CancelReason.OUT_OF_STOCK if requested_by in _OUT_OF_STOCK else CancelReason.OTHER
    return ChannelCancellation(reason, _unique(line_ids))


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))
