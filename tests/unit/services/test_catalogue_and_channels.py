"""The catalogue (an identifier of another SKU refused, a write race retried once) and channel
settings (unknown channels, invalid settings)."""

from __future__ import annotations

import pytest

from persistence.conflicts import ConcurrentWrite
from persistence.master_data.catalogue import CatalogueConflict
from services.catalogue import Catalogue
from services.channel_settings import ChannelSettings
from services.errors import Conflict, NotFound, Unprocessable
from tests.fakes import fail_with


def test_an_entry_with_listings_is_saved_and_its_stock_sent_to_the_channels(units):
    entry = Catalogue(units).put("MUG", name="Mug", ean="4006381333931", listings={"bol": "offer-1"})
    assert entry == {
        "sku": "MUG",
        "name": "Mug",
        "ean": "4006381333931",
        "listings": {"bol": "offer-1"},
        "unit_cost": None,
        "vat_category": "standard",
    }
    assert units.store.stock.noted == ["MUG"] and units.commits == 1
    Catalogue(units).put("TEA", name="Tea", ean=None, listings={})
    assert units.store.stock.noted == ["MUG"]  # no channel knows TEA: nothing to send


def test_an_identifier_of_another_sku_is_a_conflict_naming_the_owner(units):
    units.store.catalogue.refusals = [CatalogueConflict("EAN 4006381333931 already belongs to CUP")]
    with pytest.raises(Conflict, match="already belongs to CUP"):
        Catalogue(units).put("MUG", name="Mug", ean="4006381333931", listings={})
    assert units.commits == 0


def test_a_write_race_is_tried_once_more(units):
    units.commit_failures = [fail_with(ConcurrentWrite("duplicate key"))]
    assert Catalogue(units).put("MUG", name="Mug", ean=None, listings={})["name"] == "Mug"
    assert len(units.opened) == 2 and units.commits == 1


def test_a_write_race_lost_twice_is_a_conflict(units):
    units.commit_failures = [fail_with(ConcurrentWrite("duplicate key")) for _ in range(2)]
    with pytest.raises(Conflict, match="MUG's catalogue entry changed meanwhile; retry"):
        Catalogue(units).put("MUG", name="Mug", ean=None, listings={})


def test_a_sku_not_in_the_catalogue_is_not_found(units):
    with pytest.raises(NotFound, match="MUG is not in the catalogue"):
        Catalogue(units).entry("MUG")


def test_channel_settings_are_replaced_and_committed(units):
    policy = ChannelSettings(units).replace("bol", {"sells_from": ["AMS"], "safety_stock": 2})
    assert (policy.sells_from, policy.safety_stock) == (("AMS",), 2)
    assert units.commits == 1 and ChannelSettings(units).get("bol") == policy


def test_an_unknown_channel_or_an_invalid_setting_is_refused_and_nothing_saved(units):
    with pytest.raises(NotFound, match="unknown channel 'ebay'"):
        ChannelSettings(units).replace("ebay", {})
    with pytest.raises(Unprocessable):
        ChannelSettings(units).replace("bol", {"safety_stock": -1})
    assert units.commits == 0 and units.store.channels.stored == {}
