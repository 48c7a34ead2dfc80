"""Credentials at rest: AES-GCM with a key id prefix, bound to their row, rotatable."""

from __future__ import annotations

import base64
import os

import pytest

from services.social.crypto import CryptoError, TokenCipher, key_id_of, parse_keys


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


TOKEN = "7000000001:AAH-bot-token"


def test_round_trip() -> None:
    cipher = TokenCipher.from_spec(f"k1:{_key()}")
    sealed = cipher.seal(TOKEN, associated_data="integration:a:credentials")
    assert TOKEN.encode() not in sealed
    assert key_id_of(sealed) == "k1"
    assert cipher.open(sealed, associated_data="integration:a:credentials") == TOKEN


def test_each_seal_uses_a_fresh_nonce() -> None:
    cipher = TokenCipher.from_spec(f"k1:{_key()}")
    assert cipher.seal(TOKEN, associated_data="a") != cipher.seal(TOKEN, associated_data="a")


def test_a_value_sealed_for_another_row_does_not_open() -> None:
    cipher = TokenCipher.from_spec(f"k1:{_key()}")
    sealed = cipher.seal(TOKEN, associated_data="integration:a:credentials")
    with pytest.raises(CryptoError):
        cipher.open(sealed, associated_data="integration:b:credentials")


def test_tampering_is_detected() -> None:
    cipher = TokenCipher.from_spec(f"k1:{_key()}")
    sealed = bytearray(cipher.seal(TOKEN, associated_data="a"))
    sealed[-1] ^= 1
    with pytest.raises(CryptoError):
        cipher.open(bytes(sealed), associated_data="a")
    with pytest.raises(CryptoError):
        cipher.open(b"\x02k1", associated_data="a")
    with pytest.raises(CryptoError):
        cipher.open(b"", associated_data="a")


def test_key_rotation_new_key_seals_old_key_still_opens() -> None:
    old_key, new_key = _key(), _key()
    before = TokenCipher.from_spec(f"2025:{old_key}")
    sealed_before = before.seal(TOKEN, associated_data="a")

    after = TokenCipher.from_spec(f"2026:{new_key},2025:{old_key}")
    assert after.current_key_id == "2026"
    assert after.open(sealed_before, associated_data="a") == TOKEN
    assert after.needs_rotation(sealed_before)
    resealed = after.seal(after.open(sealed_before, associated_data="a"), associated_data="a")
    assert key_id_of(resealed) == "2026"
    assert not after.needs_rotation(resealed)

    retired = TokenCipher.from_spec(f"2026:{new_key}")
    assert retired.open(resealed, associated_data="a") == TOKEN
    with pytest.raises(CryptoError, match="no key '2025'"):
        retired.open(sealed_before, associated_data="a")


def test_standard_and_padded_base64_keys_are_accepted() -> None:
    raw = os.urandom(32)
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        assert parse_keys(f"k:{encoded}")[0].key == raw


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "k1",
        f":{_key()}",
        "k1:not base64!",
        f"k1:{base64.b64encode(b'short').decode()}",
        f"k 1:{_key()}",
    ],
)
def test_malformed_key_specs_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError, match="key"):
        parse_keys(spec)


def test_a_key_id_cannot_be_listed_twice() -> None:
    with pytest.raises(ValueError, match="twice"):
        parse_keys(f"k1:{_key()},k1:{_key()}")


def test_key_material_never_appears_in_errors_or_reprs() -> None:
    key = _key()
    assert key not in repr(parse_keys(f"k1:{key}"))
    with pytest.raises(ValueError, match="32 bytes") as error:
        parse_keys(f"k1:{key[:-4]}")
    assert key[:-4] not in str(error.value)
