"""The read model's gauges (services.metrics.ReadModelGauges) when the database does not answer: the
scrape still answers, `oms_read_model_up` says 0 and no figure is made up."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.metrics import ReadModelGauges

pytestmark = pytest.mark.unit


class _DatabaseDown:
    def __call__(self, *, read_only: bool = False) -> Any:
        raise ConnectionRefusedError("the database is not there")


def test_a_database_that_does_not_answer_reads_as_up_0_and_nothing_else() -> None:
    registry = CollectorRegistry()
    registry.register(ReadModelGauges(_DatabaseDown()))
    families = {family.name: family for family in text_string_to_metric_families(generate_latest(registry).decode())}
    assert set(families) == {"oms_read_model_up"}
    assert [sample.value for sample in families["oms_read_model_up"].samples] == [0.0]
