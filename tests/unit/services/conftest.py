"""Service tests run against a fake unit of work and a fake workflow gateway (tests.fakes)."""

from __future__ import annotations

import pytest

from tests.fakes import FakeUnits, FakeWorkflows


@pytest.fixture
def units() -> FakeUnits:
    return FakeUnits()


@pytest.fixture
def workflows() -> FakeWorkflows:
    return FakeWorkflows()
