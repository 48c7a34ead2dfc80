"""Access tokens (ES256 JWTs) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from services.auth.keys import SigningKey


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_at: datetime


def issue_access_token(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    user_id: str,
    plan: str,
    session_id: str,
    ttl: timedelta,
    now: datetime | None = None,
) -> AccessToken:
    issued = now or datetime.now(UTC)
    expires = issued + ttl
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": user_id,
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
        "sid": session_id,
        "plan": plan,
    }
    token = jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid})
    return AccessToken(token, expires)


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> bytes:
    # The token has 256 bits of entropy, so a fast hash is enough (no brute force to slow down).
    return hashlib.sha256(token.encode()).digest()
