"""An exchange whose replacement costs more (the difference held on the order's card) and does not
all leave, on the real dev server and both databases, with staff confirming every step and the
sandbox gateway: nothing found to pick and nothing to source it from releases the hold and gives
back exactly what the returned units were worth; a short pick whose rest cannot be sourced takes
the difference (something left) and gives back the undelivered unit at its replacement price; a
replacement shipment withdrawn before it left is sourced again and ships, the difference taken
once. Every time the order's payments add up: captured less refunded is what the customer keeps
paying for, to the cent."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.testclient import TestClient
from temporalio.client import Client

from contracts.order_workflow import CancelRequest
from contracts.returns import ReturnAccepted
from persistence.models import PaymentRecord
from tests.conftest import TestDatabase
from tests.factories import add_location, stock
from tests.workflow.conftest import (
    api_client,
    event_kinds,
    return_record,
    running_engine,
    stock_of,
    until,
)
from tests.workflow.histories import record_history
from tests.workflow.test_exchange_differences import _events, _payments
from tests.workflow.test_exchange_resourcing import (
    STAFF,
    TOKEN,
    _by_hand,
    _exchanged,
    _progress,
    _shipment,
    _shipped_order,
)
from workflows.shipment import ShipmentWorkflow

MUG = 1250
"""A mug's price today, quoted by support for the replacement (the tees cost 10.00)."""


def _mugs(n: int) -> dict[str, Any]:
    return {"sku": "MUG", "quantity": n, "unit_price": {"amount_minor": MUG, "currency": "EUR"}}


def _kept(payments: dict[str, PaymentRecord]) -> int:
    """What the customer pays for in the end: everything captured less everything given back."""
    return sum(p.captured_minor for p in payments.values()) - sum(p.refunded_minor for p in payments.values())


def _held(database: TestDatabase, order_id: str, payment_id: str) -> bool:
    payment = _payments(database, order_id).get(payment_id)
    return payment is not None and payment.status == "AUTHORIZED"


async def _seen(api: TestClient, return_id: str) -> Any:
    answer = await asyncio.to_thread(api.get, f"/returns/{return_id}", headers=STAFF)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _done(client: Client, return_id: str) -> ReturnAccepted:
    handle = client.get_workflow_handle(return_id, result_type=ReturnAccepted)
    return await asyncio.wait_for(handle.result(), timeout=90)


def _stocked(database: TestDatabase, mugs: int) -> None:
    """AMS only (nowhere else to source from): two tees for the order, `mugs` for the replacement."""
    add_location(database.session_factory, "AMS", latitude=52.37, longitude=4.90)
    stock(database.session_factory, "AMS", {"TEE": 2, "MUG": mugs})


async def test_a_dearer_replacement_found_nowhere_releases_the_difference_and_refunds_what_came(
    temporal_client, database
):
    async with running_engine(temporal_client, database, auto_confirm=False) as engine:
        _stocked(database, mugs=1)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api, [("TEE", 2, 1000)])  # 24.95 with shipping
            own, extra = f"payment-{order_id}", f"payment-{order_id}-x1"
            return_id = await _exchanged(api, order_id, {"TEE": 1}, [_mugs(1)])  # 12.50 for 10.00: 2.50 more

            replacement = f"shipment-{order_id}-AMS-x1"
            assert (await _progress(engine.client, replacement)).lines == {"MUG": 1}
            await until(lambda: _held(database, order_id, extra), "the difference held on the card")
            await _by_hand(engine.client, replacement, "AMS", picked={"MUG": 0})  # the mug was not there
            done = await _done(engine.client, return_id)
            seen = await _seen(api, return_id)
            if database.kind == "sqlite":
                handle = engine.client.get_workflow_handle(return_id)
                await record_history(handle, "return_exchange_difference_released")

        # The 2.50 was never taken; the tee's 10.00 went back, not the mug's 12.50.
        assert (done.status, done.refund.amount_minor) == ("REFUNDED", 1000)
        record = return_record(engine, return_id)
        assert (record.state, record.status, record.refund_minor) == ("RESOLVED", "REFUNDED", 1000)
        payments = _payments(database, order_id)
        assert set(payments) == {own, extra}
        held = payments[extra]
        assert (held.authorized_minor, held.captured_minor, held.refunded_minor, held.status) == (250, 0, 0, "VOIDED")
        assert (payments[own].captured_minor, payments[own].refunded_minor) == (2495, 1000)
        assert _kept(payments) == 1000 + 495  # the tee kept and the shipping
        assert seen["difference"] == {
            "amount": {"amount_minor": 250, "currency": "EUR"},
            "status": "VOIDED",
            "payment_id": extra,
            "link": None,
            "link_expires_at": None,
        }, seen
        assert [(s["shipment_id"], s["lines"]) for s in seen["replacement_shipments"]] == [(replacement, {})]
        assert stock_of(engine, "AMS", "MUG") == (0, 0)  # written off short, nothing held
        kinds = event_kinds(engine, order_id)
        assert kinds.count("exchange_not_shipped") == 1 and kinds.count("exchange_difference_released") == 1, kinds
        assert "exchange_shipped" not in kinds and "exchange_resourced" not in kinds, kinds
        instead = _events(database, order_id, "exchange_refunded_instead")
        assert len(instead) == 1 and "10.00 EUR refunded instead" in instead[0], instead
        assert not any(extra in detail for detail in _events(database, order_id, "payment_captured"))


