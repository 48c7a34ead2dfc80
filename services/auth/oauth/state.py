"""Sign-ins in progress: `state`, PKCE verifier and OIDC nonce, kept in Redis.

A state lives `ttl` seconds and is spent by the first callback that presents it (GETDEL), so a
replayed redirect finds nothing. Only the SHA-256 of the state names the key: reading Redis is
not enough to complete someone else's sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

KEY_PREFIX = "auth:oauth:state:"


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    state: str
    provider: str
    redirect_uri: str
    code_verifier: str
    nonce: str

    @classmethod
    def create(cls, *, provider: str, redirect_uri: str) -> PendingSignIn:
        return cls(
            state=secrets.token_urlsafe(32),
            provider=provider,
            redirect_uri=redirect_uri,
            # RFC 7636: 43 to 128 unreserved characters; 64 random bytes give 86.
            code_verifier=secrets.token_urlsafe(64),
            nonce=secrets.token_urlsafe(32),
        )

    @property
    def code_challenge(self) -> str:
        """S256: BASE64URL(SHA256(verifier)) without padding."""
        digest = hashlib.sha256(self.code_verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def state_key(state: str) -> str:
    return KEY_PREFIX + hashlib.sha256(state.encode()).hexdigest()


class OAuthStates:
    def __init__(self, redis: Redis, *, ttl_seconds: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds

    async def save(self, pending: PendingSignIn) -> None:
        await self._redis.set(
            state_key(pending.state), json.dumps(asdict(pending)), ex=self._ttl, nx=True
        )

    async def consume(self, state: str) -> PendingSignIn | None:
        raw = await self._redis.getdel(state_key(state))
        if raw is None:
            return None
        return PendingSignIn(**json.loads(raw))
