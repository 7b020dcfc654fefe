"""The payload codec (integrations.temporal.codec) and its keys (OMS_PAYLOAD_KEYS): what it writes
cannot be read or altered without the key, keys rotate, and histories from before pass through."""

from __future__ import annotations

import asyncio
import base64
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from config import DEV_PAYLOAD_KEYS, load_settings, payload_key_ring
from integrations.temporal.client import data_converter
from integrations.temporal.codec import (
    ENCRYPTED,
    KEY_ID,
    NONCE_BYTES,
    EncryptionCodec,
    TamperedPayload,
    UnknownPayloadKey,
)

pytestmark = pytest.mark.unit

OLD = ("2026-01", os.urandom(32))
NEW = ("2026-07", os.urandom(32))


def _keys(*pairs: tuple[str, bytes]) -> str:
    return ",".join(f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in pairs)


def _payload(data: bytes, encoding: bytes = b"json/plain") -> Payload:
    return Payload(metadata={"encoding": encoding}, data=data)


def _encode(codec: EncryptionCodec, *payloads: Payload) -> list[Payload]:
    return asyncio.run(codec.encode(list(payloads)))


def _decode(codec: EncryptionCodec, *payloads: Payload) -> list[Payload]:
    return asyncio.run(codec.decode(list(payloads)))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=4096), encoding=st.binary(min_size=1, max_size=40))
def test_every_payload_round_trips_and_leaves_in_no_readable_form(data: bytes, encoding: bytes) -> None:
    codec = EncryptionCodec([NEW])
    payload = _payload(data, encoding)
    [sealed] = _encode(codec, payload)
    assert sealed.metadata["encoding"] == ENCRYPTED
    assert sealed.metadata[KEY_ID] == NEW[0].encode()
    assert set(sealed.metadata) == {"encoding", KEY_ID}  # the original encoding is inside, too
    if len(data) >= 8:
        assert data not in sealed.data
    assert _decode(codec, sealed) == [payload]


def test_each_payload_gets_its_own_nonce() -> None:
    codec = EncryptionCodec([NEW])
    first, second = _encode(codec, _payload(b'"same"'), _payload(b'"same"'))
    assert first.data[:NONCE_BYTES] != second.data[:NONCE_BYTES]
    assert first.data != second.data


def test_keys_rotate_the_first_encrypts_and_every_one_decrypts() -> None:
    before = EncryptionCodec([OLD])
    [written_before] = _encode(before, _payload(b'{"email": "jan@example.nl"}'))

    after = EncryptionCodec([NEW, OLD])  # the new key put first, the old one kept after it
    [written_after] = _encode(after, _payload(b'{"email": "piet@example.nl"}'))
    assert written_after.metadata[KEY_ID] == NEW[0].encode()
    assert [p.data for p in _decode(after, written_before, written_after)] == [
        b'{"email": "jan@example.nl"}',
        b'{"email": "piet@example.nl"}',
    ]
    with pytest.raises(UnknownPayloadKey, match="2026-07"):  # the old ring cannot read the new key's
        _decode(before, written_after)


def test_an_altered_payload_fails_its_tag() -> None:
    codec = EncryptionCodec([NEW])
    [sealed] = _encode(codec, _payload(b'{"name": "Jan Jansen"}'))
    for position in (0, NONCE_BYTES, len(sealed.data) - 1):  # the nonce, the text, the tag
        altered = bytearray(sealed.data)
        altered[position] ^= 0x01
        with pytest.raises(TamperedPayload):
            _decode(codec, Payload(metadata=dict(sealed.metadata), data=bytes(altered)))
    with pytest.raises(TamperedPayload):
        _decode(codec, Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1]))


def test_a_payload_relabelled_with_another_key_id_fails_instead_of_decrypting() -> None:
    """The key id is the cipher's associated data: moving a payload under another id is tampering."""
    same_key = EncryptionCodec([("a", NEW[1]), ("b", NEW[1])])
    [sealed] = _encode(same_key, _payload(b"{}"))
    with pytest.raises(TamperedPayload):
        _decode(same_key, Payload(metadata={**sealed.metadata, KEY_ID: b"b"}, data=sealed.data))


def test_an_unknown_key_id_is_refused_naming_it() -> None:
    [sealed] = _encode(EncryptionCodec([OLD]), _payload(b"{}"))
    with pytest.raises(UnknownPayloadKey, match=r"'2026-01'.*holds '2026-07'"):
        _decode(EncryptionCodec([NEW]), sealed)
    with pytest.raises(UnknownPayloadKey, match="''"):
        _decode(EncryptionCodec([NEW]), Payload(metadata={"encoding": ENCRYPTED}, data=sealed.data))


def test_payloads_written_before_encryption_pass_through() -> None:
    plain = [
        _payload(b'{"order_id": "order-webshop-1"}'),
        Payload(metadata={}, data=b""),
        _payload(b"", b"binary/null"),
    ]
    assert _decode(EncryptionCodec([NEW]), *plain) == plain


