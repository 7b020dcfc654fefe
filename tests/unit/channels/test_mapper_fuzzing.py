"""Fuzzing every channel mapper and pulled order source (hypothesis): whatever JSON a channel sends,
arbitrary or a real-shaped payload with any field replaced, mapping either gives an order or raises
one of the clean errors the edges turn into a 4xx (a webhook) or a rejected audit row (a pull):
pydantic's ValidationError, MoneyError, InvalidOrder, or the ChannelError family for a pull. Never an
OverflowError, decimal.Overflow, TypeError, KeyError, ... (a 500, or a pull retried forever).

Example counts are bounded so the tier stays fast; `database=None` keeps runs independent."""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.money import MoneyError
from domain.order import InvalidOrder, Order
from integrations.channels import amazon, bol, shopify, woocommerce
from integrations.channels.amazon.orders import AmazonOrderSource
from integrations.channels.bol.client import BolClient
from integrations.channels.bol.orders import BolOrderSource
from integrations.channels.errors import ChannelError
from tests.channels.factories import channel_payload

pytestmark = pytest.mark.unit

MAPPING_ERRORS = (ValidationError, MoneyError, InvalidOrder)
# OMS_FUZZ_EXAMPLES=5000 for a longer hunt; the default keeps the unit tier fast.
FUZZ = settings(
    max_examples=int(os.environ.get("OMS_FUZZ_EXAMPLES", "150")),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _same(identifier: str) -> str | None:
    return identifier or None


MAPPERS: dict[str, tuple[Callable[[dict[str, Any]], object], list[str]]] = {
    "shopify": (shopify.to_order, ["shopify_order.json"]),
    "woocommerce": (
        woocommerce.to_order,
        [
            "woocommerce/order_docs_example.json",
            "woocommerce/order_tax_exclusive.json",
            "woocommerce/order_tax_inclusive.json",
        ],
    ),
    "bol": (
        lambda payload: bol.to_order(payload, _same),
        ["bol/order_fbr.json", "bol/order_fbb.json", "bol/order_cancellation_requested.json"],
    ),
    "amazon": (
        lambda payload: amazon.to_order(payload, _same),
        ["amazon/order_eu_mfn.json", "amazon/order_uk_afn.json", "amazon/order_us_mfn.json"],
    ),
}

# What the channels' own predicates read from the raw dict, besides to_order.
PREDICATES: dict[str, list[Callable[[dict[str, Any]], object]]] = {
    "shopify": [shopify.cancellation],
    "woocommerce": [lambda p: woocommerce.webhook_action("order.updated", p), woocommerce.cancel_reason],
    "bol": [bol.is_cancelled, bol.cancellation_requested, bol.is_fully_shipped],
    "amazon": [amazon.is_cancelled, amazon.is_fulfilable],  # the source calls them on the order object
}

# Values that broke or nearly broke a mapper once: out-of-range times, absurd amounts, non-finite
# numbers, integers past every column, text the database cannot hold.
TRICKY: list[object] = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59Z",
    "2026-02-30T10:00:00Z",
    "1E+100000",
    "-1E+100000",
    "1e999999",
    "9" * 400,
    "0E-1000000",
    "NaN",
    "-Infinity",
    "-0",
    "\x00",
    "\ud800",
    "",
    " ",
    Decimal("1E+999999"),
    Decimal("9E+999999"),
    Decimal("-1E+999999"),
    Decimal("1E-999999"),
    Decimal("9" * 60),
    Decimal("NaN"),
    Decimal("Infinity"),
    float("nan"),
    float("inf"),
    1e308,
    Decimal("1E+400"),  # what json.loads(parse_float=Decimal) makes of 1e400: float("inf") in a float field
    10**400,
    -(10**400),
    2**63,
    2**31,
    -1,
    0,
    253402300799,  # 9999-12-31 as a Unix time
    -62135596800,  # 0001-01-01 as a Unix time
]

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(TRICKY)
)


