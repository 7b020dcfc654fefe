"""A channel's capability spec is the one switch: the registry builds, and the pull schedules poll, what
the specs say, so flipping a flag changes what they do (and the specs agree with the domain's names)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from config import load_settings
from domain.order import CHANNELS
from integrations.channels import amazon, bol, shopify, woocommerce
from integrations.channels.amazon.listings import AmazonListingsStockFeed
from integrations.channels.bol.stock_feed import BolStockFeed
from integrations.channels.listings import ListedAs, OnlyListed
from integrations.channels.registry import PULLED_MAPPERS, REGISTRY, SPECS, RegisteredChannel, pulled
from integrations.channels.spec import ChannelSpec, Intake, ListingIds, WebhookSpec
from ops.channel_schedules import ensure_pull_schedules, pull_schedule, pull_schedule_id
from tests.channels.wiring import EVERY_CHANNEL_CONFIGURED, connect

SETTINGS = load_settings(sandbox=False, **EVERY_CHANNEL_CONFIGURED)


def flipped(name: str, **flags: Any) -> tuple[RegisteredChannel, ...]:
    """The registry with one channel's spec changed."""
    return tuple(
        dataclasses.replace(entry, spec=dataclasses.replace(entry.spec, **flags)) if entry.spec.name == name else entry
        for entry in REGISTRY
    )


def test_every_channel_the_domain_names_has_one_registry_entry() -> None:
    assert [entry.spec.name for entry in REGISTRY] == list(CHANNELS)
    assert set(SPECS) == set(CHANNELS)


def test_what_each_channel_declares() -> None:
    assert {spec.name for spec in pulled()} == {"bol", "amazon"} == set(PULLED_MAPPERS)
    assert {name for name, spec in SPECS.items() if spec.intake is Intake.WEBHOOK} == {"shopify", "woocommerce"}
    assert {name for name, spec in SPECS.items() if spec.confirms_shipments} == {
        "shopify",
        "woocommerce",
        "bol",
        "amazon",
    }
    assert {name for name, spec in SPECS.items() if spec.confirms_collections} == {"shopify", "woocommerce"}
    assert {name for name, spec in SPECS.items() if spec.cancels} == {"shopify", "woocommerce", "bol"}
    assert {name for name, spec in SPECS.items() if spec.cancel_by_hand} == {"amazon"}
    assert {name for name, spec in SPECS.items() if spec.cancel_touches_stock} == {"woocommerce", "bol"}
    assert (SPECS["bol"].pull_pages, SPECS["amazon"].pull_pages) == (20, 5)
    assert shopify.WEBHOOK.signature_header == "X-Shopify-Hmac-Sha256"
    assert woocommerce.WEBHOOK.signature_header == "X-WC-Webhook-Signature"


def test_a_channel_that_stops_cancelling_gets_no_canceller() -> None:
    wired = connect(SETTINGS, flipped("shopify", cancels=False))
    try:
        assert "shopify" not in wired.cancellers
        assert set(wired.cancellers) == {"woocommerce", "bol"}
        assert "shopify" in wired.confirmers  # the rest of the channel is wired as before
    finally:
        wired.close()


def test_a_channel_that_stops_confirming_gets_no_confirmer() -> None:
    wired = connect(SETTINGS, flipped("amazon", confirms_shipments=False))
    try:
        assert set(wired.confirmers) == {"shopify", "woocommerce", "bol"}
    finally:
        wired.close()


def test_listing_ids_decide_how_the_feed_names_a_sku() -> None:
    as_declared = connect(SETTINGS)
    our_skus = connect(SETTINGS, flipped("amazon", listing_ids=ListingIds.OUR_SKU))
    bol_preferred = connect(SETTINGS, flipped("bol", listing_ids=ListingIds.PREFERRED))
    try:
        assert isinstance(as_declared.feeds["amazon"], ListedAs)
        assert isinstance(our_skus.feeds["amazon"], AmazonListingsStockFeed)
        assert isinstance(as_declared.feeds["bol"], OnlyListed)
        assert isinstance(bol_preferred.feeds["bol"], ListedAs)
        assert isinstance(bol_preferred.feeds["bol"].feed, BolStockFeed)
    finally:
        for wired in (as_declared, our_skus, bol_preferred):
            wired.close()


def test_a_channel_that_is_no_longer_pulled_gets_no_source() -> None:
    webhook = WebhookSpec("X-Bol-Signature", "X-Bol-Topic", "order")
    registry = tuple(
        RegisteredChannel(
            dataclasses.replace(entry.spec, intake=Intake.WEBHOOK, pull_pages=0, webhook=webhook), entry.connect
        )
        if entry.spec.name == "bol"
        else entry
        for entry in REGISTRY
    )
    wired = connect(SETTINGS, registry)
    try:
        assert set(wired.sources) == {"amazon"}
    finally:
        wired.close()


def test_a_pull_run_takes_the_pages_its_spec_allows() -> None:
    settings = load_settings()
    for spec in (bol.SPEC, amazon.SPEC, dataclasses.replace(amazon.SPEC, pull_pages=7)):
        action = pull_schedule(settings, spec).action
        [run_input] = action.args  # type: ignore[attr-defined]
        assert (run_input.channel, run_input.max_pages) == (spec.name, spec.pull_pages)


class ScheduleRecorder:
    """Stands in for the Temporal client: which schedules `ensure_pull_schedules` creates and deletes."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.deleted: list[str] = []

    async def create_schedule(self, schedule_id: str, schedule: object, **_: object) -> None:
        self.created.append(schedule_id)

    def get_schedule_handle(self, schedule_id: str) -> ScheduleRecorder.Handle:
        return ScheduleRecorder.Handle(self, schedule_id)

    class Handle:
        def __init__(self, recorder: ScheduleRecorder, schedule_id: str) -> None:
            self._recorder, self._id = recorder, schedule_id

        async def delete(self) -> None:
            self._recorder.deleted.append(self._id)


async def test_the_schedules_follow_the_specs() -> None:
    declared, flipped_bol = ScheduleRecorder(), ScheduleRecorder()
    settings = load_settings()
    await ensure_pull_schedules(declared, settings, ["bol"])  # type: ignore[arg-type]
    canonical = {**SPECS, "bol": dataclasses.replace(bol.SPEC, intake=Intake.CANONICAL, pull_pages=0)}
    await ensure_pull_schedules(flipped_bol, settings, ["bol", "amazon"], canonical)  # type: ignore[arg-type]
    assert (declared.created, declared.deleted) == ([pull_schedule_id("bol")], [pull_schedule_id("amazon")])
    assert (flipped_bol.created, flipped_bol.deleted) == ([pull_schedule_id("amazon")], [])


@pytest.mark.parametrize(
    "flags",
    [
        {"intake": Intake.PULLED},  # no pages
        {"intake": Intake.CANONICAL, "pull_pages": 3},
        {"intake": Intake.WEBHOOK},  # no webhook
        {"intake": Intake.CANONICAL, "confirms_collections": True},
        {"intake": Intake.CANONICAL, "cancels": True, "cancel_by_hand": "somewhere"},
        {"intake": Intake.CANONICAL, "cancel_touches_stock": True},
    ],
)
def test_a_spec_that_contradicts_itself_is_refused(flags: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="new-channel"):
        ChannelSpec(name="new-channel", **flags)


def test_a_pulled_channel_registers_its_mapping() -> None:
    with pytest.raises(ValueError, match="bol"):
        RegisteredChannel(bol.SPEC)
    with pytest.raises(ValueError, match="shopify"):
        RegisteredChannel(shopify.SPEC, map_pulled=bol.to_order)
