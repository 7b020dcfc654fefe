"""The pure rules of payment links (domain.payment_links): what the provider's view of a link means,
and that a settled link never changes again except that a payment always counts; and which webhook
address Mollie could reach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from activities.payment_links import reachable_webhook
from domain.payment_links import SETTLED, LinkStatus, link_status, settle

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
statuses = st.sampled_from(list(LinkStatus))


def test_what_the_providers_view_means():
    later, earlier = NOW + timedelta(days=1), NOW - timedelta(seconds=1)
    assert link_status(paid=False, archived=False, expires_at=later, now=NOW) is LinkStatus.OPEN
    assert link_status(paid=False, archived=False, expires_at=None, now=NOW) is LinkStatus.OPEN
    assert link_status(paid=False, archived=False, expires_at=NOW, now=NOW) is LinkStatus.EXPIRED
    assert link_status(paid=False, archived=True, expires_at=later, now=NOW) is LinkStatus.CANCELLED
    # Paid wins: paid just before it expired or was archived, the money came.
    assert link_status(paid=True, archived=True, expires_at=earlier, now=NOW) is LinkStatus.PAID


@given(statuses, statuses)
def test_a_settled_link_stays_settled_and_a_payment_always_counts(current, seen):
    after = settle(current, seen)
    if seen is LinkStatus.PAID:
        assert after is LinkStatus.PAID
    elif current in SETTLED:
        assert after is current
    else:
        assert after is seen
    assert settle(after, seen) is after  # recording the same view again changes nothing


@given(st.lists(statuses, max_size=8))
def test_once_paid_always_paid(views):
    status = LinkStatus.OPEN
    for seen in views:
        before = status
        status = settle(status, seen)
        assert before is not LinkStatus.PAID or status is LinkStatus.PAID
    assert (status is LinkStatus.PAID) == (LinkStatus.PAID in views)


def test_a_webhook_mollie_cannot_reach_is_left_out():
    assert reachable_webhook("https://oms.example.org/webhooks/mollie") == "https://oms.example.org/webhooks/mollie"
    for unreachable in (
        "http://localhost:8000/webhooks/mollie",
        "http://127.0.0.1:8000/webhooks/mollie",
        "http://[::1]/webhooks/mollie",
        "http://0.0.0.0/webhooks/mollie",
        "ftp://oms.example.org/webhooks/mollie",
    ):
        assert reachable_webhook(unreachable) is None, unreachable
