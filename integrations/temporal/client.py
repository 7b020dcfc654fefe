"""The one way a process of ours talks to Temporal: the worker, the API, the schedules, the ops
scripts, bench and the tests all connect here, so none of them writes a payload in the clear or
fails to read one the others wrote."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime

from config import Settings
from integrations.temporal.codec import EncryptionCodec


def data_converter(settings: Settings) -> DataConverter:
    """Temporal's default payload converter (JSON for our dataclasses), every payload then encrypted
    with OMS_PAYLOAD_KEYS. Failures too: their message and stack trace travel as an encoded payload
    (the SDK's encoded attributes), because an exception's text can quote what it failed on (a
    database error its parameters, a channel's refusal the address it refused)."""
    return dataclasses.replace(
        DataConverter.default,
        payload_codec=EncryptionCodec(settings.payload_key_ring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(settings: Settings, address: str | None = None, *, runtime: Runtime | None = None) -> Client:
    """A client on `address` (else OMS_TEMPORAL_ADDRESS) in OMS_TEMPORAL_NAMESPACE, with the codec;
    `runtime`: the worker's (ops.telemetry: the SDK's metrics on their port), else the default."""
    return await Client.connect(
        address or settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        runtime=runtime,
    )
