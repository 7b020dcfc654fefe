"""The codec endpoint for the Temporal UI (and `temporal --codec-endpoint`): histories are encrypted
(integrations.temporal.codec), so the UI posts the payloads it shows here to have them decrypted, and
the ones a person types (a signal's input) to have them encrypted.

Temporal's Codec Server protocol: `POST /codec/decode` and `POST /codec/encode`, each taking and
answering `{"payloads": [{"metadata": {name: base64}, "data": base64}]}` (a Payload in proto3 JSON).
Staff whose role holds the operations permission only (a bearer token, or the dashboard's sign-in
cookie the UI's page sends along), from the browser only at the origins in OMS_CODEC_CORS_ORIGINS
(`CodecCors`).

A payload that is not encrypted is answered as it came (histories from before encryption). One that
is encrypted but cannot be opened (its key id is not in OMS_PAYLOAD_KEYS, or its tag fails) refuses
the request with 422 naming the payload and the reason: answering the ciphertext unchanged would show
people bytes as if they were the data, and hide that a key is missing or a history was altered.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload

from api.deps import CodecDep, OperationsStaff
from integrations.temporal.codec import PayloadUndecryptable

PREFIX = "/codec"
UI_HEADERS = ("Content-Type", "Authorization", "X-Namespace")
"""What the Temporal UI sends: the JSON body, its own access token when told to pass it, the namespace."""

router = APIRouter(prefix=PREFIX, tags=["codec"])


class CodecPayload(BaseModel):
    metadata: dict[str, str] = Field(default_factory=dict, description="each value base64-encoded bytes")
    data: str = Field(default="", description="base64-encoded bytes")


class CodecPayloads(BaseModel):
    """A Temporal `Payloads` message in proto3 JSON."""

    payloads: list[CodecPayload]


@router.post("/decode", response_model=CodecPayloads)
async def decode(body: CodecPayloads, codec: CodecDep, _: OperationsStaff) -> CodecPayloads:
    """Decrypt payloads for display; ones that are not encrypted come back as they are."""
    opened = []
    for index, payload in enumerate(_payloads(body)):
        try:
            opened.append(codec.decrypt(payload))
        except PayloadUndecryptable as exc:
            raise _refused(index, str(exc)) from None
    return _answer(opened)


@router.post("/encode", response_model=CodecPayloads)
async def encode(body: CodecPayloads, codec: CodecDep, _: OperationsStaff) -> CodecPayloads:
    """Encrypt payloads a person entered, with the key that encrypts (the first of OMS_PAYLOAD_KEYS)."""
    return _answer(await codec.encode(_payloads(body)))


def _payloads(body: CodecPayloads) -> list[Payload]:
    payloads = []
    for index, given in enumerate(body.payloads):
        try:
            metadata = {name: _bytes(value) for name, value in given.metadata.items()}
            payloads.append(Payload(metadata=metadata, data=_bytes(given.data)))
        except (binascii.Error, ValueError) as exc:  # not base64, or a name protobuf cannot hold
            raise _refused(index, f"not a payload in proto3 JSON ({exc})") from None
    return payloads


def _bytes(text: str) -> bytes:
    """proto3 JSON bytes: standard or URL-safe base64, padded or not."""
    standard = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


def _answer(payloads: list[Payload]) -> CodecPayloads:
    return CodecPayloads(
        payloads=[
            CodecPayload(
                metadata={name: base64.b64encode(value).decode() for name, value in payload.metadata.items()},
                data=base64.b64encode(payload.data).decode(),
            )
            for payload in payloads
        ]
    )


def _refused(index: int, reason: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {"message": f"payloads.{index}: {reason}"})


class CodecCors:
    """CORS for the codec endpoint alone: the Temporal UI's origins (OMS_CODEC_CORS_ORIGINS) may call
    it from the browser with credentials (the dashboard cookie); no other route answers any origin,
    and a preflight from another origin is refused (400)."""

    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["POST"],
            allow_headers=list(UI_HEADERS),
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and (path == PREFIX or path.startswith(f"{PREFIX}/")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
