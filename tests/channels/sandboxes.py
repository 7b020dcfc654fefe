"""Each channel's sandbox (sandboxes/), served over real HTTP for one test: fixtures for every test module
(registered in tests/conftest.py). A test that needs a sandbox set up otherwise (a smaller page) serves
its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandboxes import amazon as amazon_sandbox
from sandboxes import bol as bol_sandbox
from sandboxes import mollie as mollie_sandbox
from sandboxes import shopify as shopify_sandbox
from sandboxes import woocommerce as woo_sandbox
from sandboxes.server import serve


@pytest.fixture
def shopify_url() -> Iterator[str]:
    with serve(shopify_sandbox.create_app()) as url:
        yield url


@pytest.fixture
def woocommerce_url() -> Iterator[str]:
    with serve(woo_sandbox.create_app()) as url:
        yield url


@pytest.fixture
def bol_url() -> Iterator[str]:
    with serve(bol_sandbox.create_app()) as url:
        yield url


@pytest.fixture
def amazon_url() -> Iterator[str]:
    with serve(amazon_sandbox.create_app()) as url:
        yield url


@pytest.fixture
def mollie_url() -> Iterator[str]:
    """Mollie's Payments API (a payment gateway, not a channel: served here with the others)."""
    with serve(mollie_sandbox.create_app()) as url:
        yield url
