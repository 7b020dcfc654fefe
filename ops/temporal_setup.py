"""Connecting to Temporal and making sure the search attributes the engine writes exist."""

from __future__ import annotations

import logging

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.runtime import Runtime

from config import Settings
from integrations.temporal.client import connect
from workflows.search_attributes import ALL

log = logging.getLogger("oms.temporal")


async def connect_temporal(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """The worker's connection: integrations.temporal.client's, payloads encrypted; `runtime`: the
    worker's, which exports the SDK's metrics (ops.telemetry)."""
    return await connect(settings, runtime=runtime)


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register OrderStatus and Channel when a server (e.g. a fresh production cluster) lacks them."""
    existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in ALL
        if key.name not in existing.custom_attributes
    }
    if missing:
        log.info("registering search attributes %s", ", ".join(missing))
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
