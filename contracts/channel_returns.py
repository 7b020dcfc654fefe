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


@dataclass
class PullReturnsInput:
    channel: str
    max_pages: int = 20
    """Pages of the channel's open returns read in one run at most."""


@dataclass
class PullReturnsResult:
    channel: str
    supported: bool = True
    """False: the channel has no returns of its own to pull on this worker (nothing was asked)."""
    pages: int = 0
    listed: int = 0
    """Open return items the channel listed."""
    opened: int = 0
    """Returns opened here this run."""
    known: int = 0
    """Listed again, already taken by an earlier run (opened or refused): nothing done."""
    refused: int = 0
    """Could not be opened here (unknown order, not a return we can take): kept in the channel audit
    for a person, once; bol's own deadlines apply to it."""


class ChannelReturnPulls:
    """A pulled channel's own returns, opened here (activities.channel_returns implements it)."""

    @activity.defn
    async def pull_channel_returns(self, data: PullReturnsInput) -> PullReturnsResult:
        raise NotImplementedError
