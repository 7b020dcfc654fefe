"""The admin settings screens in-process on SQLite and PostgreSQL: locations, channel settings and
the catalogue saved through the same services and models as the JSON API (what a page saves, the
API reads back), refusals shown beside their field with what was typed kept, the routing preview
planned by the real sourcing over real stock rows, and a role without SETTINGS refused."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from temporalio.testing import ActivityEnvironment

from activities.inventory import InventoryActivities
from api.screens.pages import PAGE_SIZE
from contracts.inventory import ReserveStockInput
from domain.routing import policy_from_dict
from domain.sourcing import CostProfile, Destination, SourcingLocation, SourcingRequest, plan_shipments
from domain.staff import Role, StaffMember
from persistence.guarded_writes import stock_ops
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.catalogue import Catalogue
from services.channel_settings import ChannelSettings
from services.unit_of_work import units_on
from tests.factories import add_location, make_order, stock
from tests.integration.screens import app_for, as_member, form_token, signed_in_browser

TOKEN = "settings-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
ADMIN = "/dashboard/admin"


@pytest.fixture
def browser(database) -> Iterator[TestClient]:
    """Signed in as the bootstrap admin (the staff token), keeping cookies, not following redirects."""
    yield from signed_in_browser(app_for(database, TOKEN), TOKEN)


@pytest.fixture
def support_browser(database) -> Iterator[TestClient]:
    """Signed in as a support agent. Real accounts are being built beside these screens, so the person
    is put in place where every page asks who is signed in (api.screens.pages.signed_in)."""
    agent = StaffMember(user_id="u-support", email="agent@example.com", role=Role.SUPPORT)
    app = as_member(app_for(database, TOKEN), agent, "session-1", "form-token-1")
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _errors(page: str) -> dict[str, str]:
    """Each error shown, by the field it belongs to (the field's input points at it)."""
    errors = dict(re.findall(r'<p class="error" id="([^"]+)-error">([^<]*)</p>', page))
    for field in errors:
        assert f'aria-describedby="{field}-error"' in page, f"{field}'s input does not point at its error"
    return errors


def _post(client: TestClient, path: str, form: dict) -> httpx.Response:
    token = form_token(client.get(path).text)
    return client.post(path, data={"form_token": token, **form})


# -- locations --------------------------------------------------------------------------------

LOCATION = {
    "location_id": "UTR",
    "name": "Utrecht store",
    "kind": "store",
    "country": "nl",
    "postcode": "3511 AA",
    "latitude": "52.09",
    "longitude": "5.12",
    "priority": "20",
    "group": "randstad",
    "ship_from_store": "on",
    "active": "on",
    "daily_order_capacity": "40",
    "cost_base_minor": "350",
    "cost_per_km_minor": "12",
    "address_line1": "Oudegracht 1",
    "city": "Utrecht",
    "email": "utr@example.com",
}


def test_a_location_is_created_and_changed_through_the_form_as_the_api_would(browser, database):
    add_location(database.session_factory, "AMS")
    listed = browser.get(f"{ADMIN}/locations").text
    assert "AMS site" in listed and "missing address line 1, city" in listed  # no label can be made yet

    created = _post(browser, f"{ADMIN}/locations/new", LOCATION)
    assert created.status_code == 303 and created.headers["location"].startswith(f"{ADMIN}/locations/UTR?flash=")
    saved = browser.get("/locations/UTR", headers=STAFF).json()
    assert saved["country"] == "NL" and saved["ship_from_store"] is True and saved["daily_order_capacity"] == 40
    assert (saved["cost_base_minor"], saved["cost_per_km_minor"], saved["group"]) == (350, 12, "randstad")
    assert "location UTR created" in browser.get(created.headers["location"]).text

    # The whole location is saved: a blank capacity is unlimited again, an unticked box is off.
    changed = {**LOCATION, "daily_order_capacity": "", "name": "Utrecht Oudegracht"}
    del changed["ship_from_store"], changed["location_id"]
    assert _post(browser, f"{ADMIN}/locations/UTR", changed).status_code == 303
    saved = browser.get("/locations/UTR", headers=STAFF).json()
    assert saved["daily_order_capacity"] is None and saved["ship_from_store"] is False
    assert saved["name"] == "Utrecht Oudegracht"
    listed = browser.get(f"{ADMIN}/locations").text
    assert "Utrecht Oudegracht" in listed and "unlimited" in listed and "complete" in listed


def test_a_location_form_refuses_beside_each_field_and_keeps_what_was_typed(browser, database):
    add_location(database.session_factory, "AMS")
    bad = {**LOCATION, "name": "", "country": "Netherlands", "priority": "first", "latitude": "95", "email": "x" * 400}
    refused = _post(browser, f"{ADMIN}/locations/new", bad)
    assert refused.status_code == 422
    errors = _errors(refused.text)
    assert errors.keys() == {"name", "country", "priority", "latitude", "email"}
    assert errors["country"].startswith("two letters") and errors["priority"] == "a whole number"
    assert 'value="Netherlands"' in refused.text and 'value="first"' in refused.text
    assert browser.get("/locations/UTR", headers=STAFF).status_code == 404

    taken = _post(browser, f"{ADMIN}/locations/new", {**LOCATION, "location_id": "AMS"})
    assert taken.status_code == 409 and "exists already" in _errors(taken.text)["location_id"]
    assert browser.get("/locations/AMS", headers=STAFF).json()["name"] == "AMS site"  # not overwritten

    edit = _post(browser, f"{ADMIN}/locations/AMS", {**LOCATION, "kind": "castle", "cost_base_minor": "-1"})
    assert edit.status_code == 422 and _errors(edit.text).keys() == {"kind", "cost_base_minor"}
    assert browser.get(f"{ADMIN}/locations/NOWHERE").status_code == 404


def test_a_form_without_its_token_is_refused(browser, database):
    add_location(database.session_factory, "AMS")
    assert browser.post(f"{ADMIN}/locations/AMS", data={**LOCATION, "form_token": "forged"}).status_code == 403
    assert browser.get("/locations/AMS", headers=STAFF).json()["name"] == "AMS site"


# -- channel settings -------------------------------------------------------------------------

RULES = [{"name": "nearby", "max_distance_km": 150, "sort": ["distance", "cost"]}, {"name": "anywhere"}]


def _channel_form(**changes: object) -> dict:
    form: dict = {
        "sells_from_mode": "some",
        "sells_from": ["AMS"],
        "safety_stock": "2",
        "currencies": "eur",
        "shop": "Store-Utrecht",
        "partial": "ship_available",
        "when_nothing_fits": "hold",
        "auto_cancel_after_days": "10",
        "rules": json.dumps(RULES),
        "action": "save",
    }
    return form | changes


def test_channel_settings_are_saved_as_the_api_reads_them(browser, database):
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "UTR")
    page = browser.get(f"{ADMIN}/channels/bol").text
    assert 'value="AMS"' in page and 'value="UTR"' in page  # a checkbox per location

    assert browser.get("/channels/bol", headers=STAFF).json()["refund_timing"] == "at_receipt"  # the default
    saved = _post(browser, f"{ADMIN}/channels/bol", _channel_form(refund_timing="on_request"))
    assert saved.status_code == 303
    config = browser.get("/channels/bol", headers=STAFF).json()
    assert config["sells_from"] == ["AMS"] and config["safety_stock"] == 2 and config["currencies"] == ["EUR"]
    assert config["shop"] == "store-utrecht"
    assert config["refund_timing"] == "on_request"
    assert '<option value="on_request" selected>' in browser.get(f"{ADMIN}/channels/bol").text
    routing = config["routing"]
    assert [rule["name"] for rule in routing["rules"]] == ["nearby", "anywhere"]
    assert routing["rules"][0]["max_distance_km"] == 150 and routing["rules"][0]["sort"] == ["distance", "cost"]
    assert (routing["partial"], routing["when_nothing_fits"], routing["auto_cancel_after_days"]) == (
        "ship_available",
        "hold",
        10,
    )
    listed = browser.get(f"{ADMIN}/channels").text
    assert "nearby → anywhere" in listed

    # Every location again, no currencies of its own, the default rule.
    reset = _channel_form(sells_from_mode="all", currencies="", shop="", rules="", auto_cancel_after_days="")
    assert _post(browser, f"{ADMIN}/channels/bol", reset).status_code == 303
    config = browser.get("/channels/bol", headers=STAFF).json()
    assert config["sells_from"] is None and config["currencies"] is None and config["shop"] == "default"
    assert [rule["name"] for rule in config["routing"]["rules"]] == ["default"]


