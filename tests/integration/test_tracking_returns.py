"""The customer's own return form on the tracking page, in-process on SQLite and PostgreSQL with no
workflow engine behind it: it offers what may still come back and shows nothing personal, says when
the window is closed (and refuses a post then), takes only a form token made for its own link, is
throttled per link and per network address (429 with Retry-After, no link kept in the throttle), and
answers a request it cannot pass on with a 503 page, never a 500. Requests that reach the engine:
tests/workflow/test_return_screens.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from domain.status import OrderStatus
from persistence.models import LoginThrottle
from persistence.read_model import orders as order_store
from persistence.unit_of_work import UnitOfWork
from services.self_service_returns import TRIES_PER_ADDRESS, TRIES_PER_LINK
from services.tracking import make_token, read_token
from tests.integration.screens import form_token
from tests.integration.test_tracking_page import NEVER_SHOWN, SECRET, _record, _settings, _ship


@pytest.fixture
def api(database) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(database)), raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


def _shipped(database) -> str:
    order_id = _record(database)
    _ship(database, order_id, [("PostNL", "3SABC", {"MUG-BLUE": 2, "TEE-M": 1})])
    return make_token(SECRET, order_id)


def _post(api: TestClient, token: str, form: str, quantities: tuple[str, str] = ("9", "0"), reason: str = "damaged"):
    return api.post(
        f"/track/{token}/return",
        data={"form_token": form, "sku": ["MUG-BLUE", "TEE-M"], "quantity": list(quantities), "reason": reason},
    )


def test_the_form_offers_what_may_come_back_and_nothing_personal(api, database):
    token = _shipped(database)
    page = api.get(f"/track/{token}")
    assert f'href="/track/{token}/return"' in page.text
    form = api.get(f"/track/{token}/return")
    assert form.status_code == 200
    assert "Blue mug" in form.text and "(up to 2)" in form.text and 'name="reason"' in form.text
    for fact in NEVER_SHOWN:
        assert fact not in form.text, fact
    assert "form-action 'self'" in form.headers["content-security-policy"]
    assert form.headers["cache-control"] == "no-store" and form.headers["referrer-policy"] == "no-referrer"

    too_many = _post(api, token, form_token(form.text))
    assert too_many.status_code == 422 and "only 2 of MUG-BLUE can come back" in too_many.text
    no_reason = _post(api, token, form_token(form.text), ("1", "0"), reason="")
    assert no_reason.status_code == 422 and "please choose a reason" in no_reason.text
    superscript = _post(api, token, form_token(form.text), ("\u00b2", "0"))  # isdigit() says yes; int() no
    assert superscript.status_code == 422 and "a whole number" in superscript.text
    nothing = _post(api, token, form_token(form.text), ("0", "0"))
    assert nothing.status_code == 422 and "choose at least one unit" in nothing.text


def test_a_request_that_cannot_reach_the_engine_is_a_503_page(api, database):
    token = _shipped(database)
    form = form_token(api.get(f"/track/{token}/return").text)
    answer = _post(api, token, form, ("1", "0"))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "30"
    assert "try again in a few minutes" in answer.text


def test_outside_the_window_the_form_says_so_and_a_post_is_refused(api, database):
    token = _shipped(database)
    form = form_token(api.get(f"/track/{token}/return").text)
    order_id = _record(database)  # not shipped yet
    early = api.get(f"/track/{make_token(SECRET, order_id)}/return")
    assert early.status_code == 200 and "once your order has reached you" in early.text and 'id="ask"' not in early.text
    assert 'id="return-link"' not in api.get(f"/track/{make_token(SECRET, order_id)}").text

    _complete(database, read_token(SECRET, token) or "")
    closed = api.get(f"/track/{token}/return")
    assert "The return period for this order has ended." in closed.text and 'id="ask"' not in closed.text
    refused = _post(api, token, form, ("1", "0"))
    assert refused.status_code == 409 and "has ended" in refused.text


def _complete(database, order_id: str) -> None:
    with UnitOfWork(database.session_factory) as uow:
        order_store.set_status(uow.session, order_id, OrderStatus.COMPLETED)
        uow.commit()


def test_only_a_form_token_made_for_this_link_is_taken(api, database):
    mine, other = _shipped(database), _shipped(database)
    others_form = form_token(api.get(f"/track/{other}/return").text)
    assert _post(api, mine, others_form, ("1", "0")).status_code == 403
    assert _post(api, mine, "", ("1", "0")).status_code == 403
    assert _post(api, mine, others_form + "x", ("1", "0")).status_code == 403


def test_a_link_that_does_not_verify_finds_nothing(api, database):
    _shipped(database)
    for path in ("/track/forged/return", "/track/forged/returns/RMA-7K3QX-9PDM2-1", "/track/forged/returns/x/label"):
        assert api.get(path).status_code == 404, path
    assert _post(api, "forged", "x", ("1", "0")).status_code == 404
    token = _shipped(database)
    assert api.get(f"/track/{token}/returns/RMA-7K3QX-9PDM2-1").status_code == 404  # not one of this order's


def test_requests_are_throttled_per_link_and_per_address(api, database):
    token = _shipped(database)
    form = form_token(api.get(f"/track/{token}/return").text)
    for _ in range(TRIES_PER_LINK):
        assert _post(api, token, form).status_code == 422
    throttled = _post(api, token, form)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "too many return requests" in throttled.text

    # Other links from the same address go on until the address has had its share.
    tries = TRIES_PER_LINK
    while tries < TRIES_PER_ADDRESS:
        other = _shipped(database)
        other_form = form_token(api.get(f"/track/{other}/return").text)
        for _ in range(min(TRIES_PER_LINK - 1, TRIES_PER_ADDRESS - tries)):
            assert _post(api, other, other_form).status_code == 422
            tries += 1
    fresh = _shipped(database)
    assert _post(api, fresh, form_token(api.get(f"/track/{fresh}/return").text)).status_code == 429

    with database.session() as session:
        keys = list(session.scalars(select(LoginThrottle.key)))
    assert keys and all(token not in key and "testclient" not in key for key in keys)
