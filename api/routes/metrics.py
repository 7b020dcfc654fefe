"""GET /metrics: the engine's figures in Prometheus's text format, for Prometheus to scrape with
the metrics token (OMS_METRICS_TOKEN) or a staff token whose role holds the operations permission.
This process's counters and latencies (api.metrics, services.metrics) and the read model's gauges,
read at scrape time on a thread."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from api.deps import MetricsReader, StateDep
from services.metrics import ReadModelGauges

router = APIRouter(tags=["operations"])


def exposition(gauges: ReadModelGauges) -> bytes:
    """The process's registry, then the read model's families (names of their own: no clash)."""
    return generate_latest(REGISTRY) + generate_latest(gauges)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format 0.0.4"}},
)
async def metrics(state: StateDep, _: MetricsReader) -> Response:
    body = await asyncio.to_thread(exposition, state.services.gauges)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
