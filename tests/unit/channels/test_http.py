"""The shared HTTP base every channel client sends through: how each answer becomes a ChannelError, and
how an expiring token is refreshed and a refused request replayed once (httpx's auth flow)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from integrations.channels.errors import (
    ChannelAuthFailed,
    ChannelError,
    ChannelRateLimited,
    ChannelRejected,
    ChannelUnavailable,
)
from integrations.channels.http import ChannelHttp
from integrations.channels.tokens import REFUSED_CREDENTIALS, BearerToken, CachedToken

Handler = Callable[[httpx.Request], httpx.Response]


def api(handler: Handler, **options: object) -> ChannelHttp:
    return ChannelHttp("Shop", httpx.Client(transport=httpx.MockTransport(handler)), **options)  # type: ignore[arg-type]


def answer(status: int, **kwargs: object) -> Handler:
    return lambda request: httpx.Response(status, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, ChannelRateLimited),
        (500, ChannelUnavailable),
        (503, ChannelUnavailable),
        (401, ChannelAuthFailed),
        (403, ChannelAuthFailed),
        (400, ChannelRejected),
        (404, ChannelRejected),
        (422, ChannelRejected),
        (301, ChannelRejected),  # a redirect: the configured URL is wrong
    ],
)
def test_each_status_becomes_its_error_with_the_channels_words(status: int, error: type[ChannelError]) -> None:
    shop = api(answer(status, text="the shop's words"), describe=lambda response: response.text)
    with pytest.raises(error, match=rf"^Shop GET /x: HTTP {status}: the shop's words$") as raised:
        shop.send("GET", "https://shop.test/x", what="GET /x")
    assert type(raised.value) is error


def test_a_rate_limit_waits_as_asked_or_as_the_channel_hints() -> None:
    with pytest.raises(ChannelRateLimited) as asked:
        api(answer(429, headers={"Retry-After": "7"})).send("GET", "https://shop.test/x")
    with pytest.raises(ChannelRateLimited) as hinted:
        api(answer(429), rate_limit_wait=lambda response: 2.5).send("GET", "https://shop.test/x")
    with pytest.raises(ChannelRateLimited) as silent:
        api(answer(429)).send("GET", "https://shop.test/x")
    assert (asked.value.retry_after, hinted.value.retry_after, silent.value.retry_after) == (7.0, 2.5, None)


def test_a_404_is_the_clients_own_kind_of_rejection_when_it_has_one() -> None:
    class Gone(ChannelRejected):
        pass

    with pytest.raises(Gone):
        api(answer(404), not_found=Gone).send("GET", "https://shop.test/x")
    assert api(answer(404), not_found=Gone).send("GET", "https://shop.test/x", accept=(404,)).status_code == 404


def test_no_answer_is_unavailable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    for handler in (down, slow):
        with pytest.raises(ChannelUnavailable):
            api(handler).send("GET", "https://shop.test/x")


def test_a_body_that_is_not_json_is_unavailable_and_a_blank_one_what_the_caller_says() -> None:
    shop = api(answer(200, text="<html>maintenance</html>"))
    with pytest.raises(ChannelUnavailable, match="not JSON"):
        shop.json(shop.send("GET", "https://shop.test/x"), "GET /x")
    blank = api(answer(200, text="  "))
    assert blank.json(blank.send("GET", "https://shop.test/x"), "GET /x", empty={}) == {}
    with pytest.raises(ChannelUnavailable):
        blank.json(blank.send("GET", "https://shop.test/x"), "GET /x")
    exact = api(answer(200, text='{"price": 12.99}'))
    assert str(exact.json(exact.send("GET", "https://shop.test/x"), "GET /x")["price"]) == "12.99"


def test_a_token_endpoint_that_refuses_the_credentials_is_an_auth_failure() -> None:
    with pytest.raises(ChannelAuthFailed):
        api(answer(400, json={"error": "invalid_client"})).send(
            "POST", "https://shop.test/token", refused=REFUSED_CREDENTIALS
        )


class TokenShop:
    """A channel whose tokens it can revoke, counting what it issued and what it was asked."""

    def __init__(self, refuse: int = 0) -> None:
        self.issued = 0
        self.refuse = refuse
        self.seen: list[str] = []

    def fetch(self) -> tuple[str, float]:
        self.issued += 1
        return f"token-{self.issued}", 300.0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.headers["Authorization"])
        if self.refuse:
            self.refuse -= 1
            return httpx.Response(401)
        return httpx.Response(200, json={"ok": True})


def token_api(shop: TokenShop, clock: Callable[[], float] = lambda: 0.0) -> ChannelHttp:
    token = CachedToken(shop.fetch, renew_after=lambda lifetime: lifetime - 30, clock=clock)

    def bearer(request: httpx.Request, value: str) -> None:
        request.headers["Authorization"] = f"Bearer {value}"

    http = httpx.Client(transport=httpx.MockTransport(shop.handle), auth=BearerToken(token, bearer))
    return ChannelHttp("Shop", http)


def test_one_token_serves_calls_until_shortly_before_it_expires() -> None:
    now = [0.0]
    shop = TokenShop()
    client = token_api(shop, clock=lambda: now[0])
    client.send("GET", "https://shop.test/a")
    now[0] = 269.0
    client.send("GET", "https://shop.test/b")
    now[0] = 270.0
    client.send("GET", "https://shop.test/c")
    assert shop.seen == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


def test_a_refused_token_is_replaced_once_and_the_request_replayed() -> None:
    shop = TokenShop(refuse=1)
    assert token_api(shop).send("GET", "https://shop.test/a").json() == {"ok": True}
    assert shop.seen == ["Bearer token-1", "Bearer token-2"]


def test_refused_with_a_fresh_token_too_is_an_auth_failure() -> None:
    shop = TokenShop(refuse=2)
    with pytest.raises(ChannelAuthFailed):
        token_api(shop).send("GET", "https://shop.test/a")
    assert (shop.issued, len(shop.seen)) == (2, 2)