def test_channel_settings_refuse_beside_each_field_and_save_nothing(browser, database):
    bad = _channel_form(
        safety_stock="-1",
        currencies="EUR, XXQ",
        shop="two words",
        when_nothing_fits="next_rule",
        auto_cancel_after_days="99999",
        rules='[{"name": "a", "sort": ["nearest"]}]',
        refund_timing="whenever",
    )
    refused = _post(browser, f"{ADMIN}/channels/bol", bad)
    assert refused.status_code == 422
    errors = _errors(refused.text)
    assert errors.keys() == {
        "safety_stock",
        "currencies",
        "shop",
        "when_nothing_fits",
        "auto_cancel_after_days",
        "rules",
        "refund_timing",
    }
    assert "rules[0].sort" in errors["rules"] and "nearest" in errors["rules"]
    assert "XXQ" in errors["currencies"]
    assert "[{&#34;name&#34;: &#34;a&#34;, &#34;sort&#34;: [&#34;nearest&#34;]}]" in refused.text  # kept as typed

    broken = _post(browser, f"{ADMIN}/channels/bol", _channel_form(rules='[{"name": "a",}]'))
    assert broken.status_code == 422 and _errors(broken.text)["rules"].startswith("not valid JSON")
    assert browser.get("/channels/bol", headers=STAFF).json()["safety_stock"] == 0  # nothing saved
    assert browser.get(f"{ADMIN}/channels/nosuch").status_code == 404


