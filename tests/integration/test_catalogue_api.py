"""PUT/GET /catalogue/{sku} through the real app on SQLite and PostgreSQL: GTIN check digits,
known channels, conflicts with another SKU's EAN or listing, and what the channels then resolve."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from config import load_settings
from ops.temporal_dev import free_port
from persistence.master_data.catalogue import resolve_identifier
from persistence.models import StockOutbox

TOKEN = "catalogue-admin-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
EAN = "8712345678906"
OTHER_EAN = "4006381333931"


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    # The catalogue never needs Temporal: it is pointed at a closed port.
    settings = load_settings(database_url=database.url, admin_token=TOKEN, temporal_address=f"localhost:{free_port()}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _put(api: TestClient, sku: str, **body: object):
    return api.put(f"/catalogue/{sku}", json=body, headers=STAFF)


def test_a_product_is_created_read_back_and_replaced(api, database):
    created = _put(api, "MUG-BLUE", name="Blue mug", ean=EAN, listings={"bol": "offer-1", "amazon": "MUG-B"})
    assert created.status_code == 200, created.text
    view = {
        "sku": "MUG-BLUE",
        "name": "Blue mug",
        "ean": EAN,
        "vat_category": "standard",
        "listings": {"amazon": "MUG-B", "bol": "offer-1"},
        "unit_cost": None,
    }
    assert created.json() == view
    assert api.get("/catalogue/MUG-BLUE", headers=STAFF).json() == view
    with database.session() as session:
        assert resolve_identifier(session, "bol", EAN) == "MUG-BLUE"
        assert resolve_identifier(session, "amazon", "MUG-B") == "MUG-BLUE"
        # A new listing is told the SKU's stock by the feed.
        assert session.scalar(select(StockOutbox.sku).where(StockOutbox.sku == "MUG-BLUE")) == "MUG-BLUE"

    # PUT replaces: what is left out goes.
    replaced = _put(api, "MUG-BLUE", name="Blue mug, 300 ml", listings={"bol": "offer-2"}, vat_category="reduced")
    assert replaced.json() == {
        "sku": "MUG-BLUE",
        "name": "Blue mug, 300 ml",
        "ean": None,
        "vat_category": "reduced",
        "listings": {"bol": "offer-2"},
        "unit_cost": None,
    }
    # Left out, the VAT category stays as it was (a client from before it never resets it).
    assert _put(api, "MUG-BLUE", name="Blue mug, 300 ml").json()["vat_category"] == "reduced"
    assert _put(api, "MUG-BLUE", name="Blue mug", vat_category="luxury").status_code == 422
    with database.session() as session:
        assert resolve_identifier(session, "bol", "offer-1") is None
        assert resolve_identifier(session, "amazon", "MUG-B") is None


def test_an_unknown_sku_is_404(api):
    response = api.get("/catalogue/NOPE", headers=STAFF)
    assert response.status_code == 404 and response.json()["detail"] == "NOPE is not in the catalogue"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"name": "Mug", "ean": "8712345678907"},
            "body.ean: Value error, GTIN 8712345678907 has check digit 7, expected 6",
        ),
        ({"name": "Mug", "ean": "871234567890"}, "check digit"),
        ({"name": "Mug", "ean": "12345"}, "has 5 digits; a GTIN has 8, 12, 13 or 14"),
        ({"name": "Mug", "ean": "87123456789O6"}, "digits only"),
        ({"name": "Mug", "listings": {"etsy": "1"}}, "unknown channel etsy"),
        ({"name": "Mug", "listings": {"bol": ""}}, "body.listings.bol"),
        ({"name": "Mug", "listings": {"bol": "x" * 101}}, "body.listings.bol"),
        ({"name": "Mug", "listings": ["bol"]}, "body.listings"),
        ({"name": ""}, "body.name"),
        ({"ean": EAN}, "body.name: Field required"),
        ({"name": "Mug", "colour": "blue"}, "body.colour: Extra inputs are not permitted"),
    ],
)
def test_bad_input_is_422_with_the_reason(api, body, message):
    response = api.put("/catalogue/MUG", json=body, headers=STAFF)
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]["message"]


@pytest.mark.parametrize("ean", ["96385074", "036000291452", "4006381333931", "10614141000415", " 4006381333931 "])
def test_every_gtin_length_is_accepted(api, ean):
    response = _put(api, "MUG", name="Mug", ean=ean)
    assert response.status_code == 200 and response.json()["ean"] == ean.strip()


def test_an_ean_or_listing_of_another_sku_is_409_and_changes_nothing(api):
    assert _put(api, "MUG", name="Mug", ean=EAN, listings={"bol": "offer-1"}).status_code == 200
    taken_ean = _put(api, "CUP", name="Cup", ean=EAN)
    assert taken_ean.status_code == 409 and taken_ean.json()["detail"] == f"EAN {EAN} already belongs to MUG"
    taken_listing = _put(api, "CUP", name="Cup", ean=OTHER_EAN, listings={"bol": "offer-1"})
    assert taken_listing.status_code == 409
    assert taken_listing.json()["detail"] == "bol listing offer-1 already belongs to MUG"
    assert api.get("/catalogue/CUP", headers=STAFF).status_code == 404
    # The same listing id on another channel is another listing; the same SKU may keep its own.
    assert _put(api, "CUP", name="Cup", listings={"amazon": "offer-1"}).status_code == 200
    assert _put(api, "MUG", name="Mug", ean=EAN, listings={"bol": "offer-1"}).status_code == 200


def test_two_skus_racing_for_one_ean_one_wins_the_other_is_409(api):
    def put(sku: str) -> int:
        return _put(api, sku, name=sku, ean=EAN).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(pool.map(put, ["RACE-A", "RACE-B"]))
    assert codes == [200, 409]


def test_the_catalogue_is_staff_only(api):
    assert api.get("/catalogue/MUG").status_code == 401
    assert api.put("/catalogue/MUG", json={"name": "Mug"}).status_code == 401
    assert api.put("/catalogue/MUG", json={"name": "Mug"}, headers={"Authorization": "Bearer no"}).status_code == 401


def test_a_unit_cost_is_kept_read_back_and_cleared_only_by_null(api):
    cost = {"amount_minor": 1250, "currency": "EUR"}
    created = _put(api, "MUG-COST", name="Costed mug", unit_cost=cost)
    assert created.status_code == 200, created.text
    assert created.json()["unit_cost"] == cost
    assert api.get("/catalogue/MUG-COST", headers=STAFF).json()["unit_cost"] == cost
    # A client from before costs were kept PUTs without one: the admin's cost stays.
    assert _put(api, "MUG-COST", name="Costed mug, 300 ml").json()["unit_cost"] == cost
    assert _put(api, "MUG-COST", name="Costed mug", unit_cost=None).json()["unit_cost"] is None
    assert _put(api, "MUG-NEW", name="New mug").json()["unit_cost"] is None  # none known for a new SKU


@pytest.mark.parametrize(
    "cost",
    [
        {"amount_minor": -1, "currency": "EUR"},
        {"amount_minor": 100, "currency": "XXY"},
        {"amount_minor": 1.5, "currency": "EUR"},
        {"amount_minor": 100},
    ],
)
def test_a_bad_unit_cost_is_refused(api, cost):
    refused = _put(api, "MUG-BAD", name="Mug", unit_cost=cost)
    assert refused.status_code == 422, refused.text
    assert "unit_cost" in refused.text
