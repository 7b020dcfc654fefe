"""What must hold after the chaos run, read from the database and from the payment gateway itself.

The facts are gathered once (`gather_database`, `gather_gateway`), then each check is a plain
function of them, the orders as sent and the stock received: it says ok or FAIL, with figures, and
names the orders that break it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import stripe
from sqlalchemy import select

from bench.chaos_orders import Intake, PlannedOrder
from persistence.db import create_db_engine, create_session_factory
from persistence.guarded_writes import inventory
from persistence.models import (
    OrderEvent,
    OrderLineRecord,
    OrderRecord,
    PaymentRecord,
    ShipmentRecord,
    StockLevel,
    StockMovement,
)

SHOWN_PROBLEMS = 8
OPEN_SHIPMENT = frozenset({"RESERVED", "PICKED", "PACKED", "READY"})
Key = tuple[str, str]
"""(location, sku)"""


@dataclass
class Check:
    name: str
    figures: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"  {'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.figures}"]
        out += [f"          {problem}" for problem in self.problems[:SHOWN_PROBLEMS]]
        if len(self.problems) > SHOWN_PROBLEMS:
            out.append(f"          ... and {len(self.problems) - SHOWN_PROBLEMS} more")
        return out


# -- the facts ----------------------------------------------------------------------------------


@dataclass
class Shipment:
    shipment_id: str
    order_id: str
    location_id: str
    status: str
    lines: dict[str, int]
    tracking_number: str | None


@dataclass
class Payment:
    provider_ref: str
    status: str
    authorized: int
    captured: int
    voided: int


@dataclass
class DatabaseFacts:
    orders: dict[str, tuple[str, str, int, str | None]]
    """order id → (external id, status, total in cents, hold reason)"""
    lines: dict[str, Counter[str]]
    shipments: list[Shipment]
    payments: dict[str, list[Payment]]
    levels: dict[Key, tuple[int, int, int]]
    """(location, sku) → (on hand, reserved, safety stock)"""
    ledger: dict[Key, tuple[int, int]]
    ledger_rows: int
    shipped_moves: dict[str, Counter[Key]]
    """order id → units that left each (location, sku) by the ledger"""
    shipped_events: Counter[str]


@dataclass
class Intent:
    intent_id: str
    order_id: str | None
    status: str
    amount: int
    captured: int


def gather_database(database_url: str) -> DatabaseFacts:
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with create_session_factory(engine)() as session:
            orders = {
                row.order_id: (row.external_id, row.status, row.total_minor, row.hold_reason)
                for row in session.scalars(select(OrderRecord))
            }
            lines: dict[str, Counter[str]] = defaultdict(Counter)
            for line in session.scalars(select(OrderLineRecord)):
                lines[line.order_id][line.sku] += line.quantity
            shipments = [
                Shipment(s.shipment_id, s.order_id, s.location_id, s.status, dict(s.lines), s.tracking_number)
                for s in session.scalars(select(ShipmentRecord))
            ]
            payments: dict[str, list[Payment]] = defaultdict(list)
            # The order's own payments: an exchange's difference (purpose exchange_difference) is
            # money on top of the order's total, not part of it.
            for p in session.scalars(select(PaymentRecord).where(PaymentRecord.purpose == "order")):
                payments[p.order_id].append(
                    Payment(p.provider_ref, p.status, p.authorized_minor, p.captured_minor, p.voided_minor)
                )
            levels = {
                (s.location_id, s.sku): (s.on_hand, s.reserved, s.safety_stock)
                for s in session.scalars(select(StockLevel))
            }
            shipped_moves: dict[str, Counter[Key]] = defaultdict(Counter)
            ledger_rows = 0
            for move in session.scalars(select(StockMovement)):
                ledger_rows += 1
                if move.kind == "shipment" and move.order_id:
                    shipped_moves[move.order_id][(move.location_id, move.sku)] -= move.on_hand_delta
            shipped_events = Counter(
                session.scalars(select(OrderEvent.order_id).where(OrderEvent.kind == "shipped")).all()
            )
            ledger = inventory.ledger_totals(session)
    finally:
        engine.dispose()
    return DatabaseFacts(
        orders, dict(lines), shipments, dict(payments), levels, ledger, ledger_rows, dict(shipped_moves), shipped_events
    )


def gather_gateway(api_base: str, secret_key: str) -> list[Intent]:
    """Every PaymentIntent the gateway holds, with what its charge really captured (localstripe
    releases the uncaptured rest of a partial capture as a refund of the charge)."""
    client = stripe.StripeClient(secret_key, base_addresses={"api": api_base}, max_network_retries=3)
    captured: Counter[str] = Counter()
    for charge in client.v1.charges.list({"limit": 100}).auto_paging_iter():
        if charge.captured and charge.status == "succeeded" and charge.payment_intent:
            intent_id = charge.payment_intent if isinstance(charge.payment_intent, str) else charge.payment_intent.id
            captured[intent_id] += charge.amount - (charge.amount_refunded or 0)
    intents = []
    for intent in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter():
        metadata = intent.metadata.to_dict() if intent.metadata else {}
        intents.append(Intent(intent.id, metadata.get("order_id"), intent.status, intent.amount, captured[intent.id]))
    return intents


# -- the checks ---------------------------------------------------------------------------------


def _list(values: Iterable[str]) -> str:
    return ", ".join(values)


def check_intake(orders: Sequence[PlannedOrder], intake: Intake) -> Check:
    """Every order was taken (a channel redelivers until it gets a 2xx), at most once as new, and a
    Shopify redelivery is recognised as the same order."""
    shopify = [o for o in orders if o.channel == "shopify"]
    retried = _list(f"{reason} x{count}" for reason, count in intake.retried.most_common())
    check = Check(
        "every order taken",
        f"{len(intake.accepted)} of {len(orders)} accepted with a 2xx; "
        f"{sum(intake.retried.values())} deliveries retried ({retried or 'none needed'}); "
        f"{sum(1 for o in shopify if intake.duplicates[o.order_id])} of {len(shopify)} Shopify re-deliveries "
        "answered as duplicates",
    )
    check.problems += [f"refused: {refusal}" for refusal in intake.refused]
    check.problems += [f"given up: {reason}" for reason in intake.gave_up]
    for order in orders:
        if order.order_id not in intake.accepted:
            check.problems.append(f"{order.order_id}: never accepted")
        if intake.fresh[order.order_id] > 1:
            check.problems.append(f"{order.order_id}: answered as a new order {intake.fresh[order.order_id]} times")
        if order.channel == "shopify" and order.order_id in intake.accepted and not intake.duplicates[order.order_id]:
            check.problems.append(f"{order.order_id}: the Shopify re-delivery was not recognised as a duplicate")
    return check


def check_recorded_once(orders: Sequence[PlannedOrder], intake: Intake, db: DatabaseFacts) -> Check:
    """A 2xx means the order is recorded: each accepted order is in the database once, as sent."""
    planned = {o.order_id: o for o in orders}
    check = Check(
        "every order exists once", f"{len(db.orders)} orders in the database for {len(intake.accepted)} accepted"
    )
    check.problems += [
        f"{order_id}: accepted but not recorded" for order_id in sorted(intake.accepted - db.orders.keys())
    ]
    check.problems += [f"{order_id}: recorded but never sent" for order_id in sorted(db.orders.keys() - planned.keys())]
    external = Counter(external_id for external_id, *_ in db.orders.values())
    check.problems += [f"external id {eid} recorded {n} times" for eid, n in external.items() if n > 1]
    for order_id, (_, _, total, _) in sorted(db.orders.items()):
        order = planned.get(order_id)
        if order is None:
            continue
        if Counter(order.demand()) != db.lines.get(order_id, Counter()):
            check.problems.append(f"{order_id}: lines {dict(db.lines.get(order_id, {}))}, sent {order.demand()}")
        if total != order.total_minor:
            check.problems.append(f"{order_id}: total {total}, sent {order.total_minor}")
    if check.ok:
        check.figures += ", each once, lines and totals as sent"
    return check


def expected_statuses(order: PlannedOrder, intake: Intake) -> tuple[str, ...]:
    """Where an order may end. A staff cancel answered 202 was taken: CANCELLED; one answered 409 came
    too late (a parcel was leaving): SHIPPED, unless an earlier attempt lost its answer and may have
    been taken after all."""
    if order.declined:
        return ("CANCELLED",)
    answers = intake.cancels.get(order.order_id)
    if answers is None:
        return ("SHIPPED", "BACKORDERED")
    final = answers[-1] if answers else ""
    lost = any(answer != "404" for answer in answers[:-1])
    if final == "202":
        return ("CANCELLED",)
    if final.startswith("409"):
        return ("SHIPPED", "CANCELLED") if lost else ("SHIPPED",)
    return ("SHIPPED", "BACKORDERED", "CANCELLED")  # never answered: the person gave up


def check_settled(orders: Sequence[PlannedOrder], intake: Intake, db: DatabaseFacts) -> Check:
    """Each order ended where it must: shipped, or backordered for want of stock; a declined card or
    a cancel taken: cancelled. Nothing on hold, nothing half way."""
    statuses = Counter(status for _, status, _, _ in db.orders.values())
    finals = Counter((answers[-1] if answers else "none").split(":")[0] for answers in intake.cancels.values())
    check = Check(
        "every order settled",
        _list(f"{status} {n}" for status, n in statuses.most_common())
        + f"; {len(intake.cancels)} staff cancels answered "
        + (_list(f"{answer} x{n}" for answer, n in finals.most_common()) or "-")
        + f" (after {sum(a.count('404') for a in intake.cancels.values())} x 404 while not yet recorded)",
    )
    for order in orders:
        if order.order_id not in db.orders:
            continue
        _, status, _, hold_reason = db.orders[order.order_id]
        expected = expected_statuses(order, intake)
        if status not in expected:
            why = f" ({hold_reason})" if hold_reason else ""
            cancel = (
                f", staff cancel answered {intake.cancels[order.order_id]}" if order.order_id in intake.cancels else ""
            )
            check.problems.append(
                f"{order.order_id} [{order.kind}]: {status}{why}{cancel}, expected {' or '.join(expected)}"
            )
    return check


def check_stock_conserved(received: Mapping[Key, int], db: DatabaseFacts) -> Check:
    """Every unit received either left in a parcel or is still on the shelf: none invented, none lost."""
    shipped: Counter[Key] = Counter()
    for moves in db.shipped_moves.values():
        shipped.update(moves)
    left = sum(on_hand for on_hand, _, _ in db.levels.values())
    check = Check(
        "shipped units == stock that existed",
        f"{sum(shipped.values())} units shipped + {left} left on the shelves = {sum(received.values())} received",
    )
    for key in sorted(set(received) | set(db.levels)):
        on_hand = db.levels.get(key, (0, 0, 0))[0]
        if received.get(key, 0) != shipped[key] + on_hand:
            check.problems.append(
                f"{key[1]} at {key[0]}: {received.get(key, 0)} received, {shipped[key]} shipped, {on_hand} on hand"
            )
    shipped_orders = {oid for oid, (_, status, _, _) in db.orders.items() if status == "SHIPPED"}
    wanted = sum(sum(db.lines.get(order_id, Counter()).values()) for order_id in shipped_orders)
    if wanted != sum(shipped.values()):
        check.problems.append(f"the shipped orders want {wanted} units; {sum(shipped.values())} left the shelves")
    return check


def free_units(levels: Mapping[Key, tuple[int, int, int]]) -> Counter[str]:
    """Units of each SKU no one holds, over every location."""
    free: Counter[str] = Counter()
    for (_, sku), (on_hand, reserved, safety) in levels.items():
        free[sku] += max(0, on_hand - reserved - safety)
    return free


def stranded(levels: Mapping[Key, tuple[int, int, int]], waiting: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Backordered orders (id → what they want) that the free stock could serve whole right now."""
    free = free_units(levels)
    return sorted(
        order_id
        for order_id, demand in waiting.items()
        if demand and all(free[sku] >= units for sku, units in demand.items())
    )


