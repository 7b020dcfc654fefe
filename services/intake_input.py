"""An order's workflow input as the intake keeps it: the JSON Temporal's default payload converter
writes for OrderWorkflowInput (what our clients send before the codec encrypts it), so the start
from the intake hands the workflow exactly what a direct start would have."""

from __future__ import annotations

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from contracts.order_workflow import OrderWorkflowInput

_CONVERTER = DataConverter.default.payload_converter
_JSON = {"encoding": b"json/plain"}


def as_json(data: OrderWorkflowInput) -> str:
    [payload] = _CONVERTER.to_payloads([data])
    return payload.data.decode()


def from_json(text: str) -> OrderWorkflowInput:
    [data] = _CONVERTER.from_payloads([Payload(metadata=_JSON, data=text.encode())], [OrderWorkflowInput])
    assert isinstance(data, OrderWorkflowInput)
    return data
