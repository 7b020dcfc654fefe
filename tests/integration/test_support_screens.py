"""Support's screens in-process on SQLite and PostgreSQL: finding an order from what a customer says,
the order page's buttons by role, and the return form up to the moment it asks the order's
workflow (tests/e2e/test_support_returns.py goes on from there with a running engine)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from config import Settings
from contracts.store_credit import IssueCreditInput
from domain.money import Money
from domain.order import Address, Order, OrderLine
from domain.returns import refund_for
from domain.staff import Permission, Role, StaffMember
from domain.status import OrderStatus
from domain.store_credit import CreditReason
from persistence.db import create_db_engine
from persistence.migrate import alembic_config
from persistence.models import ReturnRecord, ShipmentRecord
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.store_credit import CreditAccounts
from services.unit_of_work import units_on
from tests.factories import make_order, next_id
from tests.integration.screens import as_member, form_token, settings_for, signed_in_browser

TOKEN = "support-token"


@pytest.fixture
def settings(database) -> Settings:
    return settings_for(database, TOKEN)


@pytest.fixture
def browser(settings) -> Iterator[TestClient]:
    """Signed in with the staff token (the bootstrap admin), as a browser: cookies kept, redirects not followed."""
    yield from signed_in_browser(create_app(settings), TOKEN)


def _as(settings: Settings, member: StaffMember) -> Iterator[TestClient]:
    """A client of its own app, signed in as `member`. The accounts work (real users and sessions)
    lands separately: until then the person is put in place of the cookie's through the page
    frame's dependency (`signed_in`, which every page's role check depends on)."""
    app = as_member(create_app(settings), member, "session-of-test", "form-token-of-test")
    with TestClient(app, follow_redirects=False) as client:
        yield client


class ViewOnly(StaffMember):
    """A person who may read orders and nothing more (no role is that today: it isolates what the
    order page draws from what the roles happen to grant)."""

    def may(self, permission: Permission) -> bool:
        return permission is Permission.ORDERS_VIEW


@pytest.fixture
def support(settings) -> Iterator[TestClient]:
    yield from _as(settings, StaffMember("user-support", "kim@shop.example", Role.SUPPORT))


@pytest.fixture
def warehouse(settings) -> Iterator[TestClient]:
    yield from _as(settings, StaffMember("user-wh", "piet@shop.example", Role.WAREHOUSE, frozenset({"AMS"})))


@pytest.fixture
def viewer(settings) -> Iterator[TestClient]:
    yield from _as(settings, ViewOnly("user-view", "viv@shop.example", Role.SUPPORT))


def _record(db, order: Order, status: OrderStatus | None = None, hold_reason: str | None = None) -> str:
    with UnitOfWork(db.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        if status is not None:
            order_store.set_status(uow.session, order.order_id, status, hold_reason=hold_reason, at=datetime.now(UTC))
        uow.commit()
    return order.order_id


def _customer(order: Order, email: str, postcode: str, name: str = "Kim Jansen") -> Order:
    address = replace(order.shipping_address, name=name, postcode=postcode)
    return replace(order, customer_email=email, shipping_address=address)


def _shipped(db, order_id: str, lines: dict[str, int], *, returned: dict[str, int] | None = None) -> None:
    """A parcel with `lines` handed to the carrier; with `returned`, units already taken back."""
    with UnitOfWork(db.session_factory) as uow:
        uow.session.add(
            ShipmentRecord(
                shipment_id=f"shipment-{order_id}-AMS",
                order_id=order_id,
                location_id="AMS",
                status="SHIPPED",
                lines=lines,
                carrier="PostNL",
                tracking_number="3SABC123",
                shipped_at=datetime.now(UTC),
                confirmed_by={"pick": "piet@shop.example"},
            )
        )
        if returned:
            uow.session.add(
                ReturnRecord(
                    return_id=f"return-{order_id}-1",
                    order_id=order_id,
                    status="REFUNDED",
                    lines=returned,
                    reason="damaged",
                    currency="EUR",
                    refund_minor=321,
                    requested_by="kim@shop.example",
                )
            )
        uow.commit()


# -- finding an order ----------------------------------------------------------------------------


def _find(client: TestClient, query: str):
    token = form_token(client.get("/dashboard/support").text)
    return client.post("/dashboard/support", data={"form_token": token, "q": query})


def test_an_order_is_found_by_each_thing_a_customer_can_say(browser, database):
    order = _customer(make_order([("MUG", 1, 1250)], channel="shopify"), "Kim.Jansen@Example.NL", "1012 ab")
    wanted = _record(database, order, OrderStatus.SHIPPED)
    _record(database, _customer(make_order([("MUG", 1, 1250)]), "someone@else.example", "3011 CD"))
    page = f"/dashboard/orders/{wanted}"
    for query in (
        wanted,
        order.external_id,
        "kim.jansen@example.nl",
        "KIM.JANSEN@EXAMPLE.NL",
        " Kim.Jansen@Example.NL ",
        "1012AB",
        "1012 ab",
        "1012 AB",
    ):
        response = _find(browser, query)
        assert response.status_code == 303, query
        assert response.headers["location"] == page, query
    assert "1012 ab" in browser.get(page).text  # the address as sent; only the key is normalised


def test_several_matches_are_listed_and_none_is_said(browser, database):
    first = _record(database, _customer(make_order([("A", 1, 1000)]), "a@x.example", "1012 AB", "Ann Smit"))
    second = _record(database, _customer(make_order([("B", 2, 1500)]), "b@x.example", "1012AB", "Bas Smit"))
    _record(database, _customer(make_order([("C", 1, 1000)]), "c@x.example", "9999 ZZ"))

    listing = _find(browser, "1012ab")
    assert listing.status_code == 200
    rows = listing.text.split('id="results"')[1].split("</table>")[0]
    assert first in rows and second in rows and "Ann Smit" in rows and "Bas Smit" in rows
    assert "34.95 EUR" in rows and "webshop" in rows
    assert "2 orders match" in listing.text

    nothing = _find(browser, "nobody@x.example")
    assert nothing.status_code == 200 and 'id="no-match"' in nothing.text and 'id="results"' not in nothing.text
    # A partial id is not an order id: exact matches only.
    assert 'id="no-match"' in _find(browser, first[:-1]).text

    for nonsense in ("   ", "x" * 5000):
        refused = _find(browser, nonsense)
        assert refused.status_code == 422 and 'aria-describedby="q-error"' in refused.text
        assert 'id="q-error"' in refused.text


def test_the_search_needs_the_form_token_and_a_role_that_reads_orders(browser, warehouse, database):
    _record(database, make_order([("A", 1, 1000)]))
    assert browser.post("/dashboard/support", data={"form_token": "made-up", "q": "x"}).status_code == 403
    assert warehouse.get("/dashboard/support").status_code == 403
    assert warehouse.post("/dashboard/support", data={"form_token": "form-token-of-test", "q": "x"}).status_code == 403


def test_keys_of_orders_recorded_before_the_lookup_are_filled_from_what_was_stored(database, tmp_path):
    """Migration 0014 gives existing rows their keys from the e-mail column and the stored address.
    SQLite: a new file migrated up to the revision before (a downgrade rebuilds `orders`, which
    its foreign keys refuse while rows point at it); PostgreSQL: the test database taken back."""
    url = database.url if database.kind == "postgresql" else f"sqlite:///{tmp_path / 'before.db'}"
    config = alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision("0014").down_revision
    assert isinstance(before, str)
    engine = create_db_engine(url)
    try:
        if database.kind == "postgresql":
            command.downgrade(config, before)
        else:
            command.upgrade(config, before)
        old_orders = sa.table(
            "orders",
            *(sa.column(name) for name in ("order_id", "channel", "external_id", "reference", "status", "currency")),
            *(sa.column(name) for name in ("total_minor", "shipping_minor", "discount_minor", "payment_collected")),
            sa.column("shipping_address", sa.JSON()),
            *(sa.column(name) for name in ("customer_email", "placed_at", "received_at", "updated_at")),
        )
        now = datetime.now(UTC)
        row = {"channel": "webshop", "reference": "", "status": "SHIPPED", "currency": "EUR", "total_minor": 1000}
        row |= {"shipping_minor": 0, "discount_minor": 0, "payment_collected": True}
        row |= {"placed_at": now, "received_at": now, "updated_at": now}
        with engine.begin() as connection:
            connection.execute(
                sa.insert(old_orders),
                [
                    row
                    | {"order_id": "order-webshop-old1", "external_id": "old1"}
                    | {"customer_email": "Old.Customer@Example.NL", "shipping_address": {"postcode": " 1012 ab "}},
                    row
                    | {"order_id": "order-webshop-old2", "external_id": "old2"}
                    | {"customer_email": "", "shipping_address": {}},
                ],
            )
        command.upgrade(config, "0014")
        with engine.connect() as connection:
            keys = connection.execute(
                sa.text("SELECT order_id, email_key, postcode_key, charges_minor FROM orders ORDER BY order_id")
            ).all()
        assert [tuple(key) for key in keys] == [
            ("order-webshop-old1", "old.customer@example.nl", "1012AB", None),
            ("order-webshop-old2", "", "", None),
        ]
    finally:
        command.upgrade(config, "head")
        engine.dispose()


# -- the order page --------------------------------------------------------------------------------


def test_the_order_page_shows_who_did_what_and_the_link_to_copy(support, database):
    order_id = _record(database, make_order([("MUG", 3, 1000)]), OrderStatus.SHIPPED)
    _shipped(database, order_id, {"MUG": 3}, returned={"MUG": 1})
    page = support.get(f"/dashboard/orders/{order_id}").text
    assert "pick: piet@shop.example" in page  # who confirmed the shipment's step
    returns = page.split('id="returns"')[1].split("</table>")[0]
    assert "REFUNDED" in returns and "3.21 EUR" in returns and "kim@shop.example" in returns
    link = re.search(r'<code id="tracking-link"[^>]*>([^<]+)</code>', page)
    assert link is not None and link.group(1).startswith("http://testserver/track/")
    assert 'id="copy-tracking"' in page and "navigator.clipboard.writeText" in page
    assert 'id="new-return"' in page


def test_the_buttons_are_drawn_only_for_those_who_may_press_them(support, viewer, warehouse, database):
    held = _record(database, make_order([("GHOST-1", 1, 1000)]), OrderStatus.ON_HOLD, "unknown SKU GHOST-1")
    shipped = _record(database, make_order([("MUG", 1, 1000)]), OrderStatus.SHIPPED)
    _shipped(database, shipped, {"MUG": 1})

    for_support = support.get(f"/dashboard/orders/{held}").text
    assert 'id="release"' in for_support and 'id="cancel"' in for_support
    assert re.search(r'<label for="cancel-reason">', for_support)
    assert 'id="new-return"' in support.get(f"/dashboard/orders/{shipped}").text
    assert 'id="new-return"' not in for_support  # nothing reached the customer

    for_viewer = viewer.get(f"/dashboard/orders/{held}").text
    assert "unknown SKU GHOST-1" in for_viewer
    assert 'id="release"' not in for_viewer and 'id="cancel"' not in for_viewer
    assert 'id="new-return"' not in viewer.get(f"/dashboard/orders/{shipped}").text
    assert "/namespaces/" not in for_viewer  # the Temporal UI is for operations
    # ... and pressing them anyway is refused.
    token = {"form_token": "form-token-of-test"}
    assert viewer.post(f"/dashboard/orders/{held}/cancel", data={**token, "reason": "x"}).status_code == 403
    assert viewer.post(f"/dashboard/orders/{held}/release", data=token).status_code == 403
    assert viewer.get(f"/dashboard/orders/{shipped}/return").status_code == 403
    assert viewer.post(f"/dashboard/orders/{shipped}/return", data=token).status_code == 403

    assert warehouse.get(f"/dashboard/orders/{held}").status_code == 403
    assert warehouse.post(f"/dashboard/orders/{held}/cancel", data={**token, "reason": "x"}).status_code == 403
    assert warehouse.get(f"/dashboard/orders/{shipped}/return").status_code == 403
    with database.session() as session:
        assert order_store.get_order(session, held).status == "ON_HOLD"


def test_a_cancel_needs_a_reason_said_next_to_the_field(support, database):
    held = _record(database, make_order([("GHOST-2", 1, 1000)]), OrderStatus.ON_HOLD, "unknown SKU GHOST-2")
    response = support.post(
        f"/dashboard/orders/{held}/cancel", data={"form_token": "form-token-of-test", "reason": " "}
    )
    assert response.status_code == 422
    assert 'id="cancel-reason-error"' in response.text and 'aria-describedby="cancel-reason-error"' in response.text
    with database.session() as session:
        assert order_store.get_order(session, held).status == "ON_HOLD"


# -- the return form ---------------------------------------------------------------------------


def _priced_order() -> Order:
    """Amounts that do not divide evenly: 3 mugs for 10.00, a tee for 20.00, 4.95 shipping, a 0.50
    tip and 1.00 off the order; the customer paid 34.45, of which 29.00 for the goods."""
    lines = (
        OrderLine("MUG", 3, Money(333, "EUR"), Money(1000, "EUR"), title="Mug"),
        OrderLine("TEE", 1, Money(2000, "EUR"), Money(2000, "EUR"), title="Tee"),
    )
    return Order(
        channel="webshop",
        external_id=str(next_id()),
        currency="EUR",
        lines=lines,
        placed_at=datetime.now(UTC),
        total=Money(3445, "EUR"),
        shipping=Money(495, "EUR"),
        discount=Money(100, "EUR"),
        charges=Money(50, "EUR"),
        shipping_address=Address(name="Kim Jansen", postcode="1012 AB"),
        customer_email="kim@example.nl",
    )


def _post_return(client: TestClient, order_id: str, quantities: dict[str, str], **fields: str):
    data: dict[str, object] = {
        "form_token": "form-token-of-test",
        "sku": list(quantities),
        "quantity": list(quantities.values()),
        "reason": "damaged",
        "restock": "no",
        "action": "preview",
        **fields,
    }
    return client.post(f"/dashboard/orders/{order_id}/return", data=data)


def test_the_refund_preview_is_the_domain_rule_to_the_cent(support, database):
    order = _priced_order()
    order_id = _record(database, order, OrderStatus.SHIPPED)
    _shipped(database, order_id, {"MUG": 3, "TEE": 1}, returned={"MUG": 1})

    form = support.get(f"/dashboard/orders/{order_id}/return")
    assert form.status_code == 200
    lines = form.text.split('id="return-lines"')[1].split("</table>")[0]
    assert re.search(
        r'<td>MUG</td><td>Mug</td>\s*<td class="num">3</td><td class="num">3</td><td class="num">1</td>', lines
    )
    assert 'max="2"' in lines and 'max="1"' in lines and '<label for="qty-1">' in lines
    assert "damaged" in form.text and "changed mind" in form.text  # the domain's reasons

    preview = _post_return(support, order_id, {"MUG": "1", "TEE": "0"})
    assert preview.status_code == 200
    # The second mug: paid_for(2 mugs) - paid_for(1 mug) = 2900*666//3000 - 2900*333//3000 = 643 - 321.
    assert refund_for(order, {"MUG": 1}, {"MUG": 1}) == Money(322, "EUR")
    assert re.search(r'<output class="refund" id="refund">3.22 EUR</output>', preview.text)
    assert 'value="no" checked' in preview.text and 'value="1"' in preview.text  # what was typed, kept

    everything = _post_return(support, order_id, {"MUG": "2", "TEE": "1"})
    assert refund_for(order, {"MUG": 1}, {"MUG": 2, "TEE": 1}) == Money(2900 - 321, "EUR")
    assert '<output class="refund" id="refund">25.79 EUR</output>' in everything.text


def test_an_order_recorded_before_its_charges_were_kept_previews_the_same_refund(support, database):
    order = _priced_order()
    order_id = _record(database, order, OrderStatus.SHIPPED)
    _shipped(database, order_id, {"MUG": 3, "TEE": 1})
    with database.session() as session:
        session.execute(text("UPDATE orders SET charges_minor = NULL WHERE order_id = :id"), {"id": order_id})
        session.commit()
    preview = _post_return(support, order_id, {"MUG": "0", "TEE": "1"})
    assert f'id="refund">{refund_for(order, {}, {"TEE": 1}).format()}</output>' in preview.text


@pytest.mark.parametrize(
    ("quantities", "field", "words"),
    [
        ({"MUG": "0", "TEE": "0"}, "form-error", "choose at least one unit"),
        ({"MUG": "", "TEE": ""}, "form-error", "choose at least one unit"),
        ({"MUG": "3", "TEE": "0"}, "qty-1-error", "only 2 of MUG can come back"),
        ({"MUG": "0", "TEE": "2"}, "qty-2-error", "only 1 of TEE"),
        ({"MUG": "two", "TEE": "0"}, "qty-1-error", "a whole number"),
        ({"MUG": "-1", "TEE": "0"}, "qty-1-error", "a whole number"),
        ({"MUG": "9" * 5000, "TEE": "0"}, "qty-1-error", "a whole number"),
        ({"MUG": "0", "GHOST": "1"}, "form-error", "GHOST is not on this order"),
    ],
)
def test_what_cannot_come_back_is_said_next_to_the_field(support, database, quantities, field, words):
    order_id = _record(database, _priced_order(), OrderStatus.SHIPPED)
    _shipped(database, order_id, {"MUG": 3, "TEE": 1}, returned={"MUG": 1})
    for action in ("preview", "create"):
        response = _post_return(support, order_id, quantities, action=action)
        assert response.status_code == 422
        assert f'id="{field}"' in response.text and words in response.text
        if field != "form-error":
            assert f'aria-describedby="{field}"' in response.text
    with database.session() as session:
        assert session.query(ReturnRecord).filter_by(order_id=order_id).count() == 1  # only the earlier one


def test_a_reason_outside_the_list_is_refused(support, database):
    order_id = _record(database, _priced_order(), OrderStatus.SHIPPED)
    _shipped(database, order_id, {"MUG": 3, "TEE": 1})
    response = _post_return(support, order_id, {"MUG": "1", "TEE": "0"}, reason="because")
    assert response.status_code == 422 and 'id="reason-error"' in response.text


def test_an_order_not_shipped_yet_cannot_be_returned(support, database):
    order_id = _record(database, _priced_order(), OrderStatus.RESERVED)
    form = support.get(f"/dashboard/orders/{order_id}/return")
    assert form.status_code == 200 and "nothing of this order has reached the customer" in form.text
    assert re.search(r'id="create"\s+disabled', form.text)
    response = _post_return(support, order_id, {"MUG": "1", "TEE": "0"}, action="create")
    assert response.status_code == 422 and "nothing of this order has reached the customer" in response.text
    assert support.get("/dashboard/orders/order-webshop-nope/return").status_code == 404


def test_a_return_the_engine_cannot_take_now_keeps_the_form_with_why(support, database):
    """No workflow engine in this tier: the form comes back as typed with a 503, never a 500."""
    order_id = _record(database, _priced_order(), OrderStatus.SHIPPED)
    _shipped(database, order_id, {"MUG": 3, "TEE": 1})
    response = _post_return(support, order_id, {"MUG": "1", "TEE": "0"}, action="create")
    assert response.status_code == 503
    assert 'id="form-error"' in response.text and 'value="1"' in response.text


def test_what_the_form_offers_follows_how_the_goods_reached_the_customer(support, database):
    """A counter sale left with the customer as sold; an order the channel shipped is the channel's to
    take back; one whose every unit came back has nothing left."""
    counter = replace(_priced_order(), fulfilled_by="counter", pickup_location_id="UTR", payment_collected=True)
    counter_id = _record(database, counter, OrderStatus.SHIPPED)
    form = support.get(f"/dashboard/orders/{counter_id}/return").text
    assert 'max="3"' in form and 'max="1"' in form and 'id="form-error"' not in form
    assert 'id="new-return"' in support.get(f"/dashboard/orders/{counter_id}").text

    by_channel = _record(database, replace(_priced_order(), fulfilled_by="channel"), OrderStatus.SHIPPED)
    _shipped(database, by_channel, {"MUG": 3, "TEE": 1})
    assert "returns go through the channel" in support.get(f"/dashboard/orders/{by_channel}/return").text
    assert 'id="new-return"' not in support.get(f"/dashboard/orders/{by_channel}").text
    refused = _post_return(support, by_channel, {"MUG": "1", "TEE": "0"}, action="create")
    assert refused.status_code == 422 and "returns go through the channel" in refused.text

    all_back = _record(database, _priced_order(), OrderStatus.SHIPPED)
    _shipped(database, all_back, {"MUG": 3, "TEE": 1}, returned={"MUG": 3, "TEE": 1})
    form = support.get(f"/dashboard/orders/{all_back}/return").text
    assert "has come back already" in form and re.search(r'id="create"\s+disabled', form)


# -- goodwill and store credit -------------------------------------------------------------------


def test_the_order_page_shows_the_customers_credit_and_offers_goodwill_once_shipped(support, viewer, database):
    order = _customer(make_order([("MUG", 1, 1250)]), "kim@example.nl", "1012 AB")
    shipped = _record(database, order, OrderStatus.SHIPPED)
    waiting = _record(database, _customer(make_order([("MUG", 1, 1250)]), "kim@example.nl", "1012 AB"))
    gift = IssueCreditInput(
        "test:gift", Money(750, "EUR"), CreditReason.GOODWILL, datetime.now(UTC), email="Kim@Example.nl", shop="default"
    )
    CreditAccounts(units_on(database.session_factory), None).issue(gift)
    page = support.get(f"/dashboard/orders/{shipped}").text
    assert 'id="goodwill-form"' in page
    assert re.search(r'id="store-credit">Store credit at shop <strong>default</strong>: <strong>7.50 EUR', page)
    assert 'id="goodwill-form"' not in support.get(f"/dashboard/orders/{waiting}").text  # not shipped yet
    assert 'id="goodwill-form"' not in viewer.get(f"/dashboard/orders/{shipped}").text  # may not give it
    token = form_token(page)
    refused = support.post(
        f"/dashboard/orders/{shipped}/goodwill",
        data={"form_token": token, "amount": "five", "form": "refund", "reason": "late"},
    )
    assert refused.status_code == 303
    flash = support.get(refused.headers["location"]).text
    assert "type an amount in EUR" in flash


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"resolution": "exchange"}, "replacement-error", "an exchange needs what to send instead"),
        ({"resolution": "exchange", "replacement": "TEE two"}, "replacement-error", "a whole number of units"),
        ({"resolution": "exchange", "replacement": "CAP 1 six"}, "replacement-error", "a unit price in EUR"),
        ({"resolution": "voucher"}, "resolution-error", "choose refund, store credit or exchange"),
    ],
)
def test_how_a_return_is_settled_is_checked_next_to_its_field(support, database, fields, field, words):
    order_id = _record(database, _priced_order(), OrderStatus.SHIPPED)
    _shipped(database, order_id, {"MUG": 3, "TEE": 1})
    form = support.get(f"/dashboard/orders/{order_id}/return")
    assert 'name="resolution" value="store_credit"' in form.text and 'id="replacement"' in form.text
    response = _post_return(support, order_id, {"MUG": "1", "TEE": "0"}, action="create", **fields)
    assert response.status_code == 422 and f'id="{field}"' in response.text and words in response.text
    with database.session() as session:
        assert session.query(ReturnRecord).filter_by(order_id=order_id).count() == 0