def check_no_stranded_stock(db: DatabaseFacts) -> Check:
    """The rest is backordered because the stock ran out: no backordered order waits for units that
    are free on the shelves right now (it would have been woken and served)."""
    free = free_units(db.levels)
    waiting = {
        oid: db.lines.get(oid, Counter()) for oid, (_, status, _, _) in db.orders.items() if status == "BACKORDERED"
    }
    check = Check(
        "the rest BACKORDERED for want of stock",
        f"{len(waiting)} orders backordered; free now: "
        + (_list(f"{sku} {n}" for sku, n in sorted(free.items()) if n) or "nothing"),
    )
    for order_id in stranded(db.levels, waiting):
        check.problems.append(f"{order_id} waits for {dict(waiting[order_id])} while that much is free")
    return check


def check_ledger(db: DatabaseFacts) -> Check:
    """On hand and reserved rebuilt from the ledger equal the stock table, and what is reserved is
    held by shipments that have not left."""
    held: Counter[Key] = Counter()
    for shipment in db.shipments:
        if shipment.status in OPEN_SHIPMENT:
            for sku, units in shipment.lines.items():
                held[(shipment.location_id, sku)] += units
    reserved = sum(r for _, r, _ in db.levels.values())
    check = Check(
        "stock table == ledger",
        f"{len(db.levels)} stock records rebuilt from {db.ledger_rows} ledger rows; "
        f"{reserved} units reserved, {sum(held.values())} held by open shipments",
    )
    for key in sorted(set(db.levels) | set(db.ledger)):
        on_hand, reserved_now, _ = db.levels.get(key, (0, 0, 0))
        if db.ledger.get(key, (0, 0)) != (on_hand, reserved_now):
            check.problems.append(f"{key[1]} at {key[0]}: table {(on_hand, reserved_now)}, ledger {db.ledger.get(key)}")
        if reserved_now != held[key]:
            check.problems.append(f"{key[1]} at {key[0]}: {reserved_now} reserved, open shipments hold {held[key]}")
    return check