async def test_a_dearer_replacement_picked_short_takes_the_difference_and_refunds_the_unit_that_did_not_leave(
    temporal_client, database
):
    async with running_engine(temporal_client, database, auto_confirm=False) as engine:
        _stocked(database, mugs=2)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api, [("TEE", 2, 1000)])  # 24.95 with shipping
            own, extra = f"payment-{order_id}", f"payment-{order_id}-x1"
            return_id = await _exchanged(api, order_id, {"TEE": 2}, [_mugs(2)])  # 25.00 for 20.00: 5.00 more

            replacement = f"shipment-{order_id}-AMS-x1"
            assert (await _progress(engine.client, replacement)).lines == {"MUG": 2}
            await until(lambda: _held(database, order_id, extra), "the difference held on the card")
            await _by_hand(engine.client, replacement, "AMS", picked={"MUG": 1})  # one mug of two found
            done = await _done(engine.client, return_id)
            seen = await _seen(api, return_id)
            if database.kind == "sqlite":
                handle = engine.client.get_workflow_handle(return_id)
                await record_history(handle, "return_exchange_difference_taken_first")

        # One mug left: the 5.00 is taken, the mug that did not leave goes back at 12.50.
        assert (done.status, done.refund.amount_minor) == ("REFUNDED", MUG)
        record = return_record(engine, return_id)
        assert (record.state, record.status, record.refund_minor) == ("RESOLVED", "REFUNDED", MUG)
        payments = _payments(database, order_id)
        assert set(payments) == {own, extra}
        taken = payments[extra]
        assert (taken.authorized_minor, taken.captured_minor, taken.status) == (500, 500, "CAPTURED")
        assert payments[own].captured_minor == 2495
        # The difference is taken before the mug goes back, so the refund draws on the newest payment first.
        assert (payments[extra].refunded_minor, payments[own].refunded_minor) == (500, MUG - 500)
        assert _kept(payments) == MUG + 495  # the mug that came and the shipping
        assert seen["difference"]["status"] == "CAPTURED" and seen["difference"]["payment_id"] == extra, seen
        assert [(s["shipment_id"], s["status"], s["lines"]) for s in seen["replacement_shipments"]] == [
            (replacement, "SHIPPED", {"MUG": 1})
        ]
        assert stock_of(engine, "AMS", "MUG") == (0, 0)  # one shipped, one written off short
        kinds = event_kinds(engine, order_id)
        assert kinds.count("exchange_shipped") == 1 and "exchange_resourced" not in kinds, kinds
        assert "exchange_difference_released" not in kinds, kinds
        instead = _events(database, order_id, "exchange_refunded_instead")
        assert len(instead) == 1 and "12.50 EUR refunded instead" in instead[0], instead
        assert _events(database, order_id, "payment_captured")[-1] == f"5.00 EUR ({extra})"


