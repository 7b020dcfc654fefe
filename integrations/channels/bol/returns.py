"""Bol.com returns: the customers' returns of our own shipments (FBR) pulled from `GET /retailer/returns`
and mapped to a return here, and each one handled back at bol once we received the goods.

Reference: https://api.bol.com/retailer/public/Retailer-API/v10/functional/retailer-api/returns.html and
the v10 spec (`ReducedReturn`, `ReducedReturnItem`, `ReturnReason`, `ReturnRequest`). A return (returnId)
holds one or more items, each with its own rmaId, order and EAN; everything the retailer does is per
rmaId, so one bol return item becomes one return here (`external_rma` = rmaId).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.returns import ReturnRequest, ReturnRequestLine
from domain.marketplace_returns import Handling, already_handled
from domain.order import order_id_for
from integrations.channels.base import PulledReturn, ReturnPage, SkuResolver
from integrations.channels.bol.client import BolClient
from integrations.channels.bol.mapping import CHANNEL, FBR
from integrations.channels.errors import ChannelRejected

log = logging.getLogger("oms.channels.bol")

REASON_LIMIT = 1000
"""Characters of bol's reason and the customer's comment kept on the return (the comment is free text)."""
HANDLED_PAGES_SEARCHED = 3
"""Pages of handled returns (newest first) read to find an rma that bol refused to handle again."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class BolReturnReason(_Model):
    mainReason: str = ""
    detailedReason: str | None = None
    customerComments: str | None = None


class BolReturnItem(_Model):
    """A `ReducedReturnItem` (the list) or `ReturnItem` (one return): what the mapping reads."""

    rmaId: str = Field(min_length=1, max_length=64, pattern=r"^[0-9]+$")
    orderId: str = Field(min_length=1, max_length=100)
    ean: str = ""
    expectedQuantity: int = Field(ge=1, le=9999)
    returnReason: BolReturnReason = Field(default_factory=BolReturnReason)
    handled: bool = False


def reason_text(reason: BolReturnReason) -> str:
    """bol's reason as one line: "Verkeerd besteld: Dubbel besteld (customer: ...)"."""
    text = reason.mainReason.strip()
    detail = (reason.detailedReason or "").strip()
    if detail and detail != text:
        text = f"{text}: {detail}" if text else detail
    comment = (reason.customerComments or "").strip()
    if comment:
        text = f"{text} (customer: {comment})" if text else f"customer: {comment}"
    return text[:REASON_LIMIT]


def to_return(payload: dict[str, Any], resolve: SkuResolver) -> tuple[str, ReturnRequest]:
    """Our order id and the return request for one bol return item; pydantic.ValidationError for an
    item that is not one, InvalidOrder for an order id we could never have. The EAN goes through the
    catalogue as bol orders' do; an unknown EAN keeps the same stand-in SKU (`ean:<ean>`) the order's
    line got, so the return still names the line it came for."""
    item = BolReturnItem.model_validate(payload)
    order_id = order_id_for(CHANNEL, item.orderId)
    ean = item.ean.strip()
    sku = (resolve(ean) or f"ean:{ean}") if ean else f"bol-rma:{item.rmaId}"
    request = ReturnRequest(
        lines=[ReturnRequestLine(sku=sku, quantity=item.expectedQuantity)],
        reason=reason_text(item.returnReason),
        requested_by=CHANNEL,
        restock=True,  # the disposition at receipt decides where the goods go
        source=CHANNEL,
        external_rma=item.rmaId,
    )
    return order_id, request


class BolReturnDesk:
    """`ReturnDesk` over bol's Returns API: unhandled FBR returns in, their handling out.

    Returns bol fulfils (FBB) are bol's to receive and handle; only our own shipments' returns are
    pulled. bol lists unhandled returns oldest first and keeps listing each until it is handled, so
    every sweep reads them all again; the pull remembers which rmaIds it opened (activities), not a
    position in a list that shrinks as returns are handled.
    """

    def __init__(self, client: BolClient) -> None:
        self._client = client

    def returns_page(self, page: int) -> ReturnPage:
        returns = self._client.list_returns(page=page, handled=False, fulfilment_method=FBR)
        items = []
        for ret in returns:
            for item in ret.get("returnItems") or []:
                if isinstance(item, dict) and item.get("handled") is not True:
                    items.append(
                        PulledReturn(
                            external_rma=str(item.get("rmaId") or ""),
                            external_return_id=str(ret.get("returnId") or ""),
                            payload=item,
                        )
                    )
        return ReturnPage(items=items, more=bool(returns))

    def map_return(self, payload: dict[str, Any], resolve: SkuResolver) -> tuple[str, ReturnRequest]:
        return to_return(payload, resolve)

    def handle(self, external_rma: str, handling: Handling) -> None:
        """`PUT /retailer/returns/{rmaId}`. bol refuses to handle an rma again with the result it
        already has (a retry after bol took the first request, its answer lost): when bol's own
        record shows our result, that is done; any other refusal stands (ChannelRejected)."""
        try:
            status = self._client.handle_return(external_rma, handling.result.value, handling.quantity)
        except ChannelRejected:
            if self._handled_already(external_rma, handling):
                log.info("bol rma %s was already handled as %s", external_rma, handling.result.value)
                return
            raise
        log.info("bol accepted the handling of rma %s (process %s)", external_rma, status.get("processStatusId"))

    def _handled_already(self, external_rma: str, handling: Handling) -> bool:
        for page in range(1, HANDLED_PAGES_SEARCHED + 1):
            returns = self._client.list_returns(page=page, handled=True, fulfilment_method=FBR)
            if not returns:
                return False
            for ret in returns:
                for item in ret.get("returnItems") or []:
                    if isinstance(item, dict) and str(item.get("rmaId")) == external_rma:
                        return already_handled(item.get("processingResults"), handling)
        return False