def check_money_recorded(orders: Sequence[PlannedOrder], db: DatabaseFacts) -> Check:
    """Our own record: a shipped order captured exactly its total, once; a backordered one holds its
    authorization, nothing captured; a declined or channel-paid one took nothing here."""
    check = Check("captured == total (database)", "")
    captured = held = 0
    for order in orders:
        if order.order_id not in db.orders:
            continue
        status = db.orders[order.order_id][1]
        payments = db.payments.get(order.order_id, [])
        took = sum(p.captured for p in payments)
        captured += took
        where = f"{order.order_id} [{order.kind}, {status}]"
        if order.paid_by_channel or order.declined:
            if took or any(p.authorized for p in payments):
                check.problems.append(f"{where}: {len(payments)} payment(s) here, {took} captured; expected none")
            continue
        if not payments and status == "CANCELLED":
            continue  # cancelled before its card was authorized
        if len(payments) != 1:
            check.problems.append(f"{where}: {len(payments)} payments recorded, expected 1")
            continue
        payment = payments[0]
        if payment.authorized != order.total_minor:
            check.problems.append(f"{where}: authorized {payment.authorized} of a {order.total_minor} total")
        if status == "SHIPPED" and took != order.total_minor:
            check.problems.append(f"{where}: captured {took} of {order.total_minor} ({payment.status})")
        if status == "BACKORDERED":
            held += payment.authorized - payment.captured - payment.voided
            if took or payment.voided:
                check.problems.append(f"{where}: captured {took}, voided {payment.voided} while waiting for stock")
        if status == "CANCELLED" and (took or payment.voided != payment.authorized):
            check.problems.append(f"{where}: captured {took}, voided {payment.voided} of {payment.authorized}")
    shipped = [o for o in orders if o.order_id in db.orders and db.orders[o.order_id][1] == "SHIPPED"]
    due = sum(o.total_minor for o in shipped if not o.paid_by_channel)
    check.figures = (
        f"captured {_euros(captured)} for shipped card orders totalling {_euros(due)};"
        f" {_euros(held)} authorized and held for backorders"
    )
    return check


