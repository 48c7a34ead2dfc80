"""Credentials at rest: AES-256-GCM with a key id in front of every ciphertext, so keys rotate.

A sealed value is `kid_len (1 byte) | kid | nonce (12 bytes) | ciphertext+tag`. The first
configured key seals; every configured key opens, so a new key is rolled out by prepending it and
the old one is dropped once `needs_rotation` is false for every stored value. Associated data binds
a ciphertext to its row and purpose, so a sealed token cannot be swapped into another integration.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_NONCE_BYTES = 12
_KEY_BYTES = 32


class CryptoError(Exception):
    """A sealed value cannot be opened (unknown key id, tampered, or bound to other data)."""


@dataclass(frozen=True, slots=True)
class EncryptionKey:
    key_id: str
    key: bytes

    def __repr__(self) -> str:
        return f"EncryptionKey(key_id={self.key_id!r}, key=<redacted>)"


def parse_keys(spec: str) -> list[EncryptionKey]:
    """Parse `kid:base64key[,kid:base64key]` (standard or URL-safe base64, padding optional).

    Raises ValueError without echoing key material."""
    keys: list[EncryptionKey] = []
    for index, item in enumerate(part.strip() for part in spec.split(",")):
        key_id, sep, encoded = item.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise ValueError(f"encryption key #{index + 1}: expected `kid:base64key`")
        try:
            standard = encoded.strip().replace("-", "+").replace("_", "/")
            key = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"encryption key {key_id!r}: not valid base64") from None
        if len(key) != _KEY_BYTES:
            raise ValueError(f"encryption key {key_id!r}: must decode to {_KEY_BYTES} bytes")
        if any(k.key_id == key_id for k in keys):
            raise ValueError(f"encryption key {key_id!r}: listed twice")
        keys.append(EncryptionKey(key_id, key))
    if not keys:
        raise ValueError("at least one encryption key is required")
    return keys


class TokenCipher:
    """Seals and opens credentials with the configured keys."""

    def __init__(self, keys: Sequence[EncryptionKey]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._current = keys[0]
        self._aead = {k.key_id: AESGCM(k.key) for k in keys}

    @classmethod
    def from_spec(cls, spec: str) -> TokenCipher:
        return cls(parse_keys(spec))

    @property
    def current_key_id(self) -> str:
        return self._current.key_id

    def seal(self, plaintext: str, *, associated_data: str) -> bytes:
        key_id = self._current.key_id.encode()
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = self._aead[self._current.key_id].encrypt(
            nonce, plaintext.encode(), associated_data.encode()
        )
        return bytes([len(key_id)]) + key_id + nonce + ciphertext

    def open(self, sealed: bytes, *, associated_data: str) -> str:
        key_id, nonce, ciphertext = _split(sealed)
        aead = self._aead.get(key_id)
        if aead is None:
            raise CryptoError(f"no key {key_id!r} configured")
        try:
            return aead.decrypt(nonce, ciphertext, associated_data.encode()).decode()
        except InvalidTag:
            raise CryptoError("ciphertext does not verify") from None

    def needs_rotation(self, sealed: bytes) -> bool:
        """Whether the value was sealed with a key other than the current one."""
        return key_id_of(sealed) != self._current.key_id


def key_id_of(sealed: bytes) -> str:
    return _split(sealed)[0]


def _split(sealed: bytes) -> tuple[str, bytes, bytes]:
    if not sealed:
        raise CryptoError("empty sealed value")
    length = sealed[0]
    body_start = 1 + length + _NONCE_BYTES
    if length == 0 or len(sealed) < body_start + 16:
        raise CryptoError("sealed value is truncated")
    try:
        key_id = sealed[1 : 1 + length].decode("ascii")
    except UnicodeDecodeError:
        raise CryptoError("sealed value has a malformed key id") from None
    return key_id, sealed[1 + length : body_start], sealed[body_start:]
