"""The warehouse floor and the store counter, in-process on SQLite and PostgreSQL: the pick list in
deadline order with late steps marked, scanning that counts and refuses on the spot, the short-pick
warning, pack and ship forms that say what is wrong next to the field, the packing slip, the
counter's lists and search, and who may see which location's pages.

Confirming a step needs the shipment's workflow: tests/e2e/test_warehouse_screens_flow.py does that
through these pages. Here there is no engine (a free port), so a confirmation shows the engine's
absence on the page, never a 500."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import get_shipments
from contracts.shipments import EscalationInput, StepConfirmation
from domain.order import Address
from domain.staff import Role, StaffMember
from persistence.master_data.catalogue import save_product
from persistence.models import ShipmentLabel, ShipmentRecord
from persistence.read_model import escalations
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from tests.factories import add_location, make_order, stock
from tests.integration.screens import app_for, as_member, form_token, signed_in_browser

TOKEN = "warehouse-token"
MUG_EAN = "8712345678906"


@pytest.fixture
def browser(database) -> Iterator[TestClient]:
    """Signed in with the admin token (the bootstrap admin, who may do everything)."""
    yield from signed_in_browser(app_for(database, TOKEN), TOKEN)


PICKER = StaffMember("user-1", "picker@example.org", Role.WAREHOUSE, frozenset({"AMS", "UTR"}))


def _as_member(database, member: StaffMember) -> FastAPI:
    """The app with `member` signed in, put in place of the signed-in person by overriding the
    pages' `signed_in` dependency (until real accounts can sign in here); forms carry "form-1"."""
    return as_member(app_for(database, TOKEN), member, "session-1", "form-1")


@pytest.fixture
def ams_picker(database) -> Iterator[TestClient]:
    """A warehouse member of AMS only."""
    member = StaffMember("user-1", "picker@example.org", Role.WAREHOUSE, frozenset({"AMS"}))
    with TestClient(_as_member(database, member), follow_redirects=False) as client:
        yield client


