"""Secrets at rest (tool headers, signing keys, MCP auth, workspace tokens): AES-256-GCM with
the key id in front, so keys rotate; associated data binds a sealed value to its row."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.agent import errors

_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_NONCE = 12


class SecretBox:
    """Seals with the first configured key; opens with any of them."""

    def __init__(self, spec: str | None) -> None:
        self._keys: dict[str, AESGCM] = {}
        self._current: str | None = None
        for index, item in enumerate(p.strip() for p in (spec or "").split(",") if p.strip()):
            key_id, sep, encoded = item.partition(":")
            if not sep or not _KEY_ID.match(key_id):
                raise ValueError(f"secret key #{index + 1}: expected `kid:base64key`")
            try:
                standard = encoded.replace("-", "+").replace("_", "/")
                key = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"secret key {key_id!r}: not valid base64") from None
            if len(key) != 32:
                raise ValueError(f"secret key {key_id!r}: must decode to 32 bytes")
            self._keys[key_id] = AESGCM(key)
            self._current = self._current or key_id

    @property
    def configured(self) -> bool:
        return self._current is not None

    def seal(self, value: dict[str, Any], *, bound_to: str) -> bytes:
        if self._current is None:
            raise errors.secrets_not_configured()
        key_id = self._current.encode()
        nonce = os.urandom(_NONCE)
        body = self._keys[self._current].encrypt(
            nonce, json.dumps(value).encode(), bound_to.encode()
        )
        return bytes([len(key_id)]) + key_id + nonce + body

    def open(self, sealed: bytes | None, *, bound_to: str) -> dict[str, Any]:
        if not sealed:
            return {}
        length = sealed[0]
        key_id = sealed[1 : 1 + length].decode("ascii", errors="replace")
        nonce = sealed[1 + length : 1 + length + _NONCE]
        aead = self._keys.get(key_id)
        if aead is None:
            raise errors.secrets_not_configured()
        try:
            plain = aead.decrypt(nonce, sealed[1 + length + _NONCE :], bound_to.encode())
        except InvalidTag:
            raise errors.failed_precondition(
                "SECRET_UNREADABLE", "a stored secret cannot be opened with the configured keys"
            ) from None
        loaded: dict[str, Any] = json.loads(plain)
        return loaded