async def test_a_short_replacement_dearer_than_the_order_gives_back_through_the_difference_payment(
    temporal_client, database
):
    """One tee (10.00) for three mugs (37.50): 27.50 held on the card, more than the order's own
    24.95. One mug found: the two that did not leave (25.00) go back in full, which the order's
    payment alone could not give."""
    async with running_engine(temporal_client, database, auto_confirm=False) as engine:
        _stocked(database, mugs=3)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api, [("TEE", 2, 1000)])
            own, extra = f"payment-{order_id}", f"payment-{order_id}-x1"
            return_id = await _exchanged(api, order_id, {"TEE": 1}, [_mugs(3)])
            replacement = f"shipment-{order_id}-AMS-x1"
            assert (await _progress(engine.client, replacement)).lines == {"MUG": 3}
            await until(lambda: _held(database, order_id, extra), "the difference held on the card")
            await _by_hand(engine.client, replacement, "AMS", picked={"MUG": 1})
            done = await _done(engine.client, return_id)

        assert (done.status, done.refund.amount_minor) == ("REFUNDED", 2 * MUG)
        payments = _payments(database, order_id)
        assert (payments[extra].captured_minor, payments[extra].refunded_minor) == (2750, 2 * MUG)
        assert (payments[own].captured_minor, payments[own].refunded_minor) == (2495, 0)
        assert _kept(payments) == 1000 + 495 + MUG  # the tee kept, the shipping, the mug that came
        assert return_record(engine, return_id).refund_minor == 2 * MUG


async def test_a_withdrawn_replacement_shipment_is_sourced_again_and_ships(temporal_client, database):
    async with running_engine(temporal_client, database, auto_confirm=False) as engine:
        _stocked(database, mugs=1)
        with api_client(engine, TOKEN) as api:
            order_id = await _shipped_order(engine, api, [("TEE", 2, 1000)])
            own, extra = f"payment-{order_id}", f"payment-{order_id}-x1"
            return_id = await _exchanged(api, order_id, {"TEE": 1}, [_mugs(1)])

            first = f"shipment-{order_id}-AMS-x1"
            assert (await _progress(engine.client, first)).lines == {"MUG": 1}
            # Withdrawn before the pick (as the order withdraws its shipments): its mug is released...
            withdraw = CancelRequest(reason="wrong label printed", requested_by="support")
            await engine.client.get_workflow_handle(first).signal(ShipmentWorkflow.withdraw, withdraw)
            again = f"shipment-{order_id}-AMS-x1-2"  # ... and reserved again at the same location
            assert (await _progress(engine.client, again)).lines == {"MUG": 1}
            await _by_hand(engine.client, again, "AMS")
            done = await _done(engine.client, return_id)
            seen = await _seen(api, return_id)
            login = {"token": TOKEN, "next": "/dashboard"}
            await asyncio.to_thread(api.post, "/dashboard/login", data=login, follow_redirects=False)
            page = await asyncio.to_thread(api.get, f"/dashboard/returns/{return_id}")

        assert (done.status, done.refund.amount_minor) == ("RESOLVED", 0)
        assert _shipment(engine, first) == ("WITHDRAWN", {"MUG": 1})
        assert _shipment(engine, again) == ("SHIPPED", {"MUG": 1})
        assert [(s["shipment_id"], s["status"]) for s in seen["replacement_shipments"]] == [
            (first, "WITHDRAWN"),
            (again, "SHIPPED"),
        ], seen
        assert seen["replacement_shipment_id"] == again
        payments = _payments(database, order_id)
        assert (payments[extra].captured_minor, payments[extra].status) == (250, "CAPTURED")
        assert [detail for detail in _events(database, order_id, "payment_captured") if extra in detail] == [
            f"2.50 EUR ({extra})"
        ]
        assert _kept(payments) == 2495 + 250 and payments[own].refunded_minor == 0
        assert stock_of(engine, "AMS", "MUG") == (0, 0)  # released by the withdrawal, shipped from the same shelf
        kinds = event_kinds(engine, order_id)
        assert kinds.count("exchange_not_shipped") == 1 and kinds.count("exchange_resourced") == 1, kinds
        assert kinds.count("exchange_shipped") == 1 and "exchange_refunded_instead" not in kinds, kinds
        assert page.status_code == 200, page.text[:500]
        shown = page.text.split('id="replacement-shipments"', 1)[-1]
        assert first in shown and again in shown and "WITHDRAWN" in shown, page.text[:2000]
