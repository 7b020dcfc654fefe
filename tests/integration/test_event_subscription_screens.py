"""The "Events out" settings screens on SQLite and PostgreSQL: a subscription created from the form
(its secret shown on that page only), refused with the reason beside the URL, and its page with
the delivery log, a replay button per attempt, a range replay, enable/disable, a new secret and
delete, each going through the same service as the JSON API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from domain.outbound_events import EventType
from persistence.guarded_writes.event_deliveries import Attempt, due, fan_out, record_attempt
from persistence.guarded_writes.events_outbox import emit
from tests.integration.screens import app_for, form_token, signed_in_browser

TOKEN = "events-screen-token"
BASE = "/dashboard/admin/events"


@pytest.fixture
def browser(database) -> Iterator[TestClient]:
    yield from signed_in_browser(app_for(database, TOKEN), TOKEN)


def test_a_subscription_is_kept_from_the_screens(browser, database):
    listing = browser.get(BASE)
    assert listing.status_code == 200 and "No subscription yet." in listing.text
    token = form_token(listing.text)
    refused = browser.post(f"{BASE}/new", data={"form_token": token, "url": "ftp://nope"})
    assert refused.status_code == 422 and "must be an absolute" in refused.text and "ftp://nope" in refused.text
    made = browser.post(
        f"{BASE}/new", data={"form_token": token, "url": "https://erp.example/hooks", "types": ["order.created"]}
    )
    assert made.status_code == 200
    [secret] = re.findall(r"<code>(whsec_[^<]+)</code>", made.text)
    [sub_id] = re.findall(r'href="/dashboard/admin/events/(sub_[0-9a-f]+)"', made.text)
    assert secret not in browser.get(BASE).text  # shown once

    with database.session() as session:  # one delivery that failed once: a row in the log
        emit(session, EventType.ORDER_CREATED, {"order_id": "o-1"}, ordering_key="o-1", at=datetime.now(UTC))
        session.commit()
    with database.session() as session:
        fan_out(session, 10, datetime.now(UTC))
        session.commit()
    with database.session() as session:
        [sent] = due(session, sub_id, datetime.now(UTC), 10)
        record_attempt(
            session,
            sent,
            Attempt(503, None, 12, datetime.now(UTC)),
            first_retry=timedelta(seconds=5),
            window=timedelta(hours=1),
        )
        session.commit()
    detail = browser.get(f"{BASE}/{sub_id}")
    assert detail.status_code == 200 and "HTTP 503" in detail.text and sent.event_id in detail.text

    replayed = browser.post(f"{BASE}/{sub_id}/events/{sent.event_id}/replay", data={"form_token": token})
    assert replayed.status_code == 303
    assert "will be sent again" in browser.get(replayed.headers["location"]).text
    ranged = browser.post(
        f"{BASE}/{sub_id}/replay", data={"form_token": token, "from": "2020-01-01T00:00", "to": "2100-01-01T00:00"}
    )
    assert "1 event(s) will be sent again" in browser.get(ranged.headers["location"]).text
    off = browser.post(f"{BASE}/{sub_id}/disable", data={"form_token": token})
    assert "disabled by staff" in browser.get(off.headers["location"]).text
    rotated = browser.post(f"{BASE}/{sub_id}/rotate", data={"form_token": token})
    [new_secret] = re.findall(r"<code>(whsec_[^<]+)</code>", rotated.text)
    assert new_secret != secret
    assert browser.post(f"{BASE}/{sub_id}/delete", data={"form_token": token}).status_code == 303
    assert browser.get(f"{BASE}/{sub_id}").status_code == 404
    assert browser.post(f"{BASE}/new", data={"form_token": "forged", "url": "https://x.example"}).status_code == 403
