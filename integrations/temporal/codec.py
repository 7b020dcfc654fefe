"""Encrypts every Temporal payload before it leaves the process, so a history (on the server, in a
backup, in the UI without the codec endpoint) holds no customer name, address or e-mail in the clear.

Each payload is sealed whole (metadata and data) with AES-256-GCM under a fresh 96-bit nonce, and
travels as `encoding: binary/encrypted` with the key's id in `encryption-key-id`, so keys rotate: the
first key of the ring encrypts, every key decrypts. The key id is also the cipher's associated data,
so a payload relabelled with another key's id fails its tag instead of decrypting under the wrong
key. A payload without the encrypted encoding passes through untouched: histories recorded before
encryption (and tests/histories) still replay.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING_KEY = "encoding"
ENCRYPTED = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12  # 96 bits: GCM's own nonce length


class PayloadUndecryptable(ValueError):
    """An encrypted payload this codec cannot open: its key is not in the ring, or it was altered."""


class UnknownPayloadKey(PayloadUndecryptable):
    pass


class TamperedPayload(PayloadUndecryptable):
    pass


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        """`keys`: (id, 32-byte key) pairs, the first the one that encrypts (config.payload_key_ring)."""
        if not keys:
            raise ValueError("the payload codec needs at least one key")
        self._encrypting_id = keys[0][0]
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}

    @property
    def encrypting_key_id(self) -> str:
        return self._encrypting_id

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._encrypting_id.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._encrypting_id].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={ENCODING_KEY: ENCRYPTED, KEY_ID: key_id}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get(ENCODING_KEY) != ENCRYPTED:
            return payload  # written before encryption (or by a tool without it): nothing to open
        key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownPayloadKey(
                f"the payload is encrypted with key id {key_id!r}, which OMS_PAYLOAD_KEYS does not hold "
                f"(it holds {', '.join(repr(known) for known in self._ciphers)})"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            opened = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise TamperedPayload(
                f"the payload encrypted with key id {key_id!r} fails its authentication tag: it was altered "
                "(or the key under that id is not the one it was encrypted with)"
            ) from None
        return Payload.FromString(opened)
