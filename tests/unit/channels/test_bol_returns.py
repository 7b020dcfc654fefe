"""A bol.com return item (Retailer API v10 `ReducedReturnItem`) mapped to a return request here."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.order import InvalidOrder
from integrations.channels.bol.returns import REASON_LIMIT, BolReturnReason, reason_text, to_return

ITEM: dict[str, Any] = {
    "rmaId": "31234567",
    "orderId": "4012345678",
    "ean": "8712345678906",
    "expectedQuantity": 2,
    "returnReason": {
        "mainReason": "Verkeerde maat of afmeting",
        "detailedReason": "Te klein",
        "customerComments": "Past niet",
    },
    "handled": False,
    "processingResults": [],
}


def catalogue(ean: str) -> str | None:
    return {"8712345678906": "TEE-S"}.get(ean)


def test_a_return_item_becomes_a_return_on_its_order() -> None:
    order_id, request = to_return(ITEM, catalogue)
    assert order_id == "order-bol-4012345678"
    assert [(line.sku, line.quantity) for line in request.lines] == [("TEE-S", 2)]
    assert request.external_rma == "31234567"
    assert request.source == "bol"
    assert request.requested_by == "bol"
    assert request.reason == "Verkeerde maat of afmeting: Te klein (customer: Past niet)"


def test_an_unknown_ean_keeps_the_stand_in_sku_the_order_line_got() -> None:
    _, request = to_return({**ITEM, "ean": "8700000000000"}, catalogue)
    assert request.lines[0].sku == "ean:8700000000000"


def test_reason_without_detail_or_comment() -> None:
    assert reason_text(BolReturnReason(mainReason="Elders goedkoper", customerComments="")) == "Elders goedkoper"
    assert reason_text(BolReturnReason(mainReason="Artikel werkt niet", detailedReason="Artikel werkt niet")) == (
        "Artikel werkt niet"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"rmaId": ""},
        {"rmaId": "12a"},
        {"expectedQuantity": 0},
        {"expectedQuantity": 10_000},
        {"orderId": ""},
        {"returnReason": "not an object"},
    ],
)
def test_an_item_that_is_not_one_is_a_validation_error(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        to_return({**ITEM, **change}, catalogue)


def test_an_order_id_we_could_never_have_is_invalid() -> None:
    with pytest.raises(InvalidOrder):
        to_return({**ITEM, "orderId": "4012/../x"}, catalogue)


@given(st.text(max_size=3000), st.text(max_size=3000), st.text(max_size=3000))
def test_the_reason_is_bounded_and_keeps_bols_main_reason(main: str, detail: str, comment: str) -> None:
    text = reason_text(BolReturnReason(mainReason=main, detailedReason=detail, customerComments=comment))
    assert len(text) <= REASON_LIMIT
    assert text.startswith(main.strip()[:REASON_LIMIT])