# -- the routing preview ----------------------------------------------------------------------


def _preview(browser: TestClient, channel: str, lines: list[tuple[str, int]], **changes: object):
    form = _channel_form(**({"action": "preview", "to_country": "NL"} | changes))
    for row, (sku, quantity) in enumerate(lines):
        form |= {f"sku_{row}": sku, f"quantity_{row}": str(quantity), f"value_{row}": "1000"}
    return _post(browser, f"{ADMIN}/channels/{channel}", form)


def _ships_from(page: str) -> list[str]:
    return re.findall(r'<strong class="ship-from">([^<]+)</strong>', page)


def test_the_preview_ships_from_where_the_stock_really_is(browser, database):
    add_location(database.session_factory, "AMS", latitude=52.37, longitude=4.90)
    add_location(database.session_factory, "UTR", latitude=52.09, longitude=5.12)
    stock(database.session_factory, "UTR", {"A": 5})
    stock(database.session_factory, "AMS", {"A": 5})
    with UnitOfWork(database.session_factory) as uow:  # AMS holds 5, but all of it is its safety stock
        stock_ops.set_safety_stock(uow.session, "AMS", "A", 5)
        uow.commit()

    shown = _preview(browser, "webshop", [("A", 2)], sells_from_mode="all", rules="")
    assert shown.status_code == 200, _errors(shown.text)
    assert _ships_from(shown.text) == ["UTR"]

    # The same inputs, handed to plan_shipments directly, plan the same.
    locations = [
        SourcingLocation("AMS", "warehouse", "NL", 52.37, 4.90, cost=CostProfile()),
        SourcingLocation("UTR", "warehouse", "NL", 52.09, 5.12, cost=CostProfile()),
    ]
    request = SourcingRequest({"A": 2}, {"A": 1000}, Destination("NL"))
    expected = plan_shipments(request, {"AMS": {"A": 0}, "UTR": {"A": 5}}, locations)
    assert [shipment.location_id for shipment in expected.shipments] == ["UTR"]
    for reason in expected.reasons:
        assert reason.replace("'", "&#39;") in shown.text

    # More than anywhere has: nothing ships, the order waits, and the page says for what.
    short = _preview(browser, "webshop", [("A", 9)], sells_from_mode="all", rules="", partial="wait_for_all")
    assert _ships_from(short.text) == [] and "9 \N{MULTIPLICATION SIGN} A" in short.text.split("Not placed now")[1]