class _Confirmations:
    """Stands in for services.shipments at the edge where the screens hand over a confirmation,
    to read what they hand over (the e2e test runs the real workflow behind it)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, StepConfirmation]] = []

    async def confirm(self, shipment_id: str, confirmation: StepConfirmation) -> None:
        self.seen.append((shipment_id, confirmation))


def _order(db, lines, *, reference: str, name: str = "Sam Tester", pickup: str | None = None) -> str:
    order = replace(
        make_order(lines, pickup_location_id=pickup),
        reference=reference,
        shipping_address=Address(name=name, line1="Damrak 1", postcode="1012 LG", city="Amsterdam", country="NL"),
    )
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.commit()
    return order.order_id


def _shipment(db, order_id: str, location_id: str, lines: dict[str, int], **fields) -> str:
    shipment_id = f"shipment-{order_id}-{location_id}"
    fields.setdefault("status", "RESERVED")
    with UnitOfWork(db.session_factory) as uow:
        uow.session.add(
            ShipmentRecord(shipment_id=shipment_id, order_id=order_id, location_id=location_id, lines=lines, **fields)
        )
        uow.commit()
    return shipment_id


def _one_mug(db, reference: str, **fields) -> str:
    """A shipment of one mug from AMS (its order made first), as far along as `fields` say."""
    return _shipment(db, _order(db, [("MUG-1", 1, 1250)], reference=reference), "AMS", {"MUG-1": 1}, **fields)


def _packed_mug(db, reference: str, **fields) -> str:
    """One mug picked and packed in one parcel: it waits to be shipped."""
    now = datetime.now(UTC)
    return _one_mug(db, reference, status="PACKED", picked_at=now, packed_at=now, parcels=1, **fields)


def _catalogue(db) -> None:
    with UnitOfWork(db.session_factory) as uow:
        save_product(uow.session, "MUG-1", name="Stoneware mug", ean=MUG_EAN, listings={})
        save_product(uow.session, "TEE-1", name="Organic tee", ean=None, listings={})
        uow.commit()


def _cards(page: str) -> list[str]:
    """The shipment ids of the pick list, top to bottom."""
    return re.findall(r'data-shipment="([^"]+)"', page)


def test_the_pick_list_puts_the_earliest_deadline_first_and_marks_late_steps(browser, database):
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "RIG")
    stock(database.session_factory, "AMS", {"MUG-1": 10, "TEE-1": 10})
    _catalogue(database)
    now = datetime.now(UTC)
    fresh = _shipment(database, _order(database, [("MUG-1", 2, 1250)], reference="#FRESH"), "AMS", {"MUG-1": 2})
    late = _shipment(
        database,
        _order(database, [("TEE-1", 1, 2000)], reference="#LATE"),
        "AMS",
        {"TEE-1": 1},
        created_at=now - timedelta(hours=5),
    )
    packing = _one_mug(
        database,
        "#PACK",
        status="PICKED",
        created_at=now - timedelta(hours=1),
        picked_at=now - timedelta(minutes=30),
    )
    escalated_order = _order(database, [("MUG-1", 1, 1250)], reference="#ESC")
    escalated = _shipment(database, escalated_order, "AMS", {"MUG-1": 1}, created_at=now - timedelta(minutes=10))
    with UnitOfWork(database.session_factory) as uow:  # the workflow's own deadline wins over the computed one
        escalations.raise_once(
            uow.session,
            EscalationInput(escalated_order, escalated, "AMS", "pick", now - timedelta(hours=3), "esc", now),
        )
        uow.commit()
    _shipment(database, _order(database, [("MUG-1", 1, 1250)], reference="#RIG"), "RIG", {"MUG-1": 1})
    gone = _order(database, [("MUG-1", 1, 1250)], reference="#GONE")
    _shipment(database, gone, "AMS", {"MUG-1": 1}, status="SHIPPED")

    page = browser.get("/dashboard/warehouse/AMS")
    assert page.status_code == 200
    assert _cards(page.text) == [escalated, late, packing, fresh]
    cards = {sid: page.text.split(f'data-shipment="{sid}"')[1].split("</section>")[0] for sid in _cards(page.text)}
    assert 'class="card late"' in page.text.split(f'data-shipment="{late}"')[0].rsplit("<section", 1)[1]
    assert "Late: pick was due" in cards[late] and "1 h" in cards[late]
    assert "Late: pick was due" in cards[escalated] and "3 h" in cards[escalated]
    assert "pack due" in cards[packing] and "Late" not in cards[packing]
    assert "Late" not in cards[fresh]
    assert "Stoneware mug" in cards[fresh] and MUG_EAN in cards[fresh] and "#FRESH" in cards[fresh]
    assert "#RIG" not in page.text and "#GONE" not in page.text

    # A bin, set on this screen, shows on the lines of that SKU.
    saved = browser.post(
        "/dashboard/warehouse/AMS/bins", data={"form_token": form_token(page.text), "sku": "MUG-1", "bin": "A-03-2"}
    )
    assert saved.status_code == 303
    again = browser.get(saved.headers["location"]).text
    assert "MUG-1 lies in A-03-2" in again
    assert re.search(r'data-label="Bin">A-03-2<', again.split(f'data-shipment="{fresh}"')[1])
    unknown = browser.post(
        "/dashboard/warehouse/AMS/bins", data={"form_token": form_token(page.text), "sku": "NOPE-1", "bin": "B-1"}
    )
    assert "bin not set: AMS holds no stock record of NOPE-1" in browser.get(unknown.headers["location"]).text


def test_one_location_goes_straight_to_its_pick_list_and_another_locations_pages_are_refused(ams_picker, database):
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "RIG")
    add_location(database.session_factory, "UTR", kind="store")
    stock(database.session_factory, "RIG", {"MUG-1": 5})
    theirs = _shipment(database, _order(database, [("MUG-1", 1, 1250)], reference="#R"), "RIG", {"MUG-1": 1})
    ours = _shipment(database, _order(database, [("MUG-1", 1, 1250)], reference="#A"), "AMS", {"MUG-1": 1})

    assert ams_picker.get("/dashboard/warehouse").headers["location"] == "/dashboard/warehouse/AMS"
    assert ours in ams_picker.get("/dashboard/warehouse/AMS").text
    assert ams_picker.get("/dashboard/warehouse/RIG").status_code == 403
    assert ams_picker.get(f"/dashboard/warehouse/shipments/{theirs}").status_code == 403
    assert ams_picker.get(f"/dashboard/warehouse/shipments/{theirs}/slip").status_code == 403
    scan = ams_picker.post(
        f"/dashboard/warehouse/shipments/{theirs}/scan", data={"form_token": "form-1", "code": "MUG-1"}
    )
    assert scan.status_code == 403
    bins = ams_picker.post("/dashboard/warehouse/RIG/bins", data={"form_token": "form-1", "sku": "MUG-1", "bin": "X"})
    assert bins.status_code == 403
    assert ams_picker.get("/dashboard/counter/UTR").status_code == 403
    # No store of theirs: the counter says so rather than listing someone else's.
    assert "not assigned to any store" in ams_picker.get("/dashboard/counter").text


def _scan(client: TestClient, shipment_id: str, token: str, code: str, counts: dict[str, int], units: str = "1"):
    return client.post(
        f"/dashboard/warehouse/shipments/{shipment_id}/scan",
        data={"form_token": token, "code": code, "units": units, "counts": json.dumps(counts)},
    )


def _counts_after(response) -> dict[str, int]:
    assert response.status_code == 303, response.text
    counts: dict[str, int] = json.loads(parse_qs(urlparse(response.headers["location"]).query)["counts"][0])
    return counts


def test_scanning_counts_units_refuses_wrong_items_and_over_picks_and_warns_of_a_short_pick(browser, database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"MUG-1": 10, "TEE-1": 10, "CAP-1": 3})
    _catalogue(database)
    order_id = _order(database, [("MUG-1", 2, 1250), ("TEE-1", 1, 2000)], reference="#SCAN")
    shipment_id = _shipment(database, order_id, "AMS", {"MUG-1": 2, "TEE-1": 1})
    here = f"/dashboard/warehouse/shipments/{shipment_id}"

    page = browser.get(here).text
    assert re.search(r'<label for="scan">Scan or type EAN / SKU</label>\s*<input id="scan"[^>]* autofocus', page)
    token = form_token(page)

    counts = _counts_after(_scan(browser, shipment_id, token, MUG_EAN, {}))  # by EAN
    assert counts == {"MUG-1": 1, "TEE-1": 0}
    after = browser.get(_scan(browser, shipment_id, token, "tee-1", counts).headers["location"])  # SKU, any case
    assert "Counted TEE-1: 1 of 1" in after.text
    counts = {"MUG-1": 1, "TEE-1": 1}

    # Counts that are not counts (an address typed by hand) count nothing; they are never an error page.
    assert "Confirm: nothing found" in browser.get(here, params={"counts": "[" * 10_000}).text
    assert _counts_after(_scan(browser, shipment_id, token, "MUG-1", {"MUG-1": 99, "X": 1})) == {"MUG-1": 1, "TEE-1": 0}

    wrong = _scan(browser, shipment_id, token, "CAP-1", counts)
    assert wrong.status_code == 422
    assert '<p class="error" id="scan-error" role="alert">CAP-1 is not on this pick list: put it back</p>' in wrong.text
    assert 'aria-describedby="scan-error"' in wrong.text
    assert '"MUG-1":1' in wrong.text.replace("&#34;", '"')  # the counts so far are kept

    over = _scan(browser, shipment_id, token, f"2x {MUG_EAN}", counts)
    assert over.status_code == 422 and "MUG-1: the pick list asks for 2, this would make 3" in over.text
    assert _scan(browser, shipment_id, token, "TEE-1", counts).status_code == 422  # one too many of that too

    short = browser.get(here, params={"counts": json.dumps(counts)}).text
    note = short.split('id="short-note"')[1].split("</div>")[0]
    assert "Short pick: 1 unit not counted" in note and "MUG-1 \u00d71" in note
    assert "written off at AMS" in note
    assert "once this shipment has left, the order sources the missing units again" in note
    assert "backorder" in note
    assert "Confirm short pick (1 missing)" in short

    full = _counts_after(_scan(browser, shipment_id, token, "mug-1", counts))
    done = browser.get(here, params={"counts": json.dumps(full)}).text
    assert "Confirm pick (3 units)" in done and 'id="short-note"' not in done

    # No engine answers here: the confirmation is shown as not sent, with the counts kept.
    confirm = browser.post(f"{here}/pick", data={"form_token": token, "counts": json.dumps(counts)})
    assert confirm.status_code == 503 and "Pick not sent" in confirm.text
    assert "Confirm short pick (1 missing)" in confirm.text

    # Nothing counted: the button says so before anyone presses it.
    assert "Confirm: nothing found" in browser.get(here).text


def test_pack_and_ship_forms_say_what_is_wrong_next_to_the_field(browser, database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"MUG-1": 10})
    picked = _one_mug(
        database,
        "#P",
        status="PICKED",
        picked_at=datetime.now(UTC),
    )
    here = f"/dashboard/warehouse/shipments/{picked}"
    assert "Confirm packed (1 parcel)" in browser.get(here, params={"parcels": "lots"}).text
    page = browser.get(here, params={"parcels": 2}).text
    assert page.count('name="weight"') == 2 and "Confirm packed (2 parcels)" in page
    token = form_token(page)

    one_weight = browser.post(f"{here}/pack", data={"form_token": token, "parcels": "2", "weight": ["1200", ""]})
    assert one_weight.status_code == 422
    assert '<p class="error" id="weight-error" role="alert">weigh every parcel: parcel 2 has no weight</p>' in (
        one_weight.text
    )
    assert 'value="1200"' in one_weight.text  # what was typed stays
    three = browser.post(f"{here}/pack", data={"form_token": token, "parcels": "2", "weight": ["1", "2", "3"]})
    assert three.status_code == 422 and "one weight per parcel (2)" in three.text
    not_grams = browser.post(f"{here}/pack", data={"form_token": token, "parcels": "1", "weight": "heavy"})
    assert not_grams.status_code == 422 and "parcel 1: the weight in whole grams" in not_grams.text
    no_parcels = browser.post(f"{here}/pack", data={"form_token": token, "parcels": "0"})
    assert no_parcels.status_code == 422 and 'id="parcels-error"' in no_parcels.text
    # Weights are optional without a carrier integration; the engine is what is missing here.
    packed = browser.post(f"{here}/pack", data={"form_token": token, "parcels": "1"})
    assert packed.status_code == 503 and "Pack not sent" in packed.text

    to_ship = _packed_mug(database, "#S")
    ship_page = browser.get(f"/dashboard/warehouse/shipments/{to_ship}").text
    assert '<label for="carrier">Carrier</label>' in ship_page and "Tracking number" in ship_page
    missing = browser.post(
        f"/dashboard/warehouse/shipments/{to_ship}/ship", data={"form_token": token, "carrier": "postnl"}
    )
    assert missing.status_code == 422
    assert 'id="tracking-error"' in missing.text and 'value="postnl"' in missing.text
    assert 'id="carrier-error"' not in missing.text

    # A shipment with the carrier's label: its PDF through this screen, and the hand-over button.
    labelled = _packed_mug(
        database,
        "#L",
        carrier="postnl",
        tracking_number="3SABC123",
        label_status="ready",
    )
    with UnitOfWork(database.session_factory) as uow:
        uow.session.add(
            ShipmentLabel(
                shipment_id=labelled,
                purpose="outbound",
                carrier="postnl",
                tracking_number="3SABC123",
                reference="sendcloud:1",
                media_type="application/pdf",
                document=b"%PDF-1.4 label",
            )
        )
        uow.commit()
    label_page = browser.get(f"/dashboard/warehouse/shipments/{labelled}").text
    assert "Handed to the carrier" in label_page and "3SABC123" in label_page and 'name="carrier"' not in label_page
    pdf = browser.get(f"/dashboard/warehouse/shipments/{labelled}/label.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == b"%PDF-1.4 label"
    assert browser.get(f"/dashboard/warehouse/shipments/{to_ship}/label.pdf").status_code == 404


def test_the_packing_slip_has_the_order_the_address_the_lines_and_the_parcels(browser, database):
    add_location(database.session_factory, "AMS")
    _catalogue(database)
    order_id = _order(database, [("MUG-1", 2, 1250), ("TEE-1", 1, 2000)], reference="#1042", name="Noor de Vries")
    shipment_id = _shipment(
        database,
        order_id,
        "AMS",
        {"MUG-1": 2, "TEE-1": 1},
        status="PACKED",
        picked_at=datetime.now(UTC),
        packed_at=datetime.now(UTC),
        parcels=2,
        parcel_weights_grams=[1200, 800],
    )
    slip = browser.get(f"/dashboard/warehouse/shipments/{shipment_id}/slip")
    assert slip.status_code == 200
    body = slip.text
    assert '<span id="order-number">#1042</span>' in body
    address = body.split('id="ship-to">')[1].split("</address>")[0]
    assert "Noor de Vries" in address and "Damrak 1" in address and "1012 LG Amsterdam" in address
    lines = body.split('id="slip-lines"')[1].split("</table>")[0]
    assert re.search(r"<td>MUG-1</td><td>Stoneware mug</td><td class=\"num\">2</td>", lines)
    assert re.search(r"<td>TEE-1</td><td>Organic tee</td><td class=\"num\">1</td>", lines)
    assert "2 (1200 g, 800 g)" in body
    assert "@media print" in body and 'onclick="window.print()"' in body


def test_the_counter_lists_pickups_finds_them_by_number_or_name_and_asks_before_handing_over(browser, database):
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "UTR", kind="store")
    _catalogue(database)
    now = datetime.now(UTC)
    ready = dict(status="READY_FOR_PICKUP", kind="collect", picked_at=now, ready_at=now)
    noor = _shipment(
        database, _order(database, [("MUG-1", 1, 1250)], reference="#C1", name="Noor Jansen", pickup="UTR"),
        "UTR", {"MUG-1": 1}, **ready,
    )  # fmt: skip
    piet = _shipment(
        database, _order(database, [("TEE-1", 1, 2000)], reference="#C2", name="Piet Bakker", pickup="UTR"),
        "UTR", {"TEE-1": 1}, **ready,
    )  # fmt: skip
    picked = _shipment(
        database, _order(database, [("MUG-1", 1, 1250)], reference="#C3", name="Ada", pickup="UTR"),
        "UTR", {"MUG-1": 1}, status="PICKED", kind="collect", picked_at=now,
    )  # fmt: skip
    coming = _shipment(
        database, _order(database, [("MUG-1", 1, 1250)], reference="#C4", name="Bo", pickup="UTR"),
        "AMS", {"MUG-1": 1}, status="SHIPPED", kind="transfer_collect", transfer_to="UTR", shipped_at=now,
    )  # fmt: skip
    expired = _shipment(
        database, _order(database, [("MUG-1", 1, 1250)], reference="#C5", name="Cas", pickup="UTR"),
        "UTR", {"MUG-1": 1}, status="EXPIRED", kind="collect", ready_at=now - timedelta(days=8),
    )  # fmt: skip

    page = browser.get("/dashboard/counter/UTR")
    assert page.status_code == 200
    ready_part = page.text.split('id="ready"')[1].split('id="to-shelve"')[0]
    shelve_part = page.text.split('id="to-shelve"')[1].split('id="expired"')[0]
    expired_part = page.text.split('id="expired"')[1]
    assert set(_cards(ready_part)) == {noor, piet} and "Noor Jansen" in ready_part
    assert set(_cards(shelve_part)) == {picked, coming} and "sent from AMS" in shelve_part
    assert _cards(expired_part) == [expired] and "#C5" in expired_part

    by_name = browser.get("/dashboard/counter/UTR", params={"q": "noor"}).text
    assert _cards(by_name.split('id="ready"')[1].split('id="to-shelve"')[0]) == [noor]
    by_number = browser.get("/dashboard/counter/UTR", params={"q": "#c2"}).text
    assert _cards(by_number.split('id="ready"')[1].split('id="to-shelve"')[0]) == [piet]

    # The pickups of this store, not the warehouse's pick list: AMS lists neither the shelf nor the counter.
    assert _cards(browser.get("/dashboard/warehouse/AMS").text) == []
    assert _cards(browser.get("/dashboard/warehouse/UTR").text) == [picked, coming]

    handover = browser.get(f"/dashboard/counter/UTR/handover/{noor}")
    assert handover.status_code == 200
    assert "I checked the order number and the customer's name" in handover.text
    assert "Noor Jansen" in handover.text and "#C1" in handover.text
    token = form_token(handover.text)
    unchecked = browser.post(f"/dashboard/counter/UTR/handover/{noor}", data={"form_token": token})
    assert unchecked.status_code == 422 and 'id="checked-error"' in unchecked.text
    checked = browser.post(f"/dashboard/counter/UTR/handover/{noor}", data={"form_token": token, "checked": "yes"})
    assert checked.status_code == 503 and "Hand-over not sent" in checked.text
    # A pickup of another store, or one not on the shelf, is not handed over from here.
    assert browser.get(f"/dashboard/counter/AMS/handover/{noor}").status_code == 404
    not_ready = browser.get(f"/dashboard/counter/UTR/handover/{picked}")
    assert not_ready.status_code == 303 and "flash=" in not_ready.headers["location"]


def test_each_confirmation_names_every_line_the_location_and_the_person(database):
    """A SKU left out of a pick confirmation counts as picked in full: the screen names every line,
    zeros included; and the person signed in is who confirmed it."""
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "UTR", kind="store")
    order_id = _order(database, [("MUG-1", 2, 1250), ("TEE-1", 1, 2000)], reference="#W")
    picking = _shipment(database, order_id, "AMS", {"MUG-1": 2, "TEE-1": 1})
    now = datetime.now(UTC)
    pickup = _shipment(
        database, _order(database, [("MUG-1", 1, 1250)], reference="#K", name="Kim", pickup="UTR"),
        "UTR", {"MUG-1": 1}, status="READY_FOR_PICKUP", kind="collect", picked_at=now, ready_at=now,
    )  # fmt: skip
    recorder = _Confirmations()
    app = _as_member(database, PICKER)
    app.dependency_overrides[get_shipments] = lambda: recorder
    with TestClient(app, follow_redirects=False) as client:
        done = client.post(
            f"/dashboard/warehouse/shipments/{picking}/pick", data={"form_token": "form-1", "counts": '{"MUG-1": 2}'}
        )
        assert done.status_code == 303
        assert "Short pick confirmed: TEE-1 x1" in client.get(done.headers["location"]).text
        handed = client.post(
            f"/dashboard/counter/UTR/handover/{pickup}", data={"form_token": "form-1", "checked": "yes"}
        )
        assert handed.status_code == 303 and "Handed over: #K to Kim" in client.get(handed.headers["location"]).text
        forged = client.post(f"/dashboard/warehouse/shipments/{picking}/pick", data={"form_token": "guess"})
        assert forged.status_code == 403
    assert recorder.seen == [
        (picking, StepConfirmation("pick", "AMS", {"MUG-1": 2, "TEE-1": 0}, confirmed_by="picker@example.org")),
        (pickup, StepConfirmation("collect", "UTR", confirmed_by="picker@example.org")),
    ]


def _held(db, location_id: str, units: dict[str, int]) -> None:
    from domain.return_lifecycle import StockEffects
    from persistence.guarded_writes.return_stock import book_dispositions

    with UnitOfWork(db.session_factory) as uow:
        book_dispositions(
            uow.session,
            order_id="order-webshop-1",
            return_id="return-order-webshop-1-1",
            location_id=location_id,
            effects=StockEffects(held=units),
            at=datetime.now(UTC),
        )
        uow.commit()


def test_held_stock_is_released_to_sale_or_written_off_from_the_pick_list(browser, database):
    add_location(database.session_factory, "AMS")
    stock(database.session_factory, "AMS", {"MUG-1": 1})
    _held(database, "AMS", {"MUG-1": 3, "PLATE-1": 1})
    page = browser.get("/dashboard/warehouse/AMS")
    assert page.status_code == 200
    held = page.text.split('id="held"')[1].split("Where an item lies")[0]
    assert 'data-sku="MUG-1"' in held and "3 held" in held and 'data-sku="PLATE-1"' in held
    token = form_token(page.text)

    def release(**form: str) -> str:
        response = browser.post("/dashboard/warehouse/AMS/held", data={"form_token": token, **form})
        assert response.status_code == 303, response.text
        return browser.get(response.headers["location"]).text

    assert "2 x MUG-1 back on sale; 1 still held" in release(sku="MUG-1", quantity="2", to="sellable")
    assert "a write-off needs a reason" in release(sku="MUG-1", quantity="1", to="scrap")
    assert "cannot release 5, 1 held" in release(sku="MUG-1", quantity="5", to="sellable")
    assert "is not a count" in release(sku="MUG-1", quantity="-1", to="sellable")
    after = release(sku="MUG-1", quantity="1", to="scrap", reason="handle broke in cleaning")
    assert "1 x MUG-1 written off; 0 still held" in after
    assert 'data-sku="MUG-1"' not in after and 'data-sku="PLATE-1"' in after
    sku_page = browser.get("/dashboard/stock/MUG-1").text
    assert "refurbished" in sku_page and "write_off" in sku_page
    with database.session() as session:
        from persistence.guarded_writes.inventory import stock_row

        row = stock_row(session, "AMS", "MUG-1")
    assert row is not None and (row.on_hand, row.held) == (3, 0)


def test_held_stock_is_released_only_by_stock_count_staff_of_that_location(ams_picker, database):
    add_location(database.session_factory, "AMS")
    add_location(database.session_factory, "RIG")
    _held(database, "RIG", {"MUG-1": 1})
    _held(database, "AMS", {"MUG-1": 1})
    assert 'data-sku="MUG-1"' in ams_picker.get("/dashboard/warehouse/AMS").text
    form = {"form_token": "form-1", "sku": "MUG-1", "quantity": "1", "to": "sellable"}
    assert ams_picker.post("/dashboard/warehouse/RIG/held", data=form).status_code == 403
    assert ams_picker.post("/dashboard/warehouse/AMS/held", data={**form, "form_token": "forged"}).status_code == 403
    assert ams_picker.post("/dashboard/warehouse/AMS/held", data=form).status_code == 303
