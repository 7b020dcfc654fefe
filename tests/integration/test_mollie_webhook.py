"""POST /webhooks/mollie: Mollie posts only `id=tr_…`, so the API reads the payment from Mollie (the
sandbox) and records what changed outside our own steps, each once. The real app on both databases;
no Temporal needed (the webhook never touches a workflow)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from activities.payment_links import PaymentLinkActivities
from activities.payments import PaymentActivities
from api.main import create_app
from config import load_settings
from contracts.payment_links import OpenPaymentLinkInput, PaymentLinkStepInput
from contracts.payments import AuthorizePaymentInput
from domain.money import Money
from integrations.payments.mollie_gateway import MollieGateway
from integrations.sandbox.payments import SandboxPaymentGateway
from ops.temporal_dev import free_port
from persistence.models import OrderEvent, PaymentLinkRecord, PaymentRecord
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from sandboxes.mollie import API_KEY
from tests.factories import make_order
from tests.mollie_checkout import AUTH, checkout, customer, dashboard_refund, expire_link, fail_next, outage, pay_link

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def api(database, mollie_url) -> Iterator[TestClient]:
    settings = load_settings(
        database_url=database.url,
        mollie_api_key=API_KEY,
        mollie_api_url=mollie_url,
        temporal_address=f"127.0.0.1:{free_port()}",  # nobody there: the webhook needs no workflow
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _paid_order(database, mollie_url, total_minor: int = 2_995, *, method: str = "ideal") -> tuple[str, str]:
    """An order whose Mollie payment our authorization step recorded: (order id, tr_ id)."""
    order = make_order([("SKU-1", 1, total_minor - 495)], paid=False)
    with UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.commit()
    status = "authorized" if method == "creditcard" else "paid"
    payment_id = checkout(mollie_url, order.total, method=method, status=status)
    PaymentActivities(database.session_factory, MollieGateway(API_KEY, mollie_url)).authorize_payment(
        AuthorizePaymentInput(order.order_id, order.total, payment_id, f"{order.order_id}:authorize:1", order.placed_at)
    )
    return order.order_id, payment_id


def _hook(api: TestClient, body: str):
    return api.post("/webhooks/mollie", content=body.encode(), headers=FORM)


def _state(database, order_id: str) -> tuple[PaymentRecord, list[tuple[str, str]]]:
    with UnitOfWork(database.session_factory) as uow:
        record = uow.session.scalar(select(PaymentRecord).where(PaymentRecord.order_id == order_id))
        assert record is not None
        uow.session.expunge(record)
        events = uow.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
        return record, [(e.kind, e.detail) for e in events]


def _calls(mollie_url: str) -> int:
    return len(httpx.get(f"{mollie_url}/_sandbox/calls").json())


def test_a_refund_made_in_mollies_dashboard_is_recorded_once_and_never_refunded_again(api, database, mollie_url):
    order_id, payment_id = _paid_order(database, mollie_url)
    refund_id = dashboard_refund(mollie_url, payment_id, Money(1_001, "EUR"))

    answers = [_hook(api, f"id={payment_id}") for _ in range(3)]

    assert [(a.status_code, a.json()) for a in answers] == [(200, {})] * 3
    record, events = _state(database, order_id)
    assert record.refunded_minor == 1_001
    assert events.count(("refunded_at_provider", f"{refund_id}: 10.01 EUR refunded in Mollie's dashboard")) == 1


def test_our_own_refunds_are_not_counted_again_but_a_chargeback_is(api, database, mollie_url):
    order_id, payment_id = _paid_order(database, mollie_url, 5_000)
    MollieGateway(API_KEY, mollie_url).refund(f"return-{order_id}-1:refund", payment_id, Money(2_000, "EUR"))
    chargeback = httpx.post(
        f"{mollie_url}/_sandbox/payments/{payment_id}/chargebacks",
        json={"amount": {"currency": "EUR", "value": "5.55"}},
    ).json()

    assert _hook(api, f"id={payment_id}").status_code == 200
    assert _hook(api, f"id={payment_id}").status_code == 200

    record, events = _state(database, order_id)
    assert record.refunded_minor == 555  # our own refund is recorded by its step, not by the webhook
    assert [e for e in events if e[0] == "payment_charged_back"] == [
        ("payment_charged_back", f"{chargeback['id']}: 5.55 EUR charged back by the bank")
    ]


def test_a_held_authorization_that_lapsed_at_mollie_goes_on_the_timeline_once(api, database, mollie_url):
    order_id, payment_id = _paid_order(database, mollie_url, method="creditcard")
    customer(mollie_url, payment_id, "expired")

    for _ in range(2):
        assert _hook(api, f"id={payment_id}").status_code == 200

    _, events = _state(database, order_id)
    assert [e for e in events if e[0] == "payment_status"] == [
        ("payment_status", "Mollie says the payment expired: nothing can be captured on it")
    ]


def test_an_unknown_id_answers_like_a_known_one_without_asking_mollie(api, database, mollie_url):
    _, known = _paid_order(database, mollie_url)
    before = _calls(mollie_url)
    unknown = _hook(api, "id=tr_NotOurs123")
    not_mollie = _hook(api, "id=pi_3Nothing")
    assert _calls(mollie_url) == before
    known_answer = _hook(api, f"id={known}")
    assert (unknown.status_code, unknown.json()) == (known_answer.status_code, known_answer.json()) == (200, {})
    assert (not_mollie.status_code, not_mollie.json()) == (200, {})


@pytest.mark.parametrize(
    "body", ["", "id=", "nonsense", "id=tr_a&id=tr_b", "\udcff".encode("utf-8", "surrogatepass").decode("latin-1")]
)
def test_a_body_without_one_payment_id_is_a_400_never_a_500(api, body):
    answer = api.post("/webhooks/mollie", content=body.encode("latin-1"), headers=FORM)
    assert answer.status_code == 400


def test_an_oversized_body_is_cut_off(api):
    assert _hook(api, "id=" + "x" * 2_000_000).status_code == 413


def test_while_mollie_is_down_the_webhook_asks_to_be_retried_then_records(api, database, mollie_url):
    order_id, payment_id = _paid_order(database, mollie_url)
    dashboard_refund(mollie_url, payment_id, Money(100, "EUR"))
    outage(mollie_url, True)
    assert _hook(api, f"id={payment_id}").status_code == 503
    outage(mollie_url, False)
    assert _hook(api, f"id={payment_id}").status_code == 200
    assert _state(database, order_id)[0].refunded_minor == 100
    assert httpx.get(f"{mollie_url}/v2/payments/{payment_id}", headers=AUTH).json()["amountRefunded"]["value"] == "1.00"


# -- payment links (an exchange's difference asked of the customer) ------------------------------------


def _link_for(database, mollie_url, order_id: str, amount_minor: int = 250) -> str:
    """A payment link the return `return-<order>-1` opened for the difference: its pl_ id."""
    links = PaymentLinkActivities(database.session_factory, MollieGateway(API_KEY, mollie_url), timedelta(days=3))
    opened = links.open_payment_link(
        OpenPaymentLinkInput(
            order_id,
            f"return-{order_id}-1",
            "exchange",
            Money(amount_minor, "EUR"),
            "Exchange RMA-1",
            f"return-{order_id}-1:pay-link",
            datetime.now(UTC),
        )
    )
    assert opened.link_id is not None and opened.url
    return opened.link_id


def _link_payments(database, order_id: str) -> tuple[str, list[tuple[str, int, str]], list[str]]:
    with UnitOfWork(database.session_factory) as uow:
        link = uow.session.scalar(select(PaymentLinkRecord).where(PaymentLinkRecord.order_id == order_id))
        assert link is not None
        rows = uow.session.scalars(
            select(PaymentRecord).where(PaymentRecord.order_id == order_id).order_by(PaymentRecord.created_at)
        )
        payments = [(p.provider_ref, p.captured_minor, p.status) for p in rows]
        events = uow.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id))
        return link.status, payments, [e.kind for e in events if e.kind.startswith("payment_link")]


def test_a_link_paid_at_mollie_is_recorded_once_as_a_payment_of_the_order(api, database, mollie_url):
    order_id, first = _paid_order(database, mollie_url)
    link_id = _link_for(database, mollie_url, order_id)
    assert _hook(api, "id=tr_NotOurs123").status_code == 200  # Mollie does not know it: nothing
    paid = pay_link(mollie_url, link_id).json()["payment_id"]

    answers = [_hook(api, f"id={paid}") for _ in range(3)]  # Mollie repeats; the return is not reachable here
    again = _hook(api, f"id={link_id}")  # Mollie's next-gen webhook names the link itself

    assert [a.status_code for a in answers] == [200] * 3 and again.status_code == 200
    status, payments, kinds = _link_payments(database, order_id)
    assert status == "paid"
    # The difference's payment, taken at Mollie: the return captures it when the replacement leaves.
    assert payments == [(first, 0, "AUTHORIZED"), (paid, 0, "AUTHORIZED")]
    assert kinds == ["payment_link_opened", "payment_link_paid"]


def test_while_no_link_waits_an_unknown_payment_asks_mollie_nothing(api, database, mollie_url):
    order_id, _ = _paid_order(database, mollie_url)
    link_id = _link_for(database, mollie_url, order_id)
    pay_link(mollie_url, link_id)
    assert _hook(api, f"id={link_id}").status_code == 200  # recorded: no link waits any more
    before = _calls(mollie_url)
    assert _hook(api, "id=tr_SomeoneElses1").status_code == 200
    assert _calls(mollie_url) == before


def test_a_failed_payment_through_the_link_leaves_it_open(api, database, mollie_url):
    order_id, _ = _paid_order(database, mollie_url)
    link_id = _link_for(database, mollie_url, order_id)
    failed = pay_link(mollie_url, link_id, status="failed").json()["payment_id"]
    assert _hook(api, f"id={failed}").status_code == 200
    status, payments, kinds = _link_payments(database, order_id)
    assert status == "open" and len(payments) == 1 and kinds == ["payment_link_opened"]


def test_an_order_paid_elsewhere_gets_no_link(database):
    order = make_order([("SKU-1", 1, 2_500)], paid=False)
    with UnitOfWork(database.session_factory) as uow:
        order_store.record_order(uow.session, order, datetime.now(UTC))
        uow.commit()
    PaymentActivities(database.session_factory, SandboxPaymentGateway()).authorize_payment(
        AuthorizePaymentInput(
            order.order_id, order.total, "pm_card_visa", f"{order.order_id}:authorize:1", order.placed_at
        )
    )
    links = PaymentLinkActivities(database.session_factory, SandboxPaymentGateway(), timedelta(days=3))
    opened = links.open_payment_link(
        OpenPaymentLinkInput(order.order_id, "r", "exchange", Money(100, "EUR"), "x", "r:pay-link", datetime.now(UTC))
    )
    assert opened.link_id is None and "sandbox" in opened.refusal


def _step(order_id: str, link_id: str, n: int) -> PaymentLinkStepInput:
    return PaymentLinkStepInput(order_id, link_id, f"return-{order_id}-1:pay-link-step:{n}", datetime.now(UTC))


def test_a_link_deleted_at_mollie_reads_cancelled_and_one_mollie_will_not_archive_is_taken_as_it_reads(
    database, mollie_url
):
    links = PaymentLinkActivities(database.session_factory, MollieGateway(API_KEY, mollie_url), timedelta(days=3))
    order_id, _ = _paid_order(database, mollie_url)
    deleted = _link_for(database, mollie_url, order_id)
    assert httpx.delete(f"{mollie_url}/v2/payment-links/{deleted}", headers=AUTH).status_code == 204
    assert links.check_payment_link(_step(order_id, deleted, 1)).status == "cancelled"
    assert _link_payments(database, order_id)[2] == ["payment_link_opened", "payment_link_cancelled"]

    other, _ = _paid_order(database, mollie_url)
    expired = _link_for(database, mollie_url, other)
    expire_link(mollie_url, expired)
    fail_next(mollie_url, 422)  # Mollie refuses to archive it
    assert links.close_payment_link(_step(other, expired, 2)).status == "expired"
    assert _link_payments(database, other)[0] == "expired"
    at_mollie = httpx.get(f"{mollie_url}/v2/payment-links/{expired}", headers=AUTH).json()
    assert at_mollie["archived"] is False  # the refusal was taken as the link read: expired
