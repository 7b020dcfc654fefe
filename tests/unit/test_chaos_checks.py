"""The chaos run's checks can fail: each breach of a promise, put into otherwise sound facts, is
reported as FAIL naming the order (and a sound world passes every check)."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.chaos_checks import Check, DatabaseFacts, Intent, Payment, Shipment, run_checks
from bench.chaos_orders import Intake, PlannedOrder

SPLIT, WAITING, SHOPIFY = "order-webshop-split", "order-webshop-waiting", "order-shopify-1"


def _order(order_id: str, channel: str, lines: tuple[tuple[str, int, int], ...], total: int) -> PlannedOrder:
    return PlannedOrder(order_id, channel, "multi", lines, total, "/orders", b"{}", {})


ORDERS = [
    _order(SPLIT, "webshop", (("TEE", 2, 1000), ("MUG", 1, 500)), 2995),
    _order(WAITING, "webshop", (("TEE", 1, 1000),), 1495),
    _order(SHOPIFY, "shopify", (("MUG", 1, 2495),), 2990),
]
RECEIVED = {("AMS", "TEE"): 2, ("UTR", "MUG"): 2}


def _world() -> tuple[Intake, DatabaseFacts, list[Intent]]:
    """SPLIT shipped in two parcels and was captured exactly; WAITING is backordered with its card
    authorized; the Shopify order (paid there) shipped the last MUG but one."""
    intake = Intake(accepted={o.order_id for o in ORDERS})
    intake.fresh.update(o.order_id for o in ORDERS)
    intake.duplicates[SHOPIFY] = 1
    db = DatabaseFacts(
        orders={
            SPLIT: ("split", "SHIPPED", 2995, None),
            WAITING: ("waiting", "BACKORDERED", 1495, "waiting for TEE x1"),
            SHOPIFY: ("1", "SHIPPED", 2990, None),
        },
        lines={SPLIT: Counter(TEE=2, MUG=1), WAITING: Counter(TEE=1), SHOPIFY: Counter(MUG=1)},
        shipments=[
            Shipment("s1", SPLIT, "AMS", "SHIPPED", {"TEE": 2}, "T1"),
            Shipment("s2", SPLIT, "UTR", "SHIPPED", {"MUG": 1}, "T2"),
            Shipment("s3", SHOPIFY, "UTR", "SHIPPED", {"MUG": 1}, "T3"),
        ],
        payments={
            SPLIT: [Payment("pi_split", "CAPTURED", 2995, 2995, 0)],
            WAITING: [Payment("pi_waiting", "AUTHORIZED", 1495, 0, 0)],
        },
        levels={("AMS", "TEE"): (0, 0, 0), ("UTR", "MUG"): (0, 0, 0)},
        ledger={("AMS", "TEE"): (0, 0), ("UTR", "MUG"): (0, 0)},
        ledger_rows=8,
        shipped_moves={SPLIT: Counter({("AMS", "TEE"): 2, ("UTR", "MUG"): 1}), SHOPIFY: Counter({("UTR", "MUG"): 1})},
        shipped_events=Counter({SPLIT: 2, SHOPIFY: 1}),
    )
    intents = [
        Intent("pi_split", SPLIT, "succeeded", 2995, 2995),
        Intent("pi_waiting", WAITING, "requires_capture", 1495, 0),
    ]
    return intake, db, intents


def _failed(intake: Intake, db: DatabaseFacts, intents: list[Intent]) -> dict[str, Check]:
    return {check.name: check for check in run_checks(ORDERS, RECEIVED, intake, db, intents) if not check.ok}


def test_a_sound_world_passes_every_check() -> None:
    assert _failed(*_world()) == {}


def test_a_parcel_that_left_twice_is_reported() -> None:
    intake, db, intents = _world()
    db.shipped_moves[SPLIT][("AMS", "TEE")] += 2  # the ship step's stock move ran again
    failed = _failed(intake, db, intents)
    assert set(failed) == {"no parcel shipped twice", "shipped units == stock that existed"}
    assert SPLIT in failed["no parcel shipped twice"].problems[0]


@pytest.mark.parametrize("captured", [2994, 2996])
def test_a_capture_a_cent_off_is_reported_by_our_record_and_by_the_gateway(captured: int) -> None:
    intake, db, intents = _world()
    db.payments[SPLIT][0].captured = captured
    intents[0].captured = captured
    failed = _failed(intake, db, intents)
    assert set(failed) == {"captured == total (database)", "captured once and exactly (gateway)"}
    assert all(f"captured {captured}" in check.problems[0] for check in failed.values())


def test_a_second_authorization_at_the_gateway_is_reported() -> None:
    intake, db, intents = _world()
    intents.append(Intent("pi_again", WAITING, "requires_capture", 1495, 0))
    failed = _failed(intake, db, intents)
    assert list(failed) == ["captured once and exactly (gateway)"]
    assert "2 PaymentIntents" in failed["captured once and exactly (gateway)"].problems[0]


def test_an_accepted_order_that_was_not_recorded_is_reported() -> None:
    intake, db, intents = _world()
    intake.accepted.add("order-webshop-lost")
    failed = _failed(intake, db, intents)
    assert failed["every order exists once"].problems == ["order-webshop-lost: accepted but not recorded"]


def test_an_order_answered_new_twice_or_a_redelivery_not_recognised_is_reported() -> None:
    intake, db, intents = _world()
    intake.fresh[WAITING] += 1
    intake.duplicates[SHOPIFY] = 0
    problems = _failed(intake, db, intents)["every order taken"].problems
    assert problems == [
        f"{WAITING}: answered as a new order 2 times",
        f"{SHOPIFY}: the Shopify re-delivery was not recognised as a duplicate",
    ]


def test_a_backorder_waiting_beside_free_stock_is_reported() -> None:
    intake, db, intents = _world()
    db.levels[("AMS", "TEE")] = (1, 0, 0)  # one TEE on the shelf, and WAITING wants one
    db.ledger[("AMS", "TEE")] = (1, 0)
    failed = _failed(intake, db, intents)
    assert "the rest BACKORDERED for want of stock" in failed
    assert WAITING in failed["the rest BACKORDERED for want of stock"].problems[0]


def test_a_stock_table_the_ledger_does_not_explain_is_reported() -> None:
    intake, db, intents = _world()
    db.levels[("UTR", "MUG")] = (0, 1, 0)  # a reservation no open shipment holds, missing from the ledger
    failed = _failed(intake, db, intents)
    assert len(failed["stock table == ledger"].problems) == 2


def test_an_order_stuck_half_way_is_reported() -> None:
    intake, db, intents = _world()
    db.orders[WAITING] = ("waiting", "RESERVED", 1495, None)
    failed = _failed(intake, db, intents)
    assert failed["every order settled"].problems == [f"{WAITING} [multi]: RESERVED, expected SHIPPED or BACKORDERED"]


def _cancelled_by_staff(answers: list[str]) -> tuple[Intake, DatabaseFacts, list[Intent]]:
    """WAITING was cancelled by staff while it waited for stock: its authorization voided."""
    intake, db, intents = _world()
    intake.cancels[WAITING] = answers
    db.orders[WAITING] = ("waiting", "CANCELLED", 1495, None)
    db.payments[WAITING] = [Payment("pi_waiting", "VOIDED", 1495, 0, 1495)]
    intents[1] = Intent("pi_waiting", WAITING, "canceled", 1495, 0)
    return intake, db, intents


@pytest.mark.parametrize("answers", [["202"], ["404", "202"], ["ConnectError", "409: already cancelled"]])
def test_a_cancel_that_was_taken_ends_cancelled_with_the_authorization_voided(answers: list[str]) -> None:
    assert _failed(*_cancelled_by_staff(answers)) == {}


def test_a_cancel_refused_as_too_late_must_not_cancel_the_order() -> None:
    failed = _failed(*_cancelled_by_staff(["409: a parcel has left"]))
    assert list(failed) == ["every order settled"]
    assert "expected SHIPPED" in failed["every order settled"].problems[0]


def test_a_cancel_that_was_taken_must_stop_the_order() -> None:
    intake, db, intents = _world()
    intake.cancels[SPLIT] = ["202"]  # taken, and yet the order shipped and was charged
    failed = _failed(intake, db, intents)
    assert list(failed) == ["every order settled"]
    assert "expected CANCELLED" in failed["every order settled"].problems[0]


def test_a_cancelled_order_whose_authorization_was_not_voided_is_reported() -> None:
    intake, db, intents = _cancelled_by_staff(["202"])
    db.payments[WAITING][0].voided = 0
    intents[1].status = "requires_capture"
    failed = _failed(intake, db, intents)
    assert set(failed) == {"captured == total (database)", "captured once and exactly (gateway)"}
