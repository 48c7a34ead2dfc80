"""Sign-in with Google: OpenID Connect authorization code flow with PKCE.

Endpoints and signing keys come from the discovery document at runtime. The id_token from the
token endpoint is verified before anything in it is believed: RS256 signature by a key in the
provider's JWKS, `iss`, `aud` (and `azp` when there are several audiences), `exp`/`iat`, and
the `nonce` bound to this sign-in.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from services.auth.oauth.providers import (
    ProviderIdentity,
    ProviderRejectedError,
    ProviderUnavailableError,
    fetch_json,
    redeem_code,
)
from services.auth.oauth.state import PendingSignIn

SCOPE = "openid email profile"
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    fetched_at: float

    @property
    def accepted_issuers(self) -> tuple[str, ...]:
        # Google documents id_tokens with `iss` either `https://accounts.google.com` or
        # `accounts.google.com`.
        return (self.issuer, self.issuer.removeprefix("https://"))


class GoogleProvider:
    name = "google"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        client_id: str,
        client_secret: str,
        discovery_url: str,
        metadata_ttl_seconds: float,
    ) -> None:
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._discovery_url = discovery_url
        self._ttl = metadata_ttl_seconds
        self._metadata: ProviderMetadata | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def authorization_url(self, pending: PendingSignIn) -> str:
        metadata = await self._provider_metadata()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client_id,
                "redirect_uri": pending.redirect_uri,
                "scope": SCOPE,
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": pending.code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{metadata.authorization_endpoint}?{query}"

    async def identify(
        self, code: str, pending: PendingSignIn, *, callback_issuer: str
    ) -> ProviderIdentity:
        metadata = await self._provider_metadata()
        # RFC 9207: a redirect naming another issuer belongs to another provider (mix-up).
        if callback_issuer and callback_issuer not in metadata.accepted_issuers:
            raise ProviderRejectedError(f"redirect from issuer {callback_issuer!r}")
        tokens = await redeem_code(
            self._http,
            metadata.token_endpoint,
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": pending.code_verifier,
                "redirect_uri": pending.redirect_uri,
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            },
        )
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderRejectedError("no id_token in the token response")
        claims = await self._verified_claims(id_token, metadata, nonce=pending.nonce)
        email = claims.get("email")
        return ProviderIdentity(
            provider=self.name,
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) and email else None,
            # Older tokens carried the string "true".
            email_verified=claims.get("email_verified") in (True, "true"),
            display_name=str(claims.get("name") or ""),
        )

    async def _verified_claims(
        self, id_token: str, metadata: ProviderMetadata, *, nonce: str
    ) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
            key = await self._signing_key(header.get("kid"), metadata)
            claims = jwt.decode(
                id_token,
                key=key,
                algorithms=["RS256"],
                audience=self._client_id,
                issuer=metadata.accepted_issuers,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
            )
        except jwt.PyJWTError as error:
            raise ProviderRejectedError(f"id_token: {error}") from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self._client_id:
            raise ProviderRejectedError("id_token: azp is not this client")
        if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise ProviderRejectedError("id_token: nonce does not match this sign-in")
        return claims

    async def _provider_metadata(self) -> ProviderMetadata:
        async with self._lock:
            cached = self._metadata
            if cached is not None and time.monotonic() - cached.fetched_at < self._ttl:
                return cached
            self._metadata = await self._fetch_metadata()
            return self._metadata

    async def _fetch_metadata(self) -> ProviderMetadata:
        document = await fetch_json(self._http, self._discovery_url)
        issuer = document.get("issuer")
        # OIDC Discovery 4.3: the issuer is the discovery URL without its well-known suffix.
        if not isinstance(issuer, str) or issuer + DISCOVERY_SUFFIX != self._discovery_url:
            raise ProviderUnavailableError(f"discovery document names issuer {issuer!r}")
        try:
            return ProviderMetadata(
                issuer=issuer,
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
                fetched_at=time.monotonic(),
            )
        except KeyError as error:
            raise ProviderUnavailableError(f"discovery document lacks {error}") from error

    async def _signing_key(self, kid: object, metadata: ProviderMetadata) -> jwt.PyJWK:
        """The JWKS key named `kid`; an unknown kid refetches the set (the provider rotated)."""
        async with self._lock:
            stale = time.monotonic() - self._keys_fetched_at >= self._ttl
            if stale or kid not in self._keys:
                await self._fetch_keys(metadata)
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise jwt.InvalidKeyError(f"no key {kid!r} in the provider's JWKS")
        return key

    async def _fetch_keys(self, metadata: ProviderMetadata) -> None:
        document = await fetch_json(self._http, metadata.jwks_uri)
        try:
            key_set = jwt.PyJWKSet.from_dict(document)
        except jwt.PyJWTError as error:
            raise ProviderUnavailableError(f"JWKS: {error}") from error
        self._keys = {key.key_id: key for key in key_set.keys if key.key_id}
        self._keys_fetched_at = time.monotonic()