def check_money_at_gateway(orders: Sequence[PlannedOrder], db: DatabaseFacts, intents: Sequence[Intent]) -> Check:
    """The gateway's own objects: one PaymentIntent per card order, captured exactly the total of a
    shipped order and nothing of any other, the one our record names."""
    by_order: dict[str, list[Intent]] = defaultdict(list)
    for intent in intents:
        by_order[intent.order_id or "(no order)"].append(intent)
    states = Counter(intent.status for intent in intents)
    check = Check(
        "captured once and exactly (gateway)",
        f"{len(intents)} PaymentIntents at localstripe ("
        + _list(f"{state} {n}" for state, n in states.most_common())
        + f"), {_euros(sum(i.captured for i in intents))} captured",
    )
    check.problems += [f"{i.intent_id}: no order in its metadata ({i.status})" for i in by_order.pop("(no order)", [])]
    planned = {o.order_id for o in orders}
    check.problems += [f"{oid}: PaymentIntents for an order never sent" for oid in sorted(by_order.keys() - planned)]
    for order in orders:
        found = by_order.get(order.order_id, [])
        took = sum(i.captured for i in found)
        status = db.orders.get(order.order_id, ("", "MISSING", 0, None))[1]
        where = f"{order.order_id} [{order.kind}, {status}]"
        if order.paid_by_channel:
            if found:
                check.problems.append(f"{where}: {len(found)} PaymentIntents for an order the channel collected")
            continue
        if len(found) != 1 and not (status == "CANCELLED" and not found):  # cancelled before authorizing
            listed = _list(f"{i.intent_id} {i.status} captured {i.captured}" for i in found)
            check.problems.append(f"{where}: {len(found)} PaymentIntents, expected 1 ({listed})")
        expected = order.total_minor if status == "SHIPPED" else 0
        if took != expected:
            check.problems.append(f"{where}: the gateway captured {took}, expected {expected}")
        recorded = {p.provider_ref for p in db.payments.get(order.order_id, [])}
        if recorded - {i.intent_id for i in found}:
            check.problems.append(f"{where}: our record names {_list(sorted(recorded))}, not at the gateway")
        if status == "BACKORDERED" and [i.status for i in found] != ["requires_capture"]:
            check.problems.append(f"{where}: intents {[i.status for i in found]}, expected one requires_capture")
        if status == "CANCELLED" and not order.declined and found and [i.status for i in found] != ["canceled"]:
            check.problems.append(f"{where}: intents {[i.status for i in found]}, expected one canceled (voided)")
    return check