def test_the_preview_plans_by_the_policy_being_edited_without_saving_it(browser, database):
    add_location(database.session_factory, "AMS", latitude=52.37, longitude=4.90)
    # A ship-from-store store, later in priority: the default rule prefers AMS.
    add_location(
        database.session_factory,
        "SHOP",
        kind="store",
        ship_from_store=True,
        priority=200,
        latitude=52.09,
        longitude=5.12,
    )
    stock(database.session_factory, "AMS", {"A": 5, "C": 2})
    stock(database.session_factory, "SHOP", {"A": 5, "B": 1})

    default = _preview(browser, "bol", [("A", 1)], sells_from_mode="all", rules="")
    assert _ships_from(default.text) == ["AMS"]

    stores_only = json.dumps([{"name": "stores", "location_kinds": ["store"]}])
    edited = _preview(browser, "bol", [("A", 1)], sells_from_mode="all", rules=stores_only)
    assert _ships_from(edited.text) == ["SHOP"] and "rule <code>stores</code>" in edited.text
    assert browser.get("/channels/bol", headers=STAFF).json()["routing"]["rules"][0]["name"] == "default"

    # Two lines, no single location with both: a split the policy allows, each line where it is.
    split = _preview(browser, "bol", [("B", 1), ("C", 2)], sells_from_mode="all", rules="")
    assert sorted(_ships_from(split.text)) == ["AMS", "SHOP"]
    assert "1 \N{MULTIPLICATION SIGN} B" in split.text and "2 \N{MULTIPLICATION SIGN} C" in split.text
    never = json.dumps([{"name": "whole", "split": {"mode": "never"}}])
    whole = _preview(browser, "bol", [("B", 1), ("C", 2)], sells_from_mode="all", rules=never, partial="wait_for_all")
    assert _ships_from(whole.text) == [] and "held for a person" in whole.text  # when_nothing_fits: hold

    # sells_from narrows what the channel's feed may sell, not where sourcing looks: the preview
    # shows the real plan and flags the shipment from outside the list.
    outside = _preview(browser, "bol", [("A", 1)], sells_from_mode="some", sells_from=["SHOP"], rules="")
    assert _ships_from(outside.text) == ["AMS"] and "not in bol's sells-from" in outside.text

    # A policy typed wrong is refused beside its field, and the preview's own fields likewise.
    wrong = _preview(browser, "bol", [("A", 0)], rules="[]", to_country="Holland")
    assert wrong.status_code == 422
    assert _errors(wrong.text).keys() == {"rules", "quantity_0", "to_country"}


def test_the_preview_is_what_the_reserving_activity_then_reserves(browser, database):
    """The saved policy, the preview of it (page and service) and the activity that sources a real
    order all choose the same location at the same cost: the preview cannot drift from routing."""
    add_location(database.session_factory, "NEAR", latitude=52.37, longitude=4.90, cost_base_minor=900)
    add_location(database.session_factory, "FAR", latitude=50.85, longitude=4.35, cost_base_minor=100)
    stock(database.session_factory, "NEAR", {"A": 3})
    stock(database.session_factory, "FAR", {"A": 3})
    nearby = [{"name": "nearby", "max_distance_km": 50, "sort": ["distance"]}]
    saved = _post(browser, f"{ADMIN}/channels/shopify", _channel_form(rules=json.dumps(nearby), sells_from_mode="all"))
    assert saved.status_code == 303
    to = {"to_latitude": "52.36", "to_longitude": "4.89"}
    shown = _preview(browser, "shopify", [("A", 2)], rules=json.dumps(nearby), sells_from_mode="all", **to)

    locations = [
        SourcingLocation("FAR", "warehouse", "NL", 50.85, 4.35, cost=CostProfile(100)),
        SourcingLocation("NEAR", "warehouse", "NL", 52.37, 4.90, cost=CostProfile(900)),
    ]
    policy = policy_from_dict({"rules": nearby, "partial": "ship_available", "when_nothing_fits": "hold"})
    destination = Destination("NL", 52.36, 4.89)
    expected = plan_shipments(
        SourcingRequest({"A": 2}, {"A": 1000}, destination), {"NEAR": {"A": 3}, "FAR": {"A": 3}}, locations, policy
    )
    assert _ships_from(shown.text) == [s.location_id for s in expected.shipments] == ["NEAR"]
    assert f">{expected.shipments[0].cost_minor}</td>" in shown.text  # the cost the plan reckons

    # The service with the stored policy (no unsaved one given) plans the same...
    service = ChannelSettings(units_on(database.session_factory))
    previewed = service.preview("shopify", {"A": 2}, destination, unit_values={"A": 1000})
    assert previewed.plan == expected

    # ...and so does the activity when a real order is sourced: it reserves exactly that.
    order = make_order([("A", 2, 1000)], channel="shopify")
    with UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.commit()
    reserved = ActivityEnvironment().run(
        InventoryActivities(database.session_factory).reserve_stock,
        ReserveStockInput(
            order.order_id, {"A": 2}, "reserve-1", datetime.now(UTC), "shopify", destination, {"A": 1000}
        ),
    )
    assert [(s.location_id, s.lines, s.cost_minor) for s in reserved.shipments] == [
        (p.location_id, dict(p.lines), p.cost_minor) for p in previewed.plan.shipments
    ]