def test_the_data_converter_keeps_the_default_payload_converter_and_adds_the_codec() -> None:
    converter = data_converter(load_settings(_env_file=None, payload_keys=_keys(NEW, OLD)))
    [sealed] = asyncio.run(converter.encode([{"email": "jan@example.nl"}]))
    assert sealed.metadata["encoding"] == ENCRYPTED and b"jan@example.nl" not in sealed.data
    assert asyncio.run(converter.decode([sealed], [dict])) == [{"email": "jan@example.nl"}]
    [inner] = _decode(EncryptionCodec([NEW]), sealed)
    assert inner.metadata["encoding"] == b"json/plain"  # Temporal's own JSON, as before encryption


# -- OMS_PAYLOAD_KEYS ------------------------------------------------------------------------------


def test_the_keys_are_read_in_order() -> None:
    assert payload_key_ring(f" {_keys(NEW)} , {_keys(OLD)} ") == (NEW, OLD)
    assert load_settings(_env_file=None).payload_key_ring[0][0] == "dev"
    assert payload_key_ring(DEV_PAYLOAD_KEYS)[0][1] == load_settings(_env_file=None).payload_key_ring[0][1]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "at least one key"),
        (",", "at least one key"),
        (base64.b64encode(bytes(range(32))).decode(), "entry 1 must be `id:base64"),
        (f"k 1:{base64.b64encode(bytes(range(32))).decode()}", "entry 1 must be"),
        (f":{base64.b64encode(bytes(range(32))).decode()}", "entry 1 must be"),
        ("k1:not base64!", "'k1' is not valid base64"),
        (f"k1:{base64.b64encode(bytes(range(16))).decode()}", "'k1' is 16 bytes, AES-256 takes 32"),
        (f"k1:{base64.b64encode(bytes(range(33))).decode()}", "'k1' is 33 bytes"),
        (f"{_keys(NEW)},{_keys((NEW[0], bytes(range(32))))}", "names key id '2026-07' twice"),
    ],
)
def test_malformed_keys_are_refused_naming_what_is_wrong_but_never_the_key(value: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        load_settings(_env_file=None, payload_keys=value)
    message = str(refused.value)
    assert says in message
    secret = value.partition(":")[2]
    assert not secret or secret not in message


def test_production_refuses_the_development_key_even_as_an_old_one() -> None:
    real = {
        "env": "production",
        "database_url": "postgresql+psycopg://oms:pw@db:5432/oms",
        "admin_token": "prod-admin-7f3a9c",
        "shopify_webhook_secret": "shpss_prod_1b2c3d",
        "woocommerce_webhook_secret": "wc_prod_4e5f6a",
        "tracking_secret": "trk_prod_7a8b9c",
        "stripe_secret_key": "sk_live_prod_51Hx",
    }
    assert load_settings(_env_file=None, **real, payload_keys=_keys(NEW, OLD)).payload_key_ring == (NEW, OLD)
    development_key = DEV_PAYLOAD_KEYS.partition(":")[2]
    for value in (DEV_PAYLOAD_KEYS, f"{_keys(NEW)},old:{development_key}"):
        with pytest.raises(ValidationError, match="OMS_PAYLOAD_KEYS"):
            load_settings(_env_file=None, **real, payload_keys=value)


@pytest.mark.parametrize("origin", ["*", "localhost:8233", "http://ui.example/path", "ftp://ui.example"])
def test_codec_origins_must_be_origins(origin: str) -> None:
    with pytest.raises(ValidationError, match="OMS_CODEC_CORS_ORIGINS"):
        load_settings(_env_file=None, codec_cors_origins=origin)


def test_codec_origins_are_a_comma_separated_list() -> None:
    settings = load_settings(_env_file=None, codec_cors_origins="https://temporal.example.com, http://localhost:8233")
    assert settings.codec_origins == ["https://temporal.example.com", "http://localhost:8233"]


def test_a_failures_message_and_stack_trace_are_encrypted_too() -> None:
    """An exception's text can quote personal data (a database error its parameters): it travels in
    the failure's encoded attributes, which the codec encrypts, and comes back whole with the key."""
    converter = data_converter(load_settings(_env_file=None, payload_keys=_keys(NEW)))
    failure = Failure()
    try:
        raise ApplicationError("cannot ship to Wilhelmina Vermeulen, Prinsengracht 263", type="AddressRefused")
    except ApplicationError as error:
        asyncio.run(converter.encode_failure(error, failure))
    raw = failure.SerializeToString()
    assert b"Wilhelmina" not in raw and b"Prinsengracht" not in raw and b"test_payload_codec" not in raw
    assert failure.application_failure_info.type == "AddressRefused"  # the kind stays readable
    decoded = asyncio.run(converter.decode_failure(failure))
    assert isinstance(decoded, ApplicationError) and decoded.type == "AddressRefused"
    assert decoded.message == "cannot ship to Wilhelmina Vermeulen, Prinsengracht 263"