def _keys_of(payload: object) -> Iterator[str]:
    if isinstance(payload, dict):
        for key, value in payload.items():
            yield key
            yield from _keys_of(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from _keys_of(item)


_KEYS = sorted({key for _, names in MAPPERS.values() for name in names for key in _keys_of(channel_payload(name))})
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=12,
)


def _paths(payload: object, prefix: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    if isinstance(payload, dict):
        for key, value in payload.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(payload, list):
        for index, item in enumerate(payload):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


def _mutated(draw: st.DrawFn, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with one to three fields replaced by any JSON value, or removed."""
    payload = copy.deepcopy(payload)
    paths = list(_paths(payload))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(paths))
        target: Any = payload
        try:
            for key in path[:-1]:
                target = target[key]
            if draw(st.booleans()) and isinstance(target, dict):
                target.pop(path[-1], None)
            else:
                target[path[-1]] = draw(st.sampled_from(TRICKY) | _json)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced what this path ran through
    return payload


def _maps_cleanly(channel: str, payload: dict[str, Any]) -> None:
    to_order, _ = MAPPERS[channel]
    try:
        order = to_order(payload)
    except MAPPING_ERRORS:
        order = None
    if order is not None:
        assert isinstance(order, Order) and order.channel == channel
        assert order.placed_at.utcoffset() is not None
        order.placed_at.astimezone(UTC)  # representable in UTC: what every later step does with it
        # Coordinates are stored and served as JSON: NaN or infinity would make every read a 500.
        address = order.shipping_address
        assert address.latitude is None or -90 <= address.latitude <= 90
        assert address.longitude is None or -180 <= address.longitude <= 180
    target = payload.get("order") if channel == "amazon" else payload
    if not isinstance(target, dict):
        return  # the order source checks the shape before it asks these
    for predicate in PREDICATES[channel]:
        with contextlib.suppress(*MAPPING_ERRORS):
            predicate(target)


@pytest.mark.parametrize("channel", sorted(MAPPERS))
@FUZZ
@given(data=st.data())
def test_arbitrary_json_maps_or_raises_a_clean_error(channel: str, data: st.DataObject) -> None:
    payload = data.draw(st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), _json, max_size=8))
    _maps_cleanly(channel, payload)


@pytest.mark.parametrize(
    ("channel", "fixture"), [(channel, name) for channel, (_, names) in sorted(MAPPERS.items()) for name in names]
)
@FUZZ
@given(data=st.data())
def test_any_field_of_a_real_payload_replaced_maps_or_raises_a_clean_error(
    channel: str, fixture: str, data: st.DataObject
) -> None:
    _maps_cleanly(channel, data.draw(st.composite(lambda draw: _mutated(draw, channel_payload(fixture)))()))


@pytest.mark.parametrize(
    ("channel", "fixture", "field", "value"),
    [
        ("shopify", "shopify_order.json", ("created_at",), "0001-01-01T00:00:00+14:00"),
        ("shopify", "shopify_order.json", ("cancelled_at",), "9999-12-31T23:59:59-14:00"),
        ("shopify", "shopify_order.json", ("line_items", 0, "price"), "1E+100000"),
        ("shopify", "shopify_order.json", ("line_items", 0, "price"), Decimal("1E+999999")),
        ("shopify", "shopify_order.json", ("line_items", 0, "price"), Decimal("9E+999999")),
        ("shopify", "shopify_order.json", ("shipping_lines", 0, "price"), Decimal("9E+999999")),
        ("shopify", "shopify_order.json", ("total_tip_received",), Decimal("-9E+999999")),
        ("shopify", "shopify_order.json", ("shipping_address", "latitude"), Decimal("1E+400")),
        ("shopify", "shopify_order.json", ("shipping_address", "longitude"), float("nan")),
        ("shopify", "shopify_order.json", ("id",), Decimal("1E+999999")),
        ("shopify", "shopify_order.json", ("line_items", 0, "variant_id"), Decimal("1E+5000")),
        ("woocommerce", "woocommerce/order_tax_exclusive.json", ("line_items", 0, "product_id"), Decimal("1E+5000")),
        ("woocommerce", "woocommerce/order_tax_exclusive.json", ("date_created_gmt",), "0001-01-01T00:00:00+14:00"),
        ("woocommerce", "woocommerce/order_tax_exclusive.json", ("date_paid_gmt",), "9999-12-31T23:59:59-14:00"),
        ("bol", "bol/order_fbr.json", ("orderPlacedDateTime",), "0001-01-01T00:00:00+14:00"),
        ("bol", "bol/order_fbr.json", ("orderItems", 0, "totalPrice"), Decimal("1E+999999")),
        ("bol", "bol/order_fbr.json", ("orderItems", 0, "quantity"), Decimal("1E+999999")),
        ("amazon", "amazon/order_eu_mfn.json", ("order", "PurchaseDate"), "9999-12-31T23:59:59-14:00"),
        ("amazon", "amazon/order_eu_mfn.json", ("order", "OrderTotal", "Amount"), "1E+100000"),
        ("amazon", "amazon/order_eu_mfn.json", ("items", 0, "QuantityOrdered"), Decimal("1E+999999")),
    ],
)
def test_times_outside_utc_and_absurd_numbers_are_validation_errors(
    channel: str, fixture: str, field: tuple[object, ...], value: object
) -> None:
    payload = channel_payload(fixture)
    target: Any = payload
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    with pytest.raises(MAPPING_ERRORS):
        MAPPERS[channel][0](payload)


# --- pulled channels: what the order sources make of any answer -------------------------------------


class _Answers:
    """Stands in for the HTTP client: every call gets the next answer hypothesis draws."""

    def __init__(self, data: st.DataObject, shaped: st.SearchStrategy[object]) -> None:
        self._data = data
        self._shaped = shaped
        self.calls = 0

    def request(self, method: str, path: str, **_: object) -> object:
        self.calls += 1
        if self.calls > 12:
            raise ChannelError("enough")  # a page that never ends is the client's problem, not ours
        return self._data.draw(self._shaped | _json)


class _FakeBol(_Answers):
    list_orders = BolClient.list_orders
    get_order = BolClient.get_order


def _bol_answers() -> st.SearchStrategy[object]:
    detail = st.composite(lambda draw: _mutated(draw, channel_payload("bol/order_fbr.json")))()
    listing = st.builds(
        lambda orders: {"orders": orders},
        st.lists(
            st.builds(
                lambda order_id, change: {
                    "orderId": order_id,
                    "orderItems": [{"orderItemId": "1", "latestChangedDateTime": change}],
                },
                st.sampled_from(["1043965710", "", 7, "10\ud80043"]),
                st.sampled_from(TRICKY) | st.just("2024-03-14T10:23:45+01:00"),
            ),
            max_size=3,
        ),
    )
    return detail | listing


def _amazon_answers() -> st.SearchStrategy[object]:
    order = channel_payload("amazon/order_eu_mfn.json")
    page = st.composite(lambda draw: {"payload": {"Orders": [_mutated(draw, order["order"])], "NextToken": None}})()
    items = st.composite(lambda draw: {"payload": {"OrderItems": _mutated(draw, {"i": order["items"]}).get("i")}})()
    return page | items


_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _pulled_cleanly(channel: str, pull: Callable[[], Any]) -> None:
    try:
        page = pull()
    except ChannelError:
        return
    for pulled in page.orders:
        _maps_cleanly(channel, pulled.payload)


@FUZZ
@given(data=st.data())
def test_a_bol_pull_over_any_answer_raises_only_channel_errors(data: st.DataObject) -> None:
    source = BolOrderSource(_FakeBol(data, _bol_answers()), clock=lambda: _NOW)  # type: ignore[arg-type]
    _pulled_cleanly("bol", lambda: source.pull(None))


@FUZZ
@given(data=st.data())
def test_an_amazon_pull_over_any_answer_raises_only_channel_errors(data: st.DataObject) -> None:
    source = AmazonOrderSource(_Answers(data, _amazon_answers()), ["A1PA6795UKMFR9"], now=lambda: _NOW)  # type: ignore[arg-type]
    _pulled_cleanly("amazon", lambda: source.pull(None))