def check_parcels_once(db: DatabaseFacts) -> Check:
    """No parcel left twice: the stock that left per order, the shipments marked shipped and the
    shipped events on the timeline agree, each tracking number once; a shipped order got all it
    ordered, others nothing."""
    shipped: dict[str, Counter[Key]] = defaultdict(Counter)
    parcels: Counter[str] = Counter()
    for shipment in db.shipments:
        if shipment.status == "SHIPPED":
            parcels[shipment.order_id] += 1
            for sku, quantity in shipment.lines.items():
                shipped[shipment.order_id][(shipment.location_id, sku)] += quantity
    tracking = Counter(s.tracking_number for s in db.shipments if s.status == "SHIPPED")
    split = sum(1 for n in parcels.values() if n > 1)
    check = Check(
        "no parcel shipped twice",
        f"{sum(parcels.values())} parcels for {len(parcels)} orders ({split} split over several warehouses)",
    )
    check.problems += [f"tracking number {number} on {n} parcels" for number, n in tracking.items() if n > 1]
    for order_id in sorted(set(shipped) | set(db.shipped_moves) | set(db.shipped_events)):
        moves = db.shipped_moves.get(order_id, Counter())
        if moves != shipped[order_id]:
            check.problems.append(
                f"{order_id}: the ledger shipped {dict(moves)}, its parcels hold {dict(shipped[order_id])}"
            )
        if db.shipped_events[order_id] != parcels[order_id]:
            check.problems.append(
                f"{order_id}: {db.shipped_events[order_id]} shipped events for {parcels[order_id]} parcels"
            )
    for order_id, (_, status, _, _) in db.orders.items():
        units: Counter[str] = Counter()
        for (_, sku), n in shipped[order_id].items():
            units[sku] += n
        expected = db.lines.get(order_id, Counter()) if status == "SHIPPED" else Counter()
        if units != expected:
            check.problems.append(f"{order_id} ({status}): shipped {dict(units)}, expected {dict(expected)}")
    return check


def run_checks(
    orders: Sequence[PlannedOrder],
    received: Mapping[Key, int],
    intake: Intake,
    db: DatabaseFacts,
    intents: Sequence[Intent],
) -> list[Check]:
    return [
        check_intake(orders, intake),
        check_recorded_once(orders, intake, db),
        check_settled(orders, intake, db),
        check_stock_conserved(received, db),
        check_no_stranded_stock(db),
        check_ledger(db),
        check_money_recorded(orders, db),
        check_money_at_gateway(orders, db, intents),
        check_parcels_once(db),
    ]


def _euros(cents: int) -> str:
    return f"EUR {cents / 100:,.2f}"