# -- the catalogue ----------------------------------------------------------------------------

MUG = {"sku": "MUG-1", "name": "Mug", "ean": "4006381333931", "listings.bol": "BOL-9", "listings.amazon": "AMZ-MUG"}


def test_catalogue_entries_are_added_found_and_changed(browser):
    added = _post(browser, f"{ADMIN}/catalogue/new", MUG)
    assert added.status_code == 303
    assert browser.get("/catalogue/MUG-1", headers=STAFF).json() == {
        "sku": "MUG-1",
        "name": "Mug",
        "ean": "4006381333931",
        "vat_category": "standard",
        "listings": {"bol": "BOL-9", "amazon": "AMZ-MUG"},
        "unit_cost": None,
    }
    assert (
        _post(
            browser,
            f"{ADMIN}/catalogue/new",
            {**MUG, "sku": "TEE-1", "ean": "", "listings.bol": "", "listings.amazon": "", "name": "Tee"},
        ).status_code
        == 303
    )

    found = browser.get(f"{ADMIN}/catalogue", params={"q": "mug"}).text
    assert "MUG-1" in found and "BOL-9" in found and "TEE-1" not in found
    by_ean = browser.get(f"{ADMIN}/catalogue", params={"q": "40063813"}).text
    assert "MUG-1" in by_ean and "TEE-1" not in by_ean
    everything = browser.get(f"{ADMIN}/catalogue").text
    assert "MUG-1" in everything and "TEE-1" in everything and "2 entries" in everything

    assert 'option value="standard" selected' in browser.get(f"{ADMIN}/catalogue/MUG-1").text
    changed = _post(
        browser,
        f"{ADMIN}/catalogue/MUG-1",
        {"name": "Big mug", "ean": "", "listings.bol": "BOL-9", "vat_category": "reduced"},
    )
    assert changed.status_code == 303
    assert browser.get("/catalogue/MUG-1", headers=STAFF).json() == {
        "sku": "MUG-1",
        "name": "Big mug",
        "ean": None,
        "vat_category": "reduced",
        "listings": {"bol": "BOL-9"},
        "unit_cost": None,
    }
    assert 'option value="reduced" selected' in browser.get(f"{ADMIN}/catalogue/MUG-1").text


def test_the_catalogue_form_keeps_a_unit_cost_and_shows_no_cost_apart(browser):
    assert (
        _post(browser, f"{ADMIN}/catalogue/new", {**MUG, "unit_cost": "12.50", "unit_cost_currency": "eur"}).status_code
        == 303
    )
    assert browser.get("/catalogue/MUG-1", headers=STAFF).json()["unit_cost"] == {
        "amount_minor": 1250,
        "currency": "EUR",
    }
    form = browser.get(f"{ADMIN}/catalogue/MUG-1").text
    assert 'value="12.50"' in form and 'value="EUR"' in form
    plain = {**MUG, "sku": "TEE-1", "ean": "", "listings.bol": "", "listings.amazon": "", "name": "Tee"}
    assert _post(browser, f"{ADMIN}/catalogue/new", plain).status_code == 303
    listed = browser.get(f"{ADMIN}/catalogue").text
    assert "12.50 EUR" in listed and "no cost" in listed
    too_precise = _post(
        browser, f"{ADMIN}/catalogue/MUG-1", {"name": "Mug", "unit_cost": "12.505", "unit_cost_currency": "EUR"}
    )
    assert too_precise.status_code == 422 and "precision" in _errors(too_precise.text)["unit_cost"]
    unknown = _post(browser, f"{ADMIN}/catalogue/MUG-1", {"name": "Mug", "unit_cost": "1", "unit_cost_currency": "EUX"})
    assert unknown.status_code == 422 and "unit_cost_currency" in _errors(unknown.text)
    negative = _post(
        browser, f"{ADMIN}/catalogue/MUG-1", {"name": "Mug", "unit_cost": "-1", "unit_cost_currency": "EUR"}
    )
    assert negative.status_code == 422 and "negative" in _errors(negative.text)["unit_cost"]


