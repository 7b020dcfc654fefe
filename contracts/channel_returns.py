"""A return a channel sent us (bol.com, ...), told back to the channel once its goods are disposed of:
what arrived, what is sellable again and what never came. The channel keeps the money side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import activity


@dataclass
class HandleChannelReturnInput:
    channel: str
    order_id: str
    return_id: str
    external_rma: str
    received: dict[str, int]
    sellable: dict[str, int]
    short: dict[str, int]
    at: datetime


class ChannelReturns:
    """The activity ReturnWorkflow calls after DISPOSED for a return with an `external_rma`
    (activities.channel_returns implements it)."""

    @activity.defn
    def handle_channel_return(self, data: HandleChannelReturnInput) -> None:
        raise NotImplementedError
