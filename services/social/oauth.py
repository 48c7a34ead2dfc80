"""Connecting an X account with OAuth 2.0 Authorization Code + PKCE (S256).

Start: a random `state` (stored hashed, 10 minutes, single use) and PKCE verifier (stored
encrypted) for the owner, and the authorization URL. Complete (public: the browser arrives
without an access token; the state names the owner): consume the state, exchange the code with
the verifier, check the granted scopes, read the account, subscribe it to the app's webhook, and
store the tokens encrypted, through the same connect path (plan limit, one account once) as
token-based platforms. With `integration_id` it re-authorises an existing integration instead.

VK's OAuth flow for community tokens is not offered: VK communities connect with a community
token (ConnectIntegration); StartIntegrationOAuth for `vk` answers UNSUPPORTED_PLATFORM.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.errors import ServiceError
from services.social import errors, oauth_repository, repository
from services.social.connect import ConnectOptions, IntegrationConnector, Prepared
from services.social.credentials import (
    Credentials,
    open_code_verifier,
    open_credentials,
    seal_code_verifier,
    seal_credentials,
)
from services.social.crypto import TokenCipher
from services.social.entitlements import Entitlements
from services.social.models import Integration
from services.social.oauth_repository import PendingOAuth
from services.social.platforms.types import (
    InvalidCredentialsError,
    InvalidPayloadError,
    PermanentError,
    PermissionMissingError,
    PlatformError,
)
from services.social.platforms.x import REQUIRED_SCOPES, SCOPES, OAuthClient, OAuthTokens, XClient

STATE_TTL = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class XOAuthConfig:
    client: OAuthClient
    authorize_url: str
    default_redirect_uri: str
    allowed_redirect_uris: tuple[str, ...]
    # X's id of the app's webhook, to subscribe each account to.
    api_webhook_id: str


@dataclass(frozen=True, slots=True)
class StartedOAuth:
    authorization_url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class StartRequest:
    owner_id: str
    platform: str
    redirect_uri: str
    display_name: str
    default_contact_policy: str
    integration_id: str | None


@dataclass(frozen=True, slots=True)
class CompleteRequest:
    platform: str
    code: str
    state: str
    error: str
    error_description: str

    def __repr__(self) -> str:
        return f"CompleteRequest(platform={self.platform!r})"


class OAuthConnector:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        cipher: TokenCipher,
        entitlements: Entitlements,
        connector: IntegrationConnector,
        x_client: XClient,
        x_config: XOAuthConfig | None,
    ) -> None:
        self._engine = engine
        self._cipher = cipher
        self._entitlements = entitlements
        self._connector = connector
        self._x = x_client
        self._config = x_config

    async def start(self, request: StartRequest) -> StartedOAuth:
        config = self._configured(request.platform)
        redirect_uri = request.redirect_uri or config.default_redirect_uri
        if redirect_uri not in (config.default_redirect_uri, *config.allowed_redirect_uris):
            raise ServiceError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "REDIRECT_URI_NOT_ALLOWED",
                "redirect_uri is not one of the deployment's redirect URIs for this platform",
            )
        async with self._engine.connect() as connection:
            if request.integration_id is not None:
                existing = await repository.get_integration(
                    connection, owner_id=request.owner_id, integration_id=request.integration_id
                )
                if existing is None or existing.platform != request.platform:
                    raise errors.integration_not_found()
            else:
                used = await repository.count_integrations(connection, owner_id=request.owner_id)
        if request.integration_id is None:
            limit = await self._entitlements.max_integrations(request.owner_id)
            if used >= limit:
                raise errors.integration_limit_reached(limit=limit, used=used)
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        state_hash = _hash(state)
        expires_at = datetime.now(UTC) + STATE_TTL
        async with self._engine.begin() as connection:
            await oauth_repository.insert_state(
                connection,
                pending=PendingOAuth(
                    state_hash=state_hash,
                    owner_id=request.owner_id,
                    platform=request.platform,
                    code_verifier_encrypted=seal_code_verifier(
                        self._cipher, state_hash=state_hash, verifier=verifier
                    ),
                    redirect_uri=redirect_uri,
                    display_name=request.display_name,
                    default_contact_policy=request.default_contact_policy,
                    integration_id=request.integration_id,
                ),
                expires_at=expires_at,
            )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": config.client.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(SCOPES),
                "state": state,
                "code_challenge": _challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        return StartedOAuth(f"{config.authorize_url}?{query}", state, expires_at)

    async def complete(self, request: CompleteRequest) -> tuple[Integration, bool]:
        config = self._configured(request.platform)
        state_hash = _hash(request.state)
        async with self._engine.begin() as connection:
            pending = await oauth_repository.consume_state(
                connection, state_hash=state_hash, platform=request.platform
            )
        if pending is None:
            raise errors.oauth_state_invalid()
        if request.error:
            raise errors.oauth_denied(request.error_description or request.error)
        if not request.code:
            raise errors.oauth_code_rejected("the redirect carries no code")
        verifier = open_code_verifier(
            self._cipher, state_hash=state_hash, sealed=pending.code_verifier_encrypted
        )
        tokens = await self._exchange(config, request.code, verifier, pending.redirect_uri)
        missing = tuple(scope for scope in REQUIRED_SCOPES if scope not in tokens.scopes)
        if tokens.scopes and missing:
            raise errors.platform_call_failed(
                PermissionMissingError(
                    f"the authorization lacks: {', '.join(missing)}", missing=missing
                )
            )
        try:
            account = await self._x.me(tokens.access_token)
        except (PlatformError, InvalidPayloadError) as error:
            raise _failure(error) from None
        credentials = Credentials(
            token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=tokens.expires_at,
        )
        if pending.integration_id is not None:
            return await self._reauthorise(pending, account.platform_account_id, credentials), False

        async def register(integration_id: str) -> Prepared:
            await self._subscribe(config, tokens.access_token)
            return Prepared(
                status="active",
                platform_username=account.username,
                platform_display_name=account.display_name,
                credentials=credentials,
                webhook_secret=None,
            )

        integration = await self._connector.connect(
            ConnectOptions(
                owner_id=pending.owner_id,
                request_id=None,
                display_name=pending.display_name,
                default_contact_policy=pending.default_contact_policy,
            ),
            platform="x",
            account_id=account.platform_account_id,
            register=register,
        )
        return integration, True

    async def _reauthorise(
        self, pending: PendingOAuth, account_id: str, credentials: Credentials
    ) -> Integration:
        config = self._configured(pending.platform)
        assert pending.integration_id is not None
        async with self._engine.begin() as connection:
            existing = await repository.lock_integration(
                connection, owner_id=pending.owner_id, integration_id=pending.integration_id
            )
            if existing is None:
                raise errors.integration_not_found()
            if existing.platform_account_id != account_id:
                raise errors.platform_call_failed(
                    PermanentError("the authorization is for another X account", status=400)
                )
            await self._subscribe(config, credentials.token)
            kept = open_credentials(self._cipher, existing)
            renewed = kept.with_tokens(
                token=credentials.token,
                refresh_token=credentials.refresh_token,
                expires_at=credentials.expires_at,
            )
            updated = await repository.update_integration(
                connection,
                owner_id=pending.owner_id,
                integration_id=existing.id,
                values={
                    "credentials_encrypted": seal_credentials(
                        self._cipher, integration_id=existing.id, credentials=renewed
                    ),
                    "credentials_key_id": self._cipher.current_key_id,
                    "credentials_expire_at": renewed.expires_at,
                    "status": "active",
                    "last_error": "",
                    "last_error_at": None,
                },
            )
        assert updated is not None
        return updated

    async def _exchange(
        self, config: XOAuthConfig, code: str, verifier: str, redirect_uri: str
    ) -> OAuthTokens:
        try:
            return await self._x.exchange_code(
                config.client, code=code, code_verifier=verifier, redirect_uri=redirect_uri
            )
        except (InvalidCredentialsError, PermanentError) as error:
            raise errors.oauth_code_rejected(error.description) from None
        except (PlatformError, InvalidPayloadError) as error:
            raise _failure(error) from None

    async def _subscribe(self, config: XOAuthConfig, token: str) -> None:
        try:
            await self._x.subscribe(token, webhook_id=config.api_webhook_id)
        except PlatformError as error:
            raise errors.platform_call_failed(error, webhook_setup=True) from None

    def _configured(self, platform: str) -> XOAuthConfig:
        if platform != "x" or self._config is None:
            raise errors.unsupported_platform(f"{platform} OAuth")
        return self._config


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _failure(error: PlatformError | InvalidPayloadError) -> ServiceError:
    if isinstance(error, InvalidPayloadError):
        return errors.platform_call_failed(PlatformError(f"unexpected answer: {error}"))
    return errors.platform_call_failed(error)