def test_the_catalogue_form_refuses_as_the_api_does_beside_each_field(browser):
    bad = {**MUG, "name": " ", "ean": "4006381333932", "listings.bol": "x" * 101}
    refused = _post(browser, f"{ADMIN}/catalogue/new", bad)
    assert refused.status_code == 422
    errors = _errors(refused.text)
    assert errors.keys() == {"name", "ean", "listings-bol"}
    assert "check digit" in errors["ean"] and 'value="4006381333932"' in refused.text
    api = browser.put("/catalogue/MUG-1", headers=STAFF, json={"name": "Mug", "ean": "4006381333932"})
    assert api.status_code == 422 and errors["ean"] in json.dumps(api.json())  # the API says the same

    assert _post(browser, f"{ADMIN}/catalogue/new", MUG).status_code == 303
    taken = _post(browser, f"{ADMIN}/catalogue/new", {**MUG, "sku": "MUG-2", "listings.amazon": ""})
    assert taken.status_code == 409 and _errors(taken.text) == {"ean": "EAN 4006381333931 already belongs to MUG-1"}
    listing = _post(browser, f"{ADMIN}/catalogue/new", {**MUG, "sku": "MUG-2", "ean": "", "listings.bol": ""})
    assert listing.status_code == 409 and "AMZ-MUG already belongs to MUG-1" in _errors(listing.text)["listings-amazon"]
    again = _post(browser, f"{ADMIN}/catalogue/new", MUG)
    assert again.status_code == 422 and "in the catalogue already" in _errors(again.text)["sku"]
    assert browser.get(f"{ADMIN}/catalogue/NOPE").status_code == 404


# -- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/locations",
        "/locations/new",
        "/locations/AMS",
        "/channels",
        "/channels/bol",
        "/catalogue",
        "/catalogue/new",
        "/catalogue/MUG-1",
    ],
)
def test_a_role_without_settings_gets_403_and_no_link(support_browser, database, path):
    add_location(database.session_factory, "AMS")
    assert support_browser.get(ADMIN + path).status_code == 403
    posted = support_browser.post(ADMIN + path, data={"form_token": "form-token-1", "name": "Taken over"})
    assert posted.status_code in (403, 405)
    assert "/dashboard/admin/locations" not in support_browser.get("/dashboard").text
    assert support_browser.get("/locations/AMS", headers=STAFF).json()["name"] == "AMS site"


def test_the_catalogue_list_pages_and_takes_a_search_literally(browser, database):
    """`%` and `_` typed into the search are characters, not patterns; pages hold PAGE_SIZE entries."""
    catalogue = Catalogue(units_on(database.session_factory))
    for number in range(PAGE_SIZE + 2):
        catalogue.put(f"SKU-{number:03}", name=f"Thing {number}", ean=None, listings={})
    catalogue.put("CUP_1", name="Cup 100%", ean=None, listings={"bol": "CUP-BOL"})

    assert [entry["sku"] for entry in catalogue.page(query="_")[0]] == ["CUP_1"]
    assert [entry["sku"] for entry in catalogue.page(query="0%")[0]] == ["CUP_1"]
    first, count = catalogue.page(limit=PAGE_SIZE)
    assert count == PAGE_SIZE + 3 and first[0]["sku"] == "CUP_1" and len(first) == PAGE_SIZE

    second = browser.get(f"{ADMIN}/catalogue", params={"page": 2}).text
    assert "page 2 of 2" in second and "SKU-051" in second and "SKU-000" not in second
    assert "CUP-BOL" in browser.get(f"{ADMIN}/catalogue", params={"q": "cup"}).text
