"""ES256 signing keys: created and stored encrypted, published as a JWKS, rotated safely.

A new key is published (in the JWKS) before it signs: it becomes active only at `activate_at`,
after every edge has had time to fetch it. A retired key stays published until the last access
token it signed has expired.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    activate_at: datetime


class KeyCipher:
    """AES-256-GCM over a private key's PEM; the nonce is stored in front of the ciphertext."""

    def __init__(self, encoded_key: str) -> None:
        key = base64.urlsafe_b64decode(encoded_key + "=" * (-len(encoded_key) % 4))
        if len(key) != 32:
            raise ValueError("key_encryption_key must decode to 32 bytes")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, associated: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, associated)

    def decrypt(self, blob: bytes, associated: bytes) -> bytes:
        return self._aead.decrypt(blob[:12], blob[12:], associated)

    @classmethod
    def derived(cls, encoded_key: str, purpose: str) -> KeyCipher:
        """A cipher under a subkey of `encoded_key` (HKDF-SHA256), one per purpose, so data
        encrypted for one use can never be decrypted as another's."""
        master = base64.urlsafe_b64decode(encoded_key + "=" * (-len(encoded_key) % 4))
        subkey = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
        return cls(base64.urlsafe_b64encode(subkey.derive(master)).decode())


def new_key(activate_at: datetime) -> SigningKey:
    return SigningKey(
        kid=uuid.uuid4().hex[:16],
        private_key=ec.generate_private_key(ec.SECP256R1()),
        activate_at=activate_at,
    )


def private_pem(key: SigningKey) -> bytes:
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("signing key is not an EC key")
    return key


def public_jwk(key: SigningKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(
        jwt.algorithms.ECAlgorithm.to_jwk(key.private_key.public_key())
    )
    jwk.update({"kid": key.kid, "use": "sig", "alg": "ES256"})
    return jwk


def jwks_document(public_jwks: list[dict[str, Any]]) -> bytes:
    return json.dumps({"keys": public_jwks}, separators=(",", ":")).encode()


def retire_horizon(now: datetime, access_token_ttl: timedelta) -> datetime:
    """Keys retired before this moment signed nothing still valid: they can leave the JWKS."""
    return now - access_token_ttl - timedelta(minutes=1)
